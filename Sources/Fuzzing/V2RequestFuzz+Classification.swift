import ModelServer

extension V2RequestFuzz {
    /// Every FP32 input classified with each `classification` count the request's outputs ask for, as if it were
    /// the output (`V2Classification.classify`): BYTES of the input's shape with the last dimension
    /// `min(K, classes)`, that many strings per row, each `value:index` (no labels). Counts the reader let through
    /// are at least 1.
    static func checkClassification(_ request: V2InferenceRequest) {
        for count in (request.outputs ?? []).compactMap(\.classification) {
            Invariant.require(count >= 1, "the reader let classification \(count) through")
            for tensor in request.inputs {
                guard case .floats = tensor.data, let classes = tensor.shape.last,
                      let classified = try? V2Classification.classify(tensor, count: count, labels: .none),
                      case .bytes(let strings) = classified.data else { continue }
                let kept = min(count, classes)
                Invariant.require(classified.datatype == "BYTES" && classified.shape == tensor.shape.dropLast() + [kept],
                                  "\(tensor.shape) classified by \(count) has shape \(classified.shape)")
                let rows = classes == 0 ? 0 : tensor.data.count / classes
                Invariant.require(strings.count == rows * kept, "\(rows) rows of \(kept) gave \(strings.count) strings")
                Invariant.require(strings.strings.allSatisfy { $0.split(separator: ":").count == 2 },
                                  "a classification string is not value:index: \(strings.strings.prefix(4))")
            }
        }
    }
}

/// Many requests in one forward pass (issue #4): each request is preprocessed and its queries built on its
/// own, so a bad request fails alone; the rest are padded into one batch (inputs to the longest M with
/// masked keys, queries to the largest O with rows that are dropped afterwards), run once, and split back.
///
/// Padding is invisible to each request: padded keys get the same `finfo.min` bias `transformers` uses for
/// its own padding, so their softmax weight is exactly 0, and query rows never see each other
/// (PERCEIVER.md B.13). Results equal running each request alone up to the summation order of the longer
/// reductions (max abs <= 1e-5 in the tests).
extension PerceiverModel {
    /// Rows (B) of a request: the batch dimension of its first input in `inputSpecs` order (the model's main
    /// inputs come first, output selections last), 1 when it has none yet. The scheduler counts
    /// `max_batch_size` in these.
    public func rowCount(of inputs: ModelInputs) -> Int {
        let first = inputSpecs.lazy.compactMap { inputs[$0.name]?.shape.first }.first
        return max(1, first ?? 1)
    }

    /// One request, ready to join a batch: its encoder input and its queries.
    struct BatchItem {
        let index: Int
        let prepared: PreparedInputs
        let queries: PerceiverDecoder.Queries

        /// Whether some row masks every key. Alone, such a row attends uniformly to its own keys; padded, it
        /// would attend to the padding too, so it runs in a pass of its own.
        var masksARowEntirely: Bool {
            guard let bias = prepared.keyBias else { return false }
            let m = prepared.rows
            return (0..<prepared.batch).contains { b in
                bias[(b * m)..<((b + 1) * m)].allSatisfy { $0 != 0 }
            }
        }
    }

    /// Runs `items` in as few forward passes as possible on `context` (one, unless some fail validation or
    /// mask a row entirely) and returns each one's outputs or error, in order.
    func forward(batch items: [ModelInputs], context: ComputeContext) -> [Result<ModelOutputs, InferenceError>] {
        // Multimodal requests each decode several modalities from generated queries: one pass per request.
        if multimodal != nil {
            return items.map { inputs in
                Result { () throws(InferenceError) -> ModelOutputs in try forward(inputs, context: context) }
            }
        }
        var results = [Result<ModelOutputs, InferenceError>?](repeating: nil, count: items.count)
        var shared: [BatchItem] = []
        var solo: [BatchItem] = []
        for (index, inputs) in items.enumerated() {
            do throws(InferenceError) {
                let prepared = try preprocessor(inputs, context: context)
                let item = BatchItem(index: index, prepared: prepared,
                                     queries: try decoder.queries(for: inputs, prepared: prepared))
                if item.masksARowEntirely { solo.append(item) } else { shared.append(item) }
            } catch {
                results[index] = .failure(error)
            }
        }
        var passes = solo.map { [$0] }
        passes += Self.groupByPaddedCost(shared, latents: encoder.numLatents)
        for pass in passes {
            do throws(InferenceError) {
                let outputs = try run(pass, context: context)
                for (item, output) in zip(pass, outputs) { results[item.index] = .success(output) }
            } catch {
                for item in pass { results[item.index] = .failure(error) }
            }
        }
        return results.map { $0! }
    }

    /// Splits `items` into passes whose padding at most doubles their work, so one long input or one request
    /// for many output points does not make every other request in the batch pay for its size. Work per row
    /// is taken as M + O + N (encoder keys, decoder queries, latents); items are taken shortest first.
    static func groupByPaddedCost(_ items: [BatchItem], latents: Int) -> [[BatchItem]] {
        let sorted = items.sorted { ($0.prepared.rows + $0.queries.count) < ($1.prepared.rows + $1.queries.count) }
        var groups: [[BatchItem]] = []
        var current: [BatchItem] = []
        var (rows, maxM, maxO, unpadded) = (0, 0, 0, 0)
        for item in sorted {
            let (b, m, o) = (item.prepared.batch, item.prepared.rows, item.queries.count)
            let newMaxM = max(maxM, m), newMaxO = max(maxO, o)
            let padded = (rows + b) * (newMaxM + newMaxO + latents)
            let own = unpadded + b * (m + o + latents)
            if !current.isEmpty && padded > 2 * own {
                groups.append(current)
                current = []
                (rows, maxM, maxO, unpadded) = (0, 0, 0, 0)
            }
            current.append(item)
            rows += b
            maxM = max(maxM, m)
            maxO = max(maxO, o)
            unpadded += b * (m + o + latents)
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }

    /// One forward pass over `items` (one or more), each item's outputs in order.
    private func run(_ items: [BatchItem], context: ComputeContext) throws(InferenceError) -> [ModelOutputs] {
        if items.count == 1 {
            let item = items[0]
            return [ModelOutputs(logits: try forward(item.prepared, queries: item.queries, context: context))]
        }
        let prepared = Self.padInputs(items.map(\.prepared))
        let queries = Self.padQueries(items.map(\.queries), channels: decoder.queryChannels)
        let logits = try forward(prepared, queries: queries, context: context)
        // logits is (B, O_max, C); each item keeps its own rows and its first O_i queries of each.
        let channels = postprocessor.channels(decoded: decoder.outputChannels)
        var outputs: [ModelOutputs] = []
        var row = 0
        for item in items {
            let count = item.queries.count
            var scalars: [Float] = []
            scalars.reserveCapacity(item.prepared.batch * count * channels)
            for b in row..<(row + item.prepared.batch) {
                let start = b * queries.count * channels
                scalars.append(contentsOf: logits.scalars[start..<(start + count * channels)])
            }
            row += item.prepared.batch
            let shape = postprocessor.shape(batch: item.prepared.batch, queries: item.queries, channels: channels)
            outputs.append(ModelOutputs(logits: Tensor(shape: shape, scalars: scalars)))
        }
        return outputs
    }

    /// `(B_i, M_i, C)` arrays stacked into `(sum B_i, max M_i, C)`, zero rows where an item is shorter, with a
    /// key bias that masks those rows (nil when nothing is masked).
    static func padInputs(_ parts: [PreparedInputs]) -> PreparedInputs {
        let rows = parts.map(\.rows).max()!
        let channels = parts[0].channels
        let batch = parts.map(\.batch).reduce(0, +)
        let needsBias = parts.contains { $0.rows != rows || $0.keyBias != nil }
        var values = [Float](repeating: 0, count: batch * rows * channels)
        var bias = needsBias ? [Float](repeating: -Float.greatestFiniteMagnitude, count: batch * rows) : nil
        var b0 = 0
        for part in parts {
            for b in 0..<part.batch {
                let src = b * part.rows
                let dst = (b0 + b) * rows
                values.replaceSubrange((dst * channels)..<((dst + part.rows) * channels),
                                       with: part.values[(src * channels)..<((src + part.rows) * channels)])
                if needsBias {
                    let own = part.keyBias?[src..<(src + part.rows)] ?? ArraySlice(repeating: 0, count: part.rows)
                    bias!.replaceSubrange(dst..<(dst + part.rows), with: own)
                }
            }
            b0 += part.batch
        }
        return PreparedInputs(batch: batch, rows: rows, channels: channels, values: values, keyBias: bias)
    }

    /// `(B_i, O_i, E)` queries stacked into `(sum B_i, max O_i, E)`; the padding rows are zero and their
    /// outputs are dropped.
    static func padQueries(_ parts: [PerceiverDecoder.Queries], channels e: Int) -> PerceiverDecoder.Queries {
        let count = parts.map(\.count).max()!
        var values: [Float] = []
        for part in parts {
            let batch = part.values.count / (part.count * e)
            for b in 0..<batch {
                let start = b * part.count * e
                values.append(contentsOf: part.values[start..<(start + part.count * e)])
                values.append(contentsOf: repeatElement(0, count: (count - part.count) * e))
            }
        }
        return PerceiverDecoder.Queries(values: values, count: count, isDefault: false, channels: e)
    }
}

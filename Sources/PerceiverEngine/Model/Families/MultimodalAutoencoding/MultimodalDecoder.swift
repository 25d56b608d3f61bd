/// `PerceiverMultimodalDecoder` with `PerceiverMultimodalPostprocessor` (docs/reference/perceiver.md A.7, B.7, B.10).
///
/// Each modality's queries are generated from the output points a request names (per-modality
/// `output_positions_*`, flat indices; default: every point), padded to the common query width with a
/// trainable vector, and decoded by one shared cross-attention decoder against the latents, whose keys and
/// values are projected once per request. `transformers` concatenates the modalities' queries into one
/// decoder call; rows are independent, so decoding modality by modality, a chunk at a time, gives the same
/// rows, without ever holding the 802,816 image queries of the published model at once.
///
/// Queries: audio = Fourier features (192 bands, max_resolution S_total) of `-1 + 2·idx/P_audio`;
/// image = Fourier features (32 bands, max_resolution (num_frames, image_size, image_size)) of the unravelled
/// index over `output_shape[1:4]`; label = one trainable row.
struct MultimodalDecoder: Sendable {
    var shared: PerceiverDecoder                 // decoder.decoder: layer + final_layer (E -> output_num_channels)
    let audioPoints: Int                         // num_frames·audio_samples_per_frame / samples_per_patch
    let imageDims: [Int]                         // output_shape[1:4], (T, H, W)
    let audioMaxResolution: [Int]
    let imageMaxResolution: [Int]
    let labelQuery: WeightTensor                 // (1, _label_trainable_num_channels)
    let padding: [Modality: WeightTensor]        // (1, E - C_modality) decoder.padding.*
    let heads: [Modality: LinearWeights]         // output_postprocessor.modalities.*.classifier
    let samplesPerPatch: Int

    static let audioBands = 192
    static let imageBands = 32
    static let minPaddingSize = 2

    init(_ source: WeightSource, config: PerceiverConfig) throws(ModelLoadError) {
        guard config.outputShape.count == 4 else {
            throw ModelLoadError.invalidConfig(key: "output_shape", reason: "expected [batch, frames, height, width]")
        }
        let samples = config.numFrames * config.audioSamplesPerFrame
        samplesPerPatch = config.samplesPerPatch
        audioPoints = samples / config.samplesPerPatch
        guard audioPoints >= 1 else {
            throw ModelLoadError.invalidConfig(key: "samples_per_patch", reason: "more than num_frames·audio_samples_per_frame")
        }
        imageDims = Array(config.outputShape[1...])
        audioMaxResolution = [samples]
        imageMaxResolution = [config.numFrames, config.imageSize, config.imageSize]
        let widths: [Modality: Int] = [
            .audio: FourierFeatures.outputSize(dims: 1, numBands: Self.audioBands, concatPos: true, sineOnly: false),
            .image: FourierFeatures.outputSize(dims: 3, numBands: Self.imageBands, concatPos: true, sineOnly: false),
            .label: config.labelTrainableNumChannels,
        ]
        let e = widths.values.max()! + Self.minPaddingSize
        typealias Names = MultimodalAutoencodingFamily.Names
        labelQuery = try source.tensor(Names.labelQuery, shape: [1, config.labelTrainableNumChannels])
        var padding: [Modality: WeightTensor] = [:]
        var heads: [Modality: LinearWeights] = [:]
        let outputs: [Modality: Int] = [.audio: config.samplesPerPatch, .image: 3, .label: config.numLabels]
        for modality in Modality.allCases {
            padding[modality] = try source.tensor(Names.queryPadding(modality), shape: [1, e - widths[modality]!])
            heads[modality] = try LinearWeights(source, Names.head(modality), in: config.outputNumChannels,
                                                out: outputs[modality]!)
        }
        self.padding = padding
        self.heads = heads
        shared = PerceiverDecoder(
            queryTable: nil, queryChannels: e,
            layer: try PerceiverLayer(source, Names.decoderAttention, .init(
                isCross: true, queryDim: e, keyValueDim: config.dLatents, qkChannels: nil, vChannels: nil,
                heads: 1, wideningFactor: 1, useQueryResidual: false)),
            finalLayer: try LinearWeights(source, Names.finalLayer, in: e, out: config.outputNumChannels),
            defaultQueries: .generated)
    }

    /// Output points per batch element of each modality.
    func pointCount(_ modality: Modality) -> Int {
        switch modality {
        case .audio: return audioPoints
        case .image: return imageDims.reduce(1, *)
        case .label: return 1
        }
    }

    var outputSpecs: [TensorSpec] {
        [TensorSpec(name: "audio", datatypes: ["FP32"], shape: [-1, -1], isOptional: false),
         TensorSpec(name: "image", datatypes: ["FP32"], shape: [-1, -1, 3], isOptional: false),
         TensorSpec(name: "label", datatypes: ["FP32"], shape: [-1, heads[.label]!.outFeatures], isOptional: false)]
    }

    var inputSpecs: [TensorSpec] {
        Modality.allCases.map {
            TensorSpec(name: $0.positionsName, datatypes: ["INT64", "INT32"], shape: [-1, -1], isOptional: true)
        }
    }

    /// Decodes every modality of `inputs` against the latents `z (B, N, D)`.
    func callAsFunction(_ inputs: ModelInputs, latents z: [Float], batch: Int, latentRows: Int, chunkRows: Int,
                        context: ComputeContext) throws(InferenceError) -> ModelOutputs {
        let indices = try outputIndices(inputs, batch: batch)
        let kv = try shared.layer.project(z, batch: batch, rows: latentRows, bias: nil, context: context)
        var named: [NamedTensor] = []
        for modality in Modality.allCases {
            let (points, count) = indices[modality]!
            let source = ModalityQueries(decoder: self, modality: modality, indices: points, count: count)
            let head = ProjectionHead(head: heads[modality]!)
            let values = try shared.decode(source, keyValues: kv, chunkRows: chunkRows, head: head, context: context)
            let width = heads[modality]!.outFeatures
            let shape: [Int]
            switch modality {
            case .audio: shape = [batch, count * width]                          // reshape(B, -1)
            case .image: shape = [batch, count, width]
            case .label: shape = inputs.modalityPositions[.label] == nil ? [batch, width] : [batch, count, width]
            }
            named.append(NamedTensor(name: modality.rawValue, tensor: Tensor(shape: shape, scalars: values)))
        }
        return ModelOutputs(named: named)
    }

    /// Each modality's `(B, K)` flat output indices, validated; every point when the request names none.
    private func outputIndices(_ inputs: ModelInputs,
                               batch: Int) throws(InferenceError) -> [Modality: (values: [Int], count: Int)] {
        var result: [Modality: (values: [Int], count: Int)] = [:]
        for modality in Modality.allCases {
            let total = pointCount(modality)
            guard let positions = inputs.modalityPositions[modality] else {
                result[modality] = (Array(0..<total), total)
                continue
            }
            let name = modality.positionsName
            guard positions.shape.count == 2, positions.shape[0] == batch else {
                throw InferenceError.badShape(tensor: name, expected: "(\(batch), K)", actual: positions.shape)
            }
            if let bad = positions.values.first(where: { $0 < 0 || $0 >= total }) {
                throw InferenceError.badValue(tensor: name, reason: "position \(bad) is outside 0..<\(total)")
            }
            result[modality] = (positions.values, positions.shape[1])
        }
        return result
    }

    /// One modality's queries, generated a chunk at a time: position features (or the label row) followed by
    /// the modality's padding.
    struct ModalityQueries: QuerySource {
        let decoder: MultimodalDecoder
        let modality: Modality
        /// `(B, K)` flat indices, or `(K)` shared by every batch element.
        let indices: [Int]
        let count: Int

        func rows(batches: Range<Int>, range: Range<Int>) -> [Float] {
            let padding = decoder.padding[modality]!
            var out: [Float] = []
            for b in batches {
                let start = indices.count == count ? 0 : b * count
                let points = Array(indices[(start + range.lowerBound)..<(start + range.upperBound)])
                let features = decoder.features(modality, points: points)
                let width = features.count / max(1, points.count)
                for r in 0..<points.count {
                    out.append(contentsOf: features[(r * width)..<((r + 1) * width)])
                    out.append(contentsOf: UnsafeBufferPointer(start: padding.data, count: padding.count))
                }
            }
            return out
        }
    }

    /// The unpadded query rows of `points` of `modality`: `(K, C_modality)`.
    func features(_ modality: Modality, points: [Int]) -> [Float] {
        switch modality {
        case .label:
            return points.flatMap { _ in UnsafeBufferPointer(start: labelQuery.data, count: labelQuery.count) }
        case .audio, .image:
            let dims = modality == .audio ? [audioPoints] : imageDims
            let maxResolution = modality == .audio ? audioMaxResolution : imageMaxResolution
            // Indices were validated against the grid, so this cannot throw.
            let positions = (try? FourierFeatures.subsampledPositions(flatIndices: points, indexDims: dims)) ?? []
            return FourierFeatures.fourierFeatures(
                positions: positions, count: points.count, dims: dims.count, maxResolution: maxResolution,
                numBands: modality == .audio ? Self.audioBands : Self.imageBands, concatPos: true, sineOnly: false)
        }
    }
}

/// Many requests in one forward pass (issue #4): each request is preprocessed and its queries built on its
/// own, so a bad request fails alone; the rest are padded into one batch (inputs to the longest M with
/// masked keys, queries to the largest O with rows that are dropped afterwards), run once, and split back.
///
/// Padding is invisible to each request: padded keys get the same `finfo.min` bias `transformers` uses for
/// its own padding, so their softmax weight is exactly 0, and query rows never see each other
/// (docs/reference/perceiver.md B.13). Results equal running each request alone up to the summation order of the longer
/// reductions (max abs <= 1e-5 in the tests).
extension PerceiverModel {
    /// Rows (B) of a request: the batch dimension of its first input in `inputSpecs` order (the model's main
    /// inputs come first, output selections last), 1 when it has none yet. The scheduler counts
    /// `max_batch_size` in these.
    public func rowCount(of inputs: ModelInputs) -> Int {
        let first = inputSpecs.lazy.compactMap { inputs[$0.name]?.shape.first }.first
        return max(1, first ?? 1)
    }

    /// One request, ready to join a batch: its encoder input (nil when its latents are given) or its latents,
    /// and its queries.
    struct BatchItem {
        let index: Int
        /// B
        let batch: Int
        let prepared: PreparedInputs?
        let latents: Latents?
        let queries: PerceiverDecoder.Queries
        /// The preprocessed rows rebuilt on demand, for the latents a cache keeps.
        let rows: (any PreparedRows)?

        /// Whether some row masks every key. Alone, such a row attends uniformly to its own keys; padded, it
        /// would attend to the padding too, so it runs in a pass of its own.
        var masksARowEntirely: Bool {
            guard let prepared, let bias = prepared.keyBias else { return false }
            let m = prepared.rows
            return (0..<prepared.batch).contains { b in
                bias[(b * m)..<((b + 1) * m)].allSatisfy { $0 != 0 }
            }
        }

        /// Encoder rows (M, 0 with latents), decoder queries and latents: the work of one of its rows.
        func cost(latents: Int) -> Int { (prepared?.rows ?? 0) + queries.count + latents }
    }

    /// Runs `items` in as few forward passes as possible on `context` (one, unless some fail validation or
    /// mask a row entirely) and returns each one's outputs or error, in order.
    func forward(batch items: [ModelInputs], context: ComputeContext) -> [Result<ModelOutputs, InferenceError>] {
        forward(batch: items.map { PassRequest(inputs: $0) }, context: context).map { $0.map(\.outputs) }
    }

    /// Runs requests, some with latents already encoded, in as few forward passes as possible: the encoder
    /// over the padded inputs of those without, the decoder over every one's queries against all the latents.
    func forward(batch requests: [PassRequest], context: ComputeContext) -> [Result<PassResult, InferenceError>] {
        // Multimodal requests each decode several modalities from generated queries: one pass per request.
        if multimodal != nil {
            return requests.map { request in
                Result { () throws(InferenceError) -> PassResult in try forward(request, context: context) }
            }
        }
        var results = [Result<PassResult, InferenceError>?](repeating: nil, count: requests.count)
        var shared: [BatchItem] = []
        var solo: [BatchItem] = []
        for (index, request) in requests.enumerated() {
            do throws(InferenceError) {
                let item = try batchItem(index, request, context: context)
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

    /// One request alone (the multimodal family): encode unless its latents are given, then decode.
    private func forward(_ request: PassRequest, context: ComputeContext) throws(InferenceError) -> PassResult {
        let latents: Latents
        if let given = try self.latents(of: request) {
            try checkShape(of: given)
            latents = given
        } else {
            latents = try encode(request.inputs, context: context)
        }
        let outputs = try decode(latents, request.inputs, context: context)
        let encoded = request.latents == nil && request.inputs["latents"] == nil
        return PassResult(outputs: outputs, latents: encoded ? latents.keepingOnlyInputs() : nil)
    }

    /// A request's latents: encoded already, or its `latents` input; nil when it needs the encoder.
    private func latents(of request: PassRequest) throws(InferenceError) -> Latents? {
        if let latents = request.latents { return latents }
        return try givenLatents(request.inputs)
    }

    /// Preprocesses a request (unless its latents are given) and builds its queries.
    private func batchItem(_ index: Int, _ request: PassRequest,
                           context: ComputeContext) throws(InferenceError) -> BatchItem {
        if let latents = try latents(of: request) {
            try checkShape(of: latents)
            let queries = try decoder.queries(for: request.inputs, side: latents.side, batch: latents.batch,
                                              context: context)
            return BatchItem(index: index, batch: latents.batch, prepared: nil, latents: latents, queries: queries,
                             rows: nil)
        }
        let prepared = try preprocessor(request.inputs, context: context)
        let source = preprocessor.rowSource(request.inputs)
        let side = InputSide(rowCount: prepared.rows, rows: source.map { HeldRows(prepared: prepared, rebuild: $0) })
        let queries = try decoder.queries(for: request.inputs, side: side, batch: prepared.batch, context: context)
        return BatchItem(index: index, batch: prepared.batch, prepared: prepared, latents: nil, queries: queries,
                         rows: source)
    }

    /// Splits `items` into passes whose padding at most doubles their work, so one long input or one request
    /// for many output points does not make every other request in the batch pay for its size. Work per row
    /// is taken as M + O + N (encoder keys, decoder queries, latents; no M for given latents); items are taken
    /// shortest first.
    static func groupByPaddedCost(_ items: [BatchItem], latents: Int) -> [[BatchItem]] {
        let sorted = items.sorted { $0.cost(latents: latents) < $1.cost(latents: latents) }
        var groups: [[BatchItem]] = []
        var current: [BatchItem] = []
        var (rows, encoded, maxM, maxO, unpadded) = (0, 0, 0, 0, 0)
        for item in sorted {
            let (b, m, o) = (item.batch, item.prepared?.rows ?? 0, item.queries.count)
            let newEncoded = encoded + (item.prepared == nil ? 0 : b)
            let newMaxM = max(maxM, m), newMaxO = max(maxO, o)
            let padded = newEncoded * newMaxM + (rows + b) * (newMaxO + latents)
            let own = unpadded + b * item.cost(latents: latents)
            if !current.isEmpty && padded > 2 * own {
                groups.append(current)
                current = []
                (rows, encoded, maxM, maxO, unpadded) = (0, 0, 0, 0, 0)
            }
            current.append(item)
            rows += b
            encoded += item.prepared == nil ? 0 : b
            maxM = max(maxM, m)
            maxO = max(maxO, o)
            unpadded += b * item.cost(latents: latents)
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }

    /// One forward pass over `items` (one or more): the encoder over those without latents, the decoder over
    /// all of them; each item's outputs, and the latents of those that were encoded.
    private func run(_ items: [BatchItem], context: ComputeContext) throws(InferenceError) -> [PassResult] {
        let encoded = items.filter { $0.prepared != nil }
        var fresh: [Float] = []
        if !encoded.isEmpty {
            let parts = encoded.compactMap(\.prepared)
            fresh = try encode(parts.count == 1 ? parts[0] : Self.padInputs(parts), context: context)
        }
        // Every item's latents, in item order: given, or its rows of the fresh ones.
        let size = encoder.numLatents * encoder.latentChannels
        var z: [Float] = []
        var own: [Latents?] = []
        var next = 0
        for item in items {
            if let latents = item.latents {
                z.append(contentsOf: latents.values)
                own.append(nil)
            } else {
                let values = Array(fresh[(next * size)..<((next + item.batch) * size)])
                next += item.batch
                z.append(contentsOf: values)
                own.append(Latents(batch: item.batch, latentCount: encoder.numLatents, channels: encoder.latentChannels,
                                   values: values, side: InputSide(rowCount: item.prepared?.rows ?? 0,
                                                                   rows: item.rows)))
            }
        }
        let batch = items.map(\.batch).reduce(0, +)
        let queries = items.count == 1
            ? items[0].queries : Self.padQueries(items.map(\.queries), channels: decoder.queryChannels)
        let logits = try decode(z, batch: batch, queries: queries, context: context)
        if items.count == 1 { return [PassResult(outputs: ModelOutputs(logits: logits), latents: own[0])] }
        // logits is (B, O_max, C); each item keeps its own rows and its first O_i queries of each.
        let channels = postprocessor.channels(decoded: decoder.outputChannels)
        var results: [PassResult] = []
        var row = 0
        for (item, latents) in zip(items, own) {
            let count = item.queries.count
            var scalars: [Float] = []
            scalars.reserveCapacity(item.batch * count * channels)
            for b in row..<(row + item.batch) {
                let start = b * queries.count * channels
                scalars.append(contentsOf: logits.scalars[start..<(start + count * channels)])
            }
            row += item.batch
            let shape = postprocessor.shape(batch: item.batch, queries: item.queries, channels: channels)
            results.append(PassResult(outputs: ModelOutputs(logits: Tensor(shape: shape, scalars: scalars)),
                                      latents: latents))
        }
        return results
    }

    /// `(B_i, M_i, C)` arrays stacked into `(sum B_i, max M_i, C)`, zero rows where an item is shorter, with a
    /// key bias that masks those rows (nil when nothing is masked) and their tokens -1.
    static func padInputs(_ parts: [PreparedInputs]) -> PreparedInputs {
        let rows = parts.map(\.rows).max()!
        let channels = parts[0].channels
        let batch = parts.map(\.batch).reduce(0, +)
        let needsBias = parts.contains { $0.rows != rows || $0.keyBias != nil }
        var values = [Float](repeating: 0, count: batch * rows * channels)
        var bias = needsBias ? [Float](repeating: -Float.greatestFiniteMagnitude, count: batch * rows) : nil
        // Token ids where every part has them, -1 on the padding rows.
        var tokens = parts.allSatisfy { $0.tokens != nil } ? [Int](repeating: -1, count: batch * rows) : nil
        var b0 = 0
        for part in parts {
            for b in 0..<part.batch {
                let src = b * part.rows
                let dst = (b0 + b) * rows
                values.replaceSubrange((dst * channels)..<((dst + part.rows) * channels),
                                       with: part.values[(src * channels)..<((src + part.rows) * channels)])
                if tokens != nil {
                    tokens!.replaceSubrange(dst..<(dst + part.rows), with: part.tokens![src..<(src + part.rows)])
                }
                if needsBias {
                    let own = part.keyBias?[src..<(src + part.rows)] ?? ArraySlice(repeating: 0, count: part.rows)
                    bias!.replaceSubrange(dst..<(dst + part.rows), with: own)
                }
            }
            b0 += part.batch
        }
        return PreparedInputs(batch: batch, rows: rows, channels: channels, values: values, keyBias: bias,
                              tokens: tokens)
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

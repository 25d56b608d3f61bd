/// What the encoder made of a request: the `(B, N, D)` latents after the self-attention stack, plus what the
/// decoder still needs from the input side to build queries (the input length of a masked LM, the frames of
/// an optical-flow pair). Any number of decodes can read one `Latents` (`PerceiverModel.decode`): the promise
/// that outputs are chosen by queries, so a client pays only for what it asks, holds across requests.
/// Immutable, so it can be shared between threads and kept in a cache.
public struct Latents: Sendable {
    /// B
    public let batch: Int
    /// N, latents per item.
    public let latentCount: Int
    /// D, channels per latent.
    public let channels: Int
    /// `(B, N, D)`
    public let values: [Float]
    /// The decoder's view of the input side.
    let side: InputSide

    /// Latents given by a client (the `latents` input): no input side beyond what the request itself holds.
    init(batch: Int, latentCount: Int, channels: Int, values: [Float], side: InputSide) {
        self.batch = batch
        self.latentCount = latentCount
        self.channels = channels
        self.values = values
        self.side = side
    }

    /// The latents as a tensor `(B, N, D)`: the `latents` output a client can send back as an input.
    public var tensor: Tensor { Tensor(shape: [batch, latentCount, channels], scalars: values) }

    /// Bytes held: the latents and whatever the input side keeps (a cache counts these).
    public var byteCount: Int { values.count * MemoryLayout<Float>.stride + (side.rows?.byteCount ?? 0) }

    /// The same latents with an input side that rebuilds its rows from the inputs instead of holding the
    /// preprocessed array (a 368 x 496 flow pair's is 235 MB; its frames are 4.4 MB): what a cache keeps.
    func keepingOnlyInputs() -> Latents {
        Latents(batch: batch, latentCount: latentCount, channels: channels, values: values,
                side: InputSide(rowCount: side.rowCount, rows: side.rows?.compact()))
    }

    /// Items `range` of the batch, with their share of the input side.
    func items(_ range: Range<Int>) -> Latents {
        let size = latentCount * channels
        return Latents(batch: range.count, latentCount: latentCount, channels: channels,
                       values: Array(values[(range.lowerBound * size)..<(range.upperBound * size)]),
                       side: InputSide(rowCount: side.rowCount, rows: side.rows?.items(range)))
    }
}

/// The decoder's view of a request's input side.
struct InputSide: Sendable {
    /// M, the preprocessed input rows per item (a masked LM's default queries are rows 0..<M).
    let rowCount: Int
    /// The preprocessed rows, when the decoder's queries are the input itself (optical flow).
    let rows: (any PreparedRows)?

    /// Nothing: latents given by a client, or a family whose queries do not depend on the input.
    static func none(rowCount: Int = 0) -> InputSide { InputSide(rowCount: rowCount, rows: nil) }
}

/// The preprocessed input rows `(B, M, C)` as decoder queries: held, or rebuilt from the inputs on demand.
protocol PreparedRows: Sendable {
    /// Every row: `(B, M, C)`.
    func all(context: ComputeContext) throws(InferenceError) -> [Float]
    /// The rows at `positions (B, K)`: `(B, K, C)` (positions already checked against M).
    func rows(at positions: IndexTensor, context: ComputeContext) throws(InferenceError) -> [Float]
    /// Bytes held.
    var byteCount: Int { get }
    /// Bytes a decode allocates to build its queries from these rows: `positions` per item, or every row.
    func rebuildBytes(positions: Int?) -> Int
    /// A form that keeps only what is needed to rebuild the rows (itself when that is already the case).
    func compact() -> any PreparedRows
    /// Items `range` of the batch.
    func items(_ range: Range<Int>) -> any PreparedRows
}

/// Rows already computed (a full forward pass), and how to rebuild them once the pass is over.
struct HeldRows: PreparedRows {
    let prepared: PreparedInputs
    /// What a cache keeps instead of `prepared`.
    let rebuild: any PreparedRows

    func all(context: ComputeContext) throws(InferenceError) -> [Float] { prepared.values }

    func rows(at positions: IndexTensor, context: ComputeContext) throws(InferenceError) -> [Float] {
        let (c, m, k) = (prepared.channels, prepared.rows, positions.shape[1])
        var out = uninitializedFloats(positions.values.count * c)
        prepared.values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (i, row) in positions.values.enumerated() {
                    (dst.baseAddress! + i * c).update(from: src.baseAddress! + ((i / k) * m + row) * c, count: c)
                }
            }
        }
        return out
    }

    var byteCount: Int { prepared.values.count * MemoryLayout<Float>.stride + rebuild.byteCount }
    func rebuildBytes(positions: Int?) -> Int { 0 }
    func compact() -> any PreparedRows { rebuild }
    func items(_ range: Range<Int>) -> any PreparedRows { rebuild.items(range) }
}

/// One request of a batched pass: its inputs, and its latents when they are already encoded (then the inputs
/// only select outputs, plus an optical-flow pair's frames for its queries).
public struct PassRequest: Sendable {
    public var inputs: ModelInputs
    public var latents: Latents?

    public init(inputs: ModelInputs, latents: Latents? = nil) {
        self.inputs = inputs
        self.latents = latents
    }
}

/// One request's share of a batched pass: its outputs, and the latents it was encoded into (nil when they were
/// given), keeping only what a cache needs.
public struct PassResult: Sendable {
    public var outputs: ModelOutputs
    public var latents: Latents?
}

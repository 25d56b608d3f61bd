/// A read-only tensor of `Float` weights.
///
/// `data` points either straight into a loaded checkpoint file (F32 weights are not copied again) or
/// into a ``FloatBuffer`` holding a converted copy; `owner` keeps whichever it is alive for as
/// long as any copy of this value exists. The memory is never written, so sharing across
/// threads is safe.
///
/// `data` is only valid while a copy of this value is alive; read it inside
/// ``withUnsafeBufferPointer(_:)`` (or `withExtendedLifetime`) unless the value is stored.
public struct WeightTensor: @unchecked Sendable {
    /// Dimensions, outermost first; `[]` is a scalar.
    public let shape: [Int]
    /// The first of `count` contiguous row-major elements; valid while this value is alive.
    public let data: UnsafePointer<Float>
    /// Keeps the memory behind `data` alive (a mapped file or a ``FloatBuffer``).
    let owner: AnyObject

    /// Number of elements: the product of `shape`.
    public var count: Int {
        shape.reduce(1, *)
    }

    /// Wraps memory owned by `owner`; `shape` must already be validated (no negative
    /// dimensions, no overflowing product) and `data` must hold its element count.
    init(shape: [Int], data: UnsafePointer<Float>, owner: AnyObject) {
        self.shape = shape
        self.data = data
        self.owner = owner
    }

    /// Copies `values` into a new tensor of the given shape.
    ///
    /// - Precondition: every dimension is non-negative and their product equals
    ///   `values.count`. This initializer is for tests and generated weights, not file content.
    public init(shape: [Int], values: [Float]) {
        let count = shape.reduce(into: 1 as Int?) { product, dimension in
            guard let current = product, dimension >= 0 else {
                product = nil
                return
            }
            let (next, overflow) = current.multipliedReportingOverflow(by: dimension)
            product = overflow ? nil : next
        }
        precondition(count == values.count, "shape \(shape) does not hold \(values.count) values")
        let buffer = FloatBuffer(count: values.count)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress {
                buffer.pointer.update(from: base, count: source.count)
            }
        }
        self.init(shape: shape, data: UnsafePointer(buffer.pointer), owner: buffer)
    }

    /// Calls `body` with the elements, keeping their memory alive for the duration of the call.
    ///
    /// Prefer this to reading through `data` directly: Swift may release a value after its last
    /// use, so `someCall().data` can dangle once the temporary `WeightTensor` is gone.
    public func withUnsafeBufferPointer<R, E: Error>(
        _ body: (UnsafeBufferPointer<Float>) throws(E) -> R
    ) throws(E) -> R {
        defer { withExtendedLifetime(owner) {} }
        return try body(UnsafeBufferPointer(start: data, count: count))
    }

    /// Frees the pages of a tensor read from a checkpoint, which is never read again (see
    /// `LoadedFile.release`); a no-op for a converted or generated copy.
    func releaseLoadedPages() {
        guard let file = (owner as? SafeTensorsFile)?.contents, let base = file.bytes.baseAddress else { return }
        let offset = UnsafeRawPointer(data) - base
        file.release(offset..<(offset + count * MemoryLayout<Float>.stride))
    }

    /// A copy of the elements in row-major order.
    public var values: [Float] {
        withUnsafeBufferPointer { Array($0) }
    }
}

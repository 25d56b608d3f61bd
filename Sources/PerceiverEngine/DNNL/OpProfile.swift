import Foundation

/// Where a context's passes spend their time, one row per primitive kind and shape: what
/// `PerceiverBench reference --profile` prints (issue 23: the per-op table from the engine's own counters).
///
/// Each row's time is the wall time of `dnnl_primitive_execute` plus the stream wait, so it includes oneDNN's
/// OpenMP fork/join and nothing of Swift's own work between primitives (which the benchmark reports as the
/// difference between a pass and the sum of its rows).
public struct OpProfile: Sendable {
    /// One kind of primitive at one shape, e.g. "matmul" at "256x1280 * 1280x1280 +gelu".
    public struct Row: Sendable, Hashable {
        public var kind: String
        public var shape: String
        public var calls = 0
        public var nanoseconds = 0
        /// Matmul FLOPs over all calls (0 for other kinds).
        public var flops = 0

        public var milliseconds: Double { Double(nanoseconds) / 1e6 }
    }

    /// Rows by `kind + " " + shape`.
    public private(set) var rows: [String: Row] = [:]

    public init() {}

    mutating func record(kind: String, shape: String, nanoseconds: Int, flops: Int) {
        let key = kind + " " + shape
        var row = rows[key] ?? Row(kind: kind, shape: shape)
        row.calls += 1
        row.nanoseconds += nanoseconds
        row.flops += flops
        rows[key] = row
    }

    /// The rows, most time first.
    public var sorted: [Row] { rows.values.sorted { $0.nanoseconds > $1.nanoseconds } }

    /// Time in every row together.
    public var totalNanoseconds: Int { rows.values.reduce(0) { $0 + $1.nanoseconds } }
}

extension MatMulSpec {
    /// "256x1280 * 1280x1280 +gelu" (batched: "1x8x256x32 * 1x8x32x256"), with the element types when not f32.
    var profileShape: String {
        let dims = { (layout: TensorLayout) in layout.dims.map(String.init).joined(separator: "x") }
        var shape = dims(src) + " * " + dims(weights)
        if srcType != .f32 || weightsType != .f32 { shape += " \(srcType)*\(weightsType)" }
        if packedWeights && !viaConvolution { shape += " packed" }
        switch epilogue {
        case .none: break
        case .gelu: shape += " +gelu"
        case .accumulate: shape += " +sum"
        }
        if hasBias { shape += " +bias" }
        return shape
    }
}

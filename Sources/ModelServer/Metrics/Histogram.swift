/// Counts of observations in fixed buckets, plus their sum and count, as a Prometheus histogram series.
/// A value type: the registry's lock guards the copy it mutates.
struct Histogram: Sendable, Equatable {
    /// Finite upper bounds, ascending; the `+Inf` bucket is implicit.
    let upperBounds: [Double]
    /// Observations per bucket, not cumulative: `bucketCounts[i]` counts values in `(upperBounds[i-1], upperBounds[i]]`.
    private(set) var bucketCounts: [UInt64]
    /// Sum of every observation.
    private(set) var sum: Double = 0
    /// Number of observations, including those above the last bound.
    private(set) var count: UInt64 = 0

    /// An empty histogram; `upperBounds` are sorted and stripped of non-finite values and duplicates.
    init(upperBounds: [Double]) {
        self.upperBounds = Array(Set(upperBounds.filter(\.isFinite))).sorted()
        self.bucketCounts = Array(repeating: 0, count: self.upperBounds.count)
    }

    /// Records one value. NaN is dropped: it would turn `sum` into NaN forever.
    mutating func observe(_ value: Double) {
        guard !value.isNaN else { return }
        // Prometheus buckets are "less than or equal": `le="0.1"` counts 0.1 itself.
        if let index = upperBounds.firstIndex(where: { value <= $0 }) {
            bucketCounts[index] += 1
        }
        sum += value
        count += 1
    }

    /// Cumulative counts per finite bound, as the exposition format's `_bucket` series; `+Inf` is `count`.
    var cumulativeCounts: [UInt64] {
        var running: UInt64 = 0
        return bucketCounts.map { bucket in
            running += bucket
            return running
        }
    }
}

/// One concurrency level's outcome: counts over the measurement window and the sorted latencies.
struct LevelResult: Sendable {
    var concurrency: Int
    /// The measurement window in seconds (`--duration`).
    var duration: Double
    /// Every client's tally merged; `latencies` sorted ascending.
    var tally: Tally

    init(concurrency: Int, duration: Double, tallies: [Tally]) {
        self.concurrency = concurrency
        self.duration = duration
        tally = tallies.reduce(into: Tally()) { $0.merge($1) }
        tally.latencies.sort()
    }

    /// Responses received in the window, any status.
    var requests: Int { tally.latencies.count }
    var nonSuccessCount: Int { tally.nonSuccess.values.reduce(0, +) }
    var socketErrorCount: Int { tally.socketErrors.values.reduce(0, +) }
    /// Responses per second.
    var throughput: Double { Double(requests) / duration }

    /// The nearest-rank percentile `p` (0 < p <= 100) in milliseconds: the smallest latency with at least p% of
    /// all latencies at or below it, i.e. sorted[ceil(p/100 * n) - 1]. Nil without responses.
    func percentile(_ p: Double) -> Double? {
        let values = tally.latencies
        guard !values.isEmpty else { return nil }
        // p * n first: exact for whole p, so ceil sees 99, not 99.00000000000001.
        let rank = Int((p * Double(values.count) / 100).rounded(.up))
        return Double(values[min(max(rank, 1), values.count) - 1]) / 1e6
    }

    /// The slowest response in milliseconds.
    var maximum: Double? { tally.latencies.last.map { Double($0) / 1e6 } }
}

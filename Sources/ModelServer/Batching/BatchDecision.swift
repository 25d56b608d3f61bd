/// What a free model instance does next with the queue as it stands: the pure core of the scheduler.
enum BatchDecision: Equatable {
    /// Nothing is waiting.
    case idle
    /// Run the first `count` waiting requests (in priority, then arrival order) as one batch.
    case run(count: Int)
    /// Hold the queue until this uptime (nanoseconds) or until something changes.
    case wait(until: UInt64)

    /// Triton's dynamic batcher (SERVING.md 2.2): take waiting requests in order while their rows fit in
    /// `maxBatchSize`; run at once when the batch is full, when the next request cannot join it, or when a
    /// prefix of it has a preferred size (the largest such prefix); otherwise hold it until the oldest of
    /// them has waited `maxQueueDelay`. A delay of 0, or `flush` (draining), never holds.
    /// - Parameters:
    ///   - rows: rows of each waiting request, in order; each at most `maxBatchSize`.
    ///   - enqueued: when each was queued (uptime nanoseconds), same order.
    static func decide(rows: [Int], enqueued: [UInt64], now: UInt64, policy: BatchingPolicy,
                       flush: Bool = false) -> BatchDecision {
        guard !rows.isEmpty else { return .idle }
        var count = 0
        var total = 0
        var prefixTotals: [Int] = []
        while count < rows.count, total + rows[count] <= policy.maxBatchSize {
            total += rows[count]
            count += 1
            prefixTotals.append(total)
        }
        // The queue's head always fits (larger requests are refused at submission); guard anyway.
        guard count > 0 else { return .run(count: 1) }
        if total == policy.maxBatchSize || count < rows.count { return .run(count: count) }
        if let preferred = prefixTotals.lastIndex(where: { policy.preferredBatchSizes.contains($0) }) {
            return .run(count: preferred + 1)
        }
        if policy.maxQueueDelayMicroseconds == 0 || flush { return .run(count: count) }
        let release = saturatingAdd(enqueued[0..<count].min()!, microseconds: policy.maxQueueDelayMicroseconds)
        return now >= release ? .run(count: count) : .wait(until: release)
    }
}

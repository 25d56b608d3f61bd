/// What a free model instance does next with the queue as it stands: the pure core of the scheduler.
enum BatchDecision: Equatable {
    /// Nothing is waiting.
    case idle
    /// Run the first `count` waiting requests (in priority, then arrival order) as one batch.
    case run(count: Int)
    /// Hold the queue until this uptime (nanoseconds) or until something changes.
    case wait(until: UInt64)
    /// The queue's head does not fit the memory left by the passes running now: wait until one finishes.
    case blocked

    /// Triton's dynamic batcher (docs/reference/serving.md 2.2): take waiting requests in order while their rows fit in
    /// `maxBatchSize`; run at once when the batch is full, when the next request cannot join it, or when a
    /// prefix of it has a preferred size (the largest such prefix); otherwise hold it until the oldest of
    /// them has waited `maxQueueDelay`. A delay of 0, or `flush` (draining), never holds.
    /// - Parameters:
    ///   - rows: rows of each waiting request, in order; each at most `maxBatchSize`.
    ///   - enqueued: when each was queued (uptime nanoseconds), same order.
    ///   - bytes: each one's estimated pass memory, same order (nil: not counted); the batch's total stays
    ///     within `availableBytes`, what the model's memory budget leaves beside the passes running now.
    ///   - decodeRows: rows of each that need only the decoder (latents cached or given; their `rows` are 0),
    ///     same order (nil: none). They fill a second `maxBatchSize` of their own: a decode-only request never
    ///     takes an encoder row's place, and a batch still holds a bounded number of rows.
    static func decide(rows: [Int], enqueued: [UInt64], now: UInt64, policy: BatchingPolicy,
                       flush: Bool = false, bytes: [Int]? = nil, availableBytes: Int = .max,
                       decodeRows: [Int]? = nil) -> BatchDecision {
        guard !rows.isEmpty else { return .idle }
        var count = 0
        var total = 0
        var decodeTotal = 0
        var spent = 0
        var prefixTotals: [Int] = []
        while count < rows.count, total + rows[count] <= policy.maxBatchSize,
              decodeTotal + (decodeRows?[count] ?? 0) <= policy.maxBatchSize,
              spent + (bytes?[count] ?? 0) <= availableBytes {
            total += rows[count]
            decodeTotal += decodeRows?[count] ?? 0
            spent += bytes?[count] ?? 0
            count += 1
            prefixTotals.append(total)
        }
        // The queue's head fits in rows (larger requests are refused at submission) and in the whole budget;
        // it may have to wait for memory that running passes hold.
        guard count > 0 else { return (bytes?[0] ?? 0) > availableBytes ? .blocked : .run(count: 1) }
        if total == policy.maxBatchSize || decodeTotal == policy.maxBatchSize || count < rows.count {
            return .run(count: count)
        }
        if let preferred = prefixTotals.lastIndex(where: { policy.preferredBatchSizes.contains($0) }) {
            return .run(count: preferred + 1)
        }
        if policy.maxQueueDelayMicroseconds == 0 || flush { return .run(count: count) }
        let release = saturatingAdd(enqueued[0..<count].min()!, microseconds: policy.maxQueueDelayMicroseconds)
        return now >= release ? .run(count: count) : .wait(until: release)
    }
}

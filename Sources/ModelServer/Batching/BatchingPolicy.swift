/// One model's batching rules, with Triton's semantics (docs/reference/serving.md 2.2 and 2.3), resolved from its
/// `ModelConfiguration`.
struct BatchingPolicy: Sendable, Equatable {
    /// Most rows (B) in one forward pass.
    var maxBatchSize: Int
    /// How long the oldest waiting request may be held to grow its batch; 0 runs whatever is waiting.
    var maxQueueDelayMicroseconds: Int
    /// Row counts that run at once when the queue's head can form them, ascending.
    var preferredBatchSizes: [Int]
    /// Most requests waiting; 0 is unbounded.
    var maxQueueSize: Int
    /// Queue timeout of a request that sets none; 0 is none.
    var defaultTimeoutMicroseconds: Int
    /// Priority levels (1 the highest); 0 is one FIFO queue.
    var priorityLevels: Int
    /// The level of a request without `priority`, in `1...max(1, priorityLevels)`.
    var defaultPriorityLevel: Int
    /// Bytes the passes of this model may hold at once (`PerceiverModel.estimatedPassBytes` summed over what
    /// runs): a request over it is refused, one that does not fit beside running passes waits.
    var memoryBudgetBytes: Int

    init(_ configuration: ModelConfiguration) {
        maxBatchSize = configuration.maxBatchSize
        maxQueueDelayMicroseconds = configuration.maxQueueDelayMicroseconds
        preferredBatchSizes = Array(Set(configuration.preferredBatchSizes)).sorted()
        maxQueueSize = configuration.maxQueueSize
        defaultTimeoutMicroseconds = configuration.defaultTimeoutMicroseconds
        priorityLevels = configuration.priorityLevels
        defaultPriorityLevel = configuration.defaultPriorityLevel == 0
            ? max(1, configuration.priorityLevels) : configuration.defaultPriorityLevel
        memoryBudgetBytes = configuration.memoryBudgetMiB << 20
    }

    /// The number of queues: one per priority level, or one.
    var queueCount: Int { max(1, priorityLevels) }

    /// The queue index (0 = level 1, the highest) of a request asking for `priority` (nil or 0: the default).
    /// With no priority levels every request shares one queue and `priority` is ignored, as in Triton.
    /// - Throws: `RequestError.badPriority` for a level the model does not have.
    func queueIndex(priority: Int?) throws(RequestError) -> Int {
        guard priorityLevels > 0 else { return 0 }
        let level = priority ?? 0
        guard level <= priorityLevels else { throw RequestError.badPriority(level, levels: priorityLevels) }
        return (level == 0 ? defaultPriorityLevel : level) - 1
    }

    /// The queue timeout of a request asking for `requested` microseconds (nil or 0: none): the default, or
    /// the request's when that is shorter. A request may lower its timeout, never raise it. Nil: no timeout.
    func timeoutMicroseconds(requested: Int?) -> Int? {
        let candidates = [defaultTimeoutMicroseconds, requested ?? 0].filter { $0 > 0 }
        return candidates.min()
    }
}

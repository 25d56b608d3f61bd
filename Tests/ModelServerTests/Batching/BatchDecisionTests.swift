import Testing
@testable import ModelServer

/// The batcher's pure decision, Triton's dynamic batching rules (docs/reference/serving.md 2.2).
@Suite struct BatchDecisionTests {
    func policy(max: Int = 8, delayMicroseconds: Int = 0, preferred: [Int] = []) -> BatchingPolicy {
        BatchingPolicy(ModelConfiguration(name: "m", path: "/m", maxBatchSize: max,
                                          maxQueueDelayMicroseconds: delayMicroseconds, preferredBatchSizes: preferred))
    }

    @Test func nothingWaitingIsIdle() {
        #expect(BatchDecision.decide(rows: [], enqueued: [], now: 0, policy: policy()) == .idle)
    }

    @Test func withoutDelayEverythingThatFitsRunsAtOnce() {
        #expect(BatchDecision.decide(rows: [1, 2, 1], enqueued: [0, 0, 0], now: 0, policy: policy()) == .run(count: 3))
    }

    @Test func maxBatchSizeCountsRowsNotRequests() {
        // 3 + 4 rows fit in 8; the next 2 would make 9.
        #expect(BatchDecision.decide(rows: [3, 4, 2, 1], enqueued: [0, 0, 0, 0], now: 0,
                                     policy: policy(delayMicroseconds: 1_000_000)) == .run(count: 2))
    }

    @Test func theDelayHoldsAPartialBatchUntilTheOldestRequestHasWaitedIt() {
        let p = policy(delayMicroseconds: 500)
        #expect(BatchDecision.decide(rows: [1, 1], enqueued: [1_000, 2_000], now: 1_200, policy: p)
                == .wait(until: 501_000))
        #expect(BatchDecision.decide(rows: [1, 1], enqueued: [1_000, 2_000], now: 501_000, policy: p) == .run(count: 2))
    }

    @Test func aFullBatchRunsWithoutWaitingOutTheDelay() {
        #expect(BatchDecision.decide(rows: [4, 4], enqueued: [0, 0], now: 0, policy: policy(delayMicroseconds: 10_000))
                == .run(count: 2))
    }

    @Test func theLargestPreferredPrefixRunsAtOnce() {
        let p = policy(delayMicroseconds: 10_000, preferred: [2, 4])
        #expect(BatchDecision.decide(rows: [1, 1, 1], enqueued: [0, 0, 0], now: 0, policy: p) == .run(count: 2))
        #expect(BatchDecision.decide(rows: [2, 1, 1, 1], enqueued: [0, 0, 0, 0], now: 0, policy: p) == .run(count: 3))
        #expect(BatchDecision.decide(rows: [3], enqueued: [0], now: 0, policy: p) == .wait(until: 10_000_000))
    }

    @Test func drainingFlushesWithoutWaiting() {
        #expect(BatchDecision.decide(rows: [1], enqueued: [0], now: 0, policy: policy(delayMicroseconds: 10_000),
                                     flush: true) == .run(count: 1))
    }
}

@Suite struct BatchingPolicyTests {
    @Test func aRequestTimeoutMayOnlyLowerTheDefault() {
        let withDefault = BatchingPolicy(ModelConfiguration(name: "m", path: "/m", defaultTimeoutMicroseconds: 5_000))
        #expect(withDefault.timeoutMicroseconds(requested: nil) == 5_000)
        #expect(withDefault.timeoutMicroseconds(requested: 0) == 5_000)
        #expect(withDefault.timeoutMicroseconds(requested: 1_000) == 1_000)
        #expect(withDefault.timeoutMicroseconds(requested: 9_000) == 5_000)
        let none = BatchingPolicy(ModelConfiguration(name: "m", path: "/m"))
        #expect(none.timeoutMicroseconds(requested: nil) == nil)
        #expect(none.timeoutMicroseconds(requested: 7) == 7)
    }

    @Test func prioritiesMapToQueuesAndOutOfRangeLevelsAreRefused() throws {
        let three = BatchingPolicy(ModelConfiguration(name: "m", path: "/m", priorityLevels: 3))
        #expect(three.queueCount == 3)
        #expect(try three.queueIndex(priority: 1) == 0)
        #expect(try three.queueIndex(priority: 3) == 2)
        #expect(try three.queueIndex(priority: nil) == 2, "the default level is the lowest")
        #expect(throws: RequestError.badPriority(4, levels: 3)) { try three.queueIndex(priority: 4) }
        let chosen = BatchingPolicy(ModelConfiguration(name: "m", path: "/m", priorityLevels: 3, defaultPriorityLevel: 2))
        #expect(try chosen.queueIndex(priority: 0) == 1)
        let single = BatchingPolicy(ModelConfiguration(name: "m", path: "/m"))
        #expect(try single.queueIndex(priority: 7) == 0, "without levels, priority is ignored as in Triton")
    }
}

/// The memory budget: a batch's estimated bytes stay within what the passes running now leave.
@Suite struct BatchMemoryBudgetTests {
    let policy = BatchingPolicy(ModelConfiguration(name: "m", path: "/m", maxBatchSize: 8))

    @Test func aBatchTakesOnlyTheRequestsThatFitTheMemoryLeft() {
        #expect(BatchDecision.decide(rows: [1, 1, 1], enqueued: [0, 0, 0], now: 0, policy: policy,
                                     bytes: [40, 40, 40], availableBytes: 100) == .run(count: 2))
        #expect(BatchDecision.decide(rows: [1, 1], enqueued: [0, 0], now: 0, policy: policy,
                                     bytes: [40, 40], availableBytes: 80) == .run(count: 2))
    }

    @Test func aHeadThatDoesNotFitBesideRunningPassesWaits() {
        #expect(BatchDecision.decide(rows: [1, 1], enqueued: [0, 0], now: 0, policy: policy,
                                     bytes: [60, 10], availableBytes: 50) == .blocked)
    }

    @Test func withoutEstimatesRowsAloneDecide() {
        #expect(BatchDecision.decide(rows: [1, 1], enqueued: [0, 0], now: 0, policy: policy) == .run(count: 2))
    }

    /// Decode-only rows (latents cached or given) fill a `max_batch_size` of their own: they never take an
    /// encoder row's place, and a batch still holds a bounded number of them.
    @Test func decodeOnlyRowsFillASeparateBatchSize() {
        let p = BatchingPolicy(ModelConfiguration(name: "m", path: "/m", maxBatchSize: 8,
                                                  maxQueueDelayMicroseconds: 1_000_000))
        // 8 encoder rows and 8 decode-only rows share one batch; the next decode-only request waits.
        #expect(BatchDecision.decide(rows: [4, 0, 4, 0, 0], enqueued: [0, 0, 0, 0, 0], now: 0, policy: p,
                                     decodeRows: [0, 6, 0, 2, 1]) == .run(count: 4))
        // A full decode-only batch runs without waiting out the delay.
        #expect(BatchDecision.decide(rows: [0, 0], enqueued: [0, 0], now: 0, policy: p, decodeRows: [5, 3])
                == .run(count: 2))
        #expect(BatchDecision.decide(rows: [0, 1], enqueued: [0, 0], now: 0, policy: p, decodeRows: [5, 0])
                == .wait(until: 1_000_000_000))
    }
}

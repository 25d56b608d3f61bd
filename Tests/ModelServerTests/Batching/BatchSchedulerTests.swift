import Foundation
import Testing
@testable import ModelServer
import PerceiverEngine

/// The scheduler in process: rows per batch, priority order, cancellation and deadlines before compute.
@Suite struct BatchSchedulerTests {
    /// Records each job's outcome.
    final class Outcomes: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [String: Result<JobResult, RequestError>] = [:]
        private let group = DispatchGroup()

        func job(_ name: String, _ inputs: ModelInputs, rows: Int = 1, queue: Int = 0, timeout: Int? = nil,
                 canceled: @escaping @Sendable () -> Bool = { false }) -> InferenceJob {
            group.enter()
            return InferenceJob(request: PassRequest(inputs: inputs), rows: rows, queueIndex: queue, timeoutMicroseconds: timeout,
                                isCanceled: canceled) { [self] outcome in
                lock.withLock { results[name] = outcome }
                group.leave()
            }
        }

        /// Every outcome, once all jobs have finished (empty if they have not within 60 s).
        func wait() -> [String: Result<JobResult, RequestError>] {
            guard group.wait(timeout: .now() + 60) == .success else { return [:] }
            return lock.withLock { results }
        }
    }

    let model: PerceiverModel

    init() throws {
        model = try PerceiverModel.load(directory: ServerFixtures.root + "/models/mlm", options: ExecutionOptions(threads: 1))
    }

    func scheduler(_ configuration: ModelConfiguration) throws -> BatchScheduler {
        BatchScheduler(model: "m", policy: BatchingPolicy(configuration),
                       instances: [try ModelInstance(model: model, threads: 1)], cores: CorePool(total: 1), maxThreads: 1,
                       metrics: MetricsRegistry())
    }

    func tokens(_ rows: Int, _ length: Int) -> ModelInputs {
        ModelInputs(inputIDs: IndexTensor(shape: [rows, length], values: (0..<(rows * length)).map { 6 + $0 % 50 }))
    }

    @Test func queuedRequestsShareBatchesOfAtMostMaxBatchSizeRows() throws {
        let scheduler = try scheduler(ModelConfiguration(name: "m", path: "/m", maxBatchSize: 4))
        let outcomes = Outcomes()
        // Queued before the worker starts, so the batches are decided on the whole queue.
        for (name, rows, length) in [("a", 2, 5), ("b", 1, 9), ("c", 2, 3), ("d", 1, 4)] {
            try scheduler.submit(outcomes.job(name, tokens(rows, length), rows: rows))
        }
        let before = model.counts
        scheduler.start()
        defer { scheduler.stop() }
        let results = outcomes.wait()
        let batches = try ["a", "b", "c", "d"].map { try #require(results[$0]).get().batch }
        #expect(batches.map(\.id) == [1, 1, 2, 2])
        #expect(batches.map(\.rows) == [3, 3, 3, 3])
        #expect(model.counts.passes == before.passes + 2)
        #expect(try #require(results["b"]).get().outputs.logits.shape == [1, 9, 262])
    }

    @Test func higherPriorityLevelsRunFirstAndFIFOWithinALevel() throws {
        let scheduler = try scheduler(ModelConfiguration(name: "m", path: "/m", maxBatchSize: 1, priorityLevels: 2))
        let outcomes = Outcomes()
        for (name, queue) in [("low1", 1), ("high1", 0), ("low2", 1), ("high2", 0)] {
            try scheduler.submit(outcomes.job(name, tokens(1, 4), queue: queue))
        }
        scheduler.start()
        defer { scheduler.stop() }
        let results = outcomes.wait()
        let order = try ["high1", "high2", "low1", "low2"].map { try #require(results[$0]).get().batch.id }
        #expect(order == [1, 2, 3, 4])
    }

    @Test func aFullQueueRefusesAtOnce() throws {
        let scheduler = try scheduler(ModelConfiguration(name: "m", path: "/m", maxQueueSize: 2))
        let outcomes = Outcomes()
        try scheduler.submit(outcomes.job("a", tokens(1, 3)))
        try scheduler.submit(outcomes.job("b", tokens(1, 3)))
        #expect(throws: RequestError.queueFull(limit: 2)) {
            try scheduler.submit(InferenceJob(request: PassRequest(inputs: tokens(1, 3)), rows: 1, queueIndex: 0, timeoutMicroseconds: nil,
                                              isCanceled: { false }, completion: { _ in }))
        }
        scheduler.start()
        defer { scheduler.stop() }
        #expect(outcomes.wait().count == 2)
    }

    @Test func canceledAndExpiredRequestsNeverReachCompute() throws {
        let scheduler = try scheduler(ModelConfiguration(name: "m", path: "/m"))
        let outcomes = Outcomes()
        let gone = outcomes.job("gone", tokens(1, 3))
        try scheduler.submit(gone)
        try scheduler.submit(outcomes.job("late", tokens(1, 3), timeout: 1_000))
        // Found canceled only when its batch is taken: the check just before compute.
        try scheduler.submit(outcomes.job("left", tokens(1, 3), canceled: { true }))
        try scheduler.submit(outcomes.job("kept", tokens(1, 3)))
        scheduler.cancel(gone)
        Thread.sleep(forTimeInterval: 0.05)   // past "late"'s 1 ms queue timeout
        let before = model.counts
        scheduler.start()
        defer { scheduler.stop() }
        let results = outcomes.wait()
        #expect(throws: RequestError.canceled) { try #require(results["gone"]).get() }
        #expect(throws: RequestError.timeoutExpired(microseconds: 1_000)) { try #require(results["late"]).get() }
        #expect(throws: RequestError.canceled) { try #require(results["left"]).get() }
        #expect(try #require(results["kept"]).get().batch.requests == 1)
        #expect(model.counts.passes == before.passes + 1)
        #expect(model.counts.rows == before.rows + 1)
    }

    @Test func theQueueDelayGathersRequestsThatArriveWithinIt() throws {
        // The batch runs when its third row arrives (max_batch_size 3), well before the 60 s delay.
        let scheduler = try scheduler(ModelConfiguration(name: "m", path: "/m", maxBatchSize: 3,
                                                         maxQueueDelayMicroseconds: 60_000_000))
        scheduler.start()
        defer { scheduler.stop() }
        let outcomes = Outcomes()
        for name in ["a", "b", "c"] {
            try scheduler.submit(outcomes.job(name, tokens(1, 5)))
            Thread.sleep(forTimeInterval: 0.01)
        }
        let results = outcomes.wait()
        #expect(try Set(["a", "b", "c"].map { try #require(results[$0]).get().batch.id }).count == 1)
        #expect(try #require(results["a"]).get().batch.requests == 3)
    }
}

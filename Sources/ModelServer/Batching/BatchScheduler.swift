import Dispatch
import Foundation
import PerceiverEngine

/// One model's dynamic batcher: bounded priority queues of requests, and one worker thread per model
/// instance that takes the next batch (`BatchDecision`) and runs it as one forward pass on cores of the
/// server's `CorePool` (at most `maxThreads`; how many can change between the pass's primitives).
///
/// Requests are refused at once when the queue is full; they leave the queue when their client goes
/// (`cancel`) or their queue timeout passes (`expire`, and again just before compute), each answered
/// without compute. `stop()` lets the workers run what is queued, and what requests accepted before it still
/// submit (`arrive`/`leave`: a request being hashed, or waiting for an identical one's encode), and then exit.
///
/// Thread safety: `condition` guards the queues, `queued`, `stopping`, `abandoned`, `open`, `workersRunning`,
/// `nextBatchID` and every job's `state`; everything else is immutable.
final class BatchScheduler: @unchecked Sendable {
    let model: String
    let policy: BatchingPolicy
    let instances: [ModelInstance]
    /// The server's cores, shared with every other model's passes.
    let cores: CorePool
    /// Most cores one pass takes (`ServerConfiguration.maxThreadsPerPass(of:)`).
    let maxThreads: Int
    private let metrics: MetricsRegistry
    private let condition = NSCondition()
    private var queues: [[InferenceJob]]
    private var queued = 0
    private var stopping = false
    /// Set by `abandon`: nothing more is accepted or run.
    private var abandoned = false
    /// Requests accepted (`arrive`) and not yet answered (`leave`): the workers outlive a drain until it is 0.
    private var open = 0
    /// Worker threads started and not yet exited.
    private var workersRunning = 0
    /// Estimated bytes of the passes running now (`InferenceJob.bytes`), within `policy.memoryBudgetBytes`.
    private var runningBytes = 0
    private var nextBatchID = 1

    init(model: String, policy: BatchingPolicy, instances: [ModelInstance], cores: CorePool, maxThreads: Int,
         metrics: MetricsRegistry) {
        self.model = model
        self.policy = policy
        self.instances = instances
        self.cores = cores
        self.maxThreads = max(1, maxThreads)
        self.metrics = metrics
        queues = Array(repeating: [], count: policy.queueCount)
    }

    /// Starts one worker thread per instance.
    func start() {
        condition.withLock { workersRunning += instances.count }
        for (index, instance) in instances.enumerated() {
            // `nextBatch` counts the worker out, under the lock, when it returns nil.
            let thread = Thread { [self] in workerLoop(instance) }
            thread.name = "perceiverd.\(model).\(index)"
            thread.start()
        }
    }

    /// A request was accepted for this model: until its `leave`, a drain keeps the workers for it.
    func arrive() {
        condition.withLock { open += 1 }
    }

    /// A request `arrive` counted has its answer.
    func leave() {
        condition.withLock {
            open -= 1
            if open == 0 { condition.broadcast() }
        }
    }

    /// Lets the workers finish what is queued, then exit once the queue is empty and every accepted request
    /// (`arrive`) is answered: one still being parsed when the drain began submits and runs. After the last
    /// worker exits, submissions are refused.
    func stop() {
        condition.withLock {
            stopping = true
            condition.broadcast()
        }
    }

    /// The end of a shutdown that cannot wait: every request still queued is answered 503 without compute,
    /// and each instance abandons its running pass at its next primitive (`ModelInstance.abort`).
    func abandon() {
        condition.withLock {
            stopping = true
            abandoned = true
            for job in queues.joined() where job.state == .queued {
                job.state = .finished
                job.finish(.failure(.unavailable("server is shutting down")))
            }
            queues = Array(repeating: [], count: queues.count)
            queued = 0
            metrics.setQueueDepth(model: model, 0)
            condition.broadcast()
        }
        for instance in instances { instance.abort() }
    }

    /// Waits until every worker thread has exited (after `stop` or `abandon`), at most until `deadline`;
    /// whether they all did.
    func waitForWorkers(until deadline: Date) -> Bool {
        condition.withLock {
            while workersRunning > 0 {
                if !condition.wait(until: deadline) { return workersRunning == 0 }
            }
            return true
        }
    }

    /// Queues `job`.
    /// - Throws: `RequestError.overMemoryBudget` when its pass alone needs more than the model's memory budget,
    ///   `.queueFull` when `max_queue_size` requests already wait, `.unavailable` once the workers have exited
    ///   after `stop()`, or after `abandon()`.
    func submit(_ job: InferenceJob) throws(RequestError) {
        guard job.bytes <= policy.memoryBudgetBytes else {
            throw RequestError.overMemoryBudget(needed: job.bytes, budget: policy.memoryBudgetBytes)
        }
        condition.lock()
        guard !abandoned, !stopping || workersRunning > 0 else {
            condition.unlock()
            throw RequestError.unavailable("server is shutting down")
        }
        if policy.maxQueueSize > 0 && queued >= policy.maxQueueSize {
            condition.unlock()
            throw RequestError.queueFull(limit: policy.maxQueueSize)
        }
        queues[job.queueIndex].append(job)
        queued += 1
        metrics.setQueueDepth(model: model, queued)
        condition.broadcast()
        condition.unlock()
        if let timeout = job.timeoutMicroseconds {
            DispatchQueue.global().asyncAfter(deadline: .now() + .microseconds(timeout)) { [weak self, weak job] in
                guard let self, let job else { return }
                expire(job)
            }
        }
    }

    /// The client of `job` left: drop it if it is still waiting (it never reaches compute).
    func cancel(_ job: InferenceJob) {
        remove(job, because: .canceled)
    }

    /// `job`'s queue timeout passed: answer it 503 if it is still waiting.
    func expire(_ job: InferenceJob) {
        remove(job, because: .timeoutExpired(microseconds: job.timeoutMicroseconds ?? 0))
    }

    private func remove(_ job: InferenceJob, because error: RequestError) {
        condition.withLock {
            guard job.state == .queued else { return }
            job.state = .finished
            queues[job.queueIndex].removeAll { $0 === job }
            queued -= 1
            metrics.setQueueDepth(model: model, queued)
            job.finish(.failure(error))
            condition.broadcast()
        }
    }

    private func workerLoop(_ instance: ModelInstance) {
        let lane = CorePool.Lane(cores)
        while let (id, jobs) = nextBatch() {
            run(jobs, id: id, on: instance, lane: lane)
            condition.withLock {
                runningBytes -= jobs.map(\.bytes).reduce(0, +)
                condition.broadcast()
            }
        }
    }

    /// Blocks until a batch is due (`BatchDecision`) and takes it off the queues; nil once stopped and empty.
    private func nextBatch() -> (Int, [InferenceJob])? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            let waiting = queues.joined()
            let now = DispatchTime.now().uptimeNanoseconds
            switch BatchDecision.decide(rows: waiting.map(\.rows), enqueued: waiting.map(\.enqueued), now: now,
                                        policy: policy, flush: stopping, bytes: waiting.map(\.bytes),
                                        availableBytes: policy.memoryBudgetBytes - runningBytes,
                                        decodeRows: waiting.map(\.decodeRows)) {
            case .idle:
                if stopping && (abandoned || open == 0) {
                    // Counted out under the lock that `submit` checks, so no job is queued for a worker that left.
                    workersRunning -= 1
                    condition.broadcast()
                    return nil
                }
                condition.wait()
            case .blocked:
                // Another instance's pass holds the memory; its end broadcasts.
                condition.wait()
            case .wait(let until):
                // In slices of at most 50 ms, re-reading the monotonic clock: a wall-clock step cannot stretch it.
                _ = condition.wait(until: Date(timeIntervalSinceNow: min(Double(until - now) / 1e9, 0.05)))
            case .run(let count):
                let jobs = Array(waiting.prefix(count))
                for job in jobs {
                    queues[job.queueIndex].removeFirst()
                    job.state = .running
                }
                queued -= count
                runningBytes += jobs.map(\.bytes).reduce(0, +)
                metrics.setQueueDepth(model: model, queued)
                defer { nextBatchID += 1 }
                return (nextBatchID, jobs)
            }
        }
    }

    /// Takes its cores, checks each job once more (client gone, deadline passed), runs the rest as one forward
    /// pass on those cores (`lane` resizes its team between primitives), gives them back and answers each job
    /// with its own outputs. Timed for the metrics and statistics: each request's queue wait up to `taken`, the
    /// wait for cores and the checks up to the pass (`compute_input`), the pass (`compute_infer`).
    private func run(_ jobs: [InferenceJob], id: Int, on instance: ModelInstance, lane: CorePool.Lane) {
        let taken = DispatchTime.now().uptimeNanoseconds
        let threads = cores.acquire(lane, cap: maxThreads)
        // Checked once the cores are there: a deadline may have passed while the pass waited for one.
        let checked = DispatchTime.now().uptimeNanoseconds
        var live: [InferenceJob] = []
        for job in jobs {
            if job.isCanceled() {
                job.finish(.failure(.canceled))
            } else if let deadline = job.deadline, checked >= deadline {
                job.finish(.failure(.timeoutExpired(microseconds: job.timeoutMicroseconds ?? 0)))
            } else {
                live.append(job)
            }
        }
        guard !live.isEmpty else {
            cores.release(lane)
            return
        }
        let requests = live.map(\.request)
        let start = DispatchTime.now().uptimeNanoseconds
        let results = instance.predict(batch: requests, threads: threads, budget: lane)
        let end = DispatchTime.now().uptimeNanoseconds
        let held = cores.release(lane)
        let waits = live.map { Double(taken - $0.enqueued) / 1e9 }
        var info = BatchInfo(id: id, rows: live.map { $0.rows + $0.decodeRows }.reduce(0, +), requests: live.count,
                             threads: held.started, meanThreads: held.mean, inputSeconds: Double(start - taken) / 1e9,
                             computeSeconds: Double(end - start) / 1e9, passEnded: end)
        metrics.batchExecuted(model: model, rows: info.rows, queueSeconds: waits, computeSeconds: info.computeSeconds,
                              inputSeconds: info.inputSeconds, threads: held.mean)
        let successes = results.filter { (try? $0.get()) != nil }.count
        info.answers = PassAnswers(count: successes)
        // With no answer to encode, the pass's output phase is empty; counted, so that every pass has one.
        if successes == 0 { metrics.batchAnswered(model: model, rows: info.rows, outputSeconds: 0) }
        for ((job, result), wait) in zip(zip(live, results), waits) {
            var own = info
            own.queueSeconds = wait
            own.requestRows = job.rows + job.decodeRows
            job.finish(result.map { JobResult(outputs: $0.outputs, latents: $0.latents, batch: own) }
                .mapError { RequestError.inference($0) })
        }
    }
}

import Foundation

/// A bounded pool of dedicated threads for work whose cost grows with a request's bytes: inflating a gzip body,
/// parsing JSON, decoding an image. The connection queues only move bytes and parse heads; whatever may take
/// long runs here, so health probes and other connections never wait behind it.
///
/// The threads are the pool's own (not libdispatch's): blocking work here cannot exhaust the dispatch threads
/// the connection queues run on, and the kernel time-slices these threads with the I/O threads, so a probe is
/// answered while every worker is busy. At most `width` jobs run and `queueLimit` wait; `submit` refuses beyond
/// that, and the caller answers 503.
///
/// Thread safety: `condition` guards `jobs`, `running` and `isStopped`; the rest is immutable.
public final class WorkPool: @unchecked Sendable {
    /// Jobs that run at once.
    public let width: Int
    /// Jobs that may wait for a thread.
    public let queueLimit: Int
    private let condition = NSCondition()
    /// Waiting jobs from `head` on; the consumed prefix holds nils, so that a job (and the request body it
    /// captures) is released as soon as it is taken, not when the prefix is next compacted.
    private var jobs: [(@Sendable () -> Void)?] = []
    private var head = 0
    private var running = 0
    private var isStopped = false

    /// Starts `width` threads (at least 1) named `label`. The threads hold the pool until `stop()` lets them
    /// exit: an owner that is done with the pool must call it.
    public init(width: Int, queueLimit: Int, label: String = "perceiverd.work") {
        self.width = max(1, width)
        self.queueLimit = max(0, queueLimit)
        for index in 0..<self.width {
            let thread = Thread { self.work() }
            thread.name = "\(label).\(index)"
            thread.start()
        }
    }

    /// Queues `job`; false when `width` jobs run and `queueLimit` wait already (then `job` never runs).
    public func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !isStopped, running + (jobs.count - head) < width + queueLimit else {
            return false
        }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Jobs running and waiting right now (metrics, tests).
    public var load: (running: Int, waiting: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (running, jobs.count - head)
    }

    /// Lets the threads exit once the queue is empty; later submissions are refused.
    public func stop() {
        condition.lock()
        isStopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while let job = next() {
            job()
            condition.lock()
            running -= 1
            condition.unlock()
        }
    }

    /// The next job, waiting for one; nil once stopped and drained.
    private func next() -> (@Sendable () -> Void)? {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count {
            if isStopped { return nil }
            condition.wait()
        }
        let job = jobs[head]
        jobs[head] = nil
        head += 1
        // Amortized O(1): drop the consumed prefix once it is at least half of the array.
        if head >= 64 && head * 2 >= jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
        running += 1
        return job
    }
}

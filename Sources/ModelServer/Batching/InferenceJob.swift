import Dispatch
import PerceiverEngine

/// The forward pass a request shared, for its log line and tests.
struct BatchInfo: Sendable, Equatable {
    /// Per-model sequence number of the batch, from 1.
    var id: Int
    /// Rows (B) in the pass.
    var rows: Int
    /// Requests in the pass.
    var requests: Int
}

/// A request's outputs and the batch that computed them.
struct JobResult: Sendable {
    var outputs: ModelOutputs
    var batch: BatchInfo
}

/// One request waiting for, or in, a batch. Its mutable `state` is guarded by the owning scheduler's lock.
final class InferenceJob: @unchecked Sendable {
    enum State {
        case queued, running, finished
    }

    let inputs: ModelInputs
    /// Rows (B): what `max_batch_size` counts.
    let rows: Int
    /// Index of its priority queue (0 = highest).
    let queueIndex: Int
    /// Uptime (nanoseconds) when it was queued.
    let enqueued: UInt64
    /// Queue timeout in microseconds, nil for none; the deadline is `enqueued` plus this.
    let timeoutMicroseconds: Int?
    /// Whether its client has gone (checked again just before compute).
    let isCanceled: @Sendable () -> Bool
    private let completion: @Sendable (Result<JobResult, RequestError>) -> Void
    var state = State.queued

    init(inputs: ModelInputs, rows: Int, queueIndex: Int, timeoutMicroseconds: Int?,
         isCanceled: @escaping @Sendable () -> Bool,
         completion: @escaping @Sendable (Result<JobResult, RequestError>) -> Void) {
        self.inputs = inputs
        self.rows = rows
        self.queueIndex = queueIndex
        self.timeoutMicroseconds = timeoutMicroseconds
        self.isCanceled = isCanceled
        self.completion = completion
        enqueued = DispatchTime.now().uptimeNanoseconds
    }

    /// Uptime (nanoseconds) past which it may no longer start, or nil.
    var deadline: UInt64? {
        timeoutMicroseconds.map { enqueued + UInt64($0) * 1000 }
    }

    /// Marks it finished and hands `outcome` to its completion on a global queue (responses are encoded
    /// there, beside the next batch's compute). Call with the scheduler's lock held or after taking the job.
    func finish(_ outcome: Result<JobResult, RequestError>) {
        state = .finished
        let completion = completion
        DispatchQueue.global(qos: .userInitiated).async { completion(outcome) }
    }
}

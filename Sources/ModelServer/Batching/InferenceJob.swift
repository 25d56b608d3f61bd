import Dispatch
import PerceiverEngine

/// The forward pass a request shared, for its log line and tests.
struct BatchInfo: Sendable, Equatable {
    /// Per-model sequence number of the batch, from 1.
    var id: Int
    /// Rows (B) in the pass: those that ran the encoder and those decoded from cached or given latents.
    var rows: Int
    /// Requests in the pass.
    var requests: Int
}

/// A request's outputs, the latents it was encoded into (nil when they were given), and the batch that computed
/// them.
struct JobResult: Sendable {
    var outputs: ModelOutputs
    var latents: Latents?
    var batch: BatchInfo
}

/// One request waiting for, or in, a batch. Its mutable `state` is guarded by the owning scheduler's lock.
final class InferenceJob: @unchecked Sendable {
    enum State {
        case queued, running, finished
    }

    /// Its inputs, and its latents when they are already encoded (then it needs only the decoder).
    let request: PassRequest
    /// Rows (B) it puts through the encoder: what `max_batch_size` counts (0 when its latents are given).
    let rows: Int
    /// Rows (B) it puts through the decoder alone, its latents cached or given: what the separate decode-only
    /// `max_batch_size` counts (0 when it runs the encoder).
    let decodeRows: Int
    /// Estimated pass memory: what the model's memory budget counts.
    let bytes: Int
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

    init(request: PassRequest, rows: Int, decodeRows: Int = 0, bytes: Int = 0, queueIndex: Int, timeoutMicroseconds: Int?,
         isCanceled: @escaping @Sendable () -> Bool,
         completion: @escaping @Sendable (Result<JobResult, RequestError>) -> Void) {
        self.request = request
        self.rows = rows
        self.decodeRows = decodeRows
        self.bytes = bytes
        self.queueIndex = queueIndex
        self.timeoutMicroseconds = timeoutMicroseconds
        self.isCanceled = isCanceled
        self.completion = completion
        enqueued = DispatchTime.now().uptimeNanoseconds
    }

    /// Uptime (nanoseconds) past which it may no longer start, or nil. Saturates instead of overflowing.
    var deadline: UInt64? {
        timeoutMicroseconds.map { saturatingAdd(enqueued, microseconds: $0) }
    }

    /// Hands `outcome` to its completion on a global queue (responses are encoded there, beside the next
    /// batch's compute). Called once: by the scheduler's `remove` (lock held, state set to finished) or by the
    /// worker that took the job (state running, which no one else touches).
    func finish(_ outcome: Result<JobResult, RequestError>) {
        let completion = completion
        DispatchQueue.global(qos: .userInitiated).async { completion(outcome) }
    }
}

/// `base + microseconds * 1000`, clamped to `UInt64.max` (huge timeouts and delays must not trap).
func saturatingAdd(_ base: UInt64, microseconds: Int) -> UInt64 {
    let (nanoseconds, overflow) = UInt64(max(0, microseconds)).multipliedReportingOverflow(by: 1000)
    guard !overflow else { return .max }
    let (sum, overflowSum) = base.addingReportingOverflow(nanoseconds)
    return overflowSum ? .max : sum
}

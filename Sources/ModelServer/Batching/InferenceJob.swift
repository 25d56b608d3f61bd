import Dispatch
import Foundation
import PerceiverEngine

/// The forward pass a request shared, for its log line, its model's statistics and tests.
struct BatchInfo: Sendable {
    /// Per-model sequence number of the batch, from 1.
    var id: Int
    /// Rows (B) in the pass: those that ran the encoder and those decoded from cached or given latents.
    var rows: Int
    /// Requests in the pass.
    var requests: Int
    /// oneDNN threads (cores) the pass started with, from the server's `CorePool`.
    var threads = 1
    /// Cores the pass held on average over its time (it gives some back while another model's pass waits,
    /// and takes free ones when none does).
    var meanThreads: Double = 1
    /// This request's rows (B), as `queueSeconds` its own.
    var requestRows = 0
    /// This request's wait from being queued to its batch being taken off the queue, in seconds (each request
    /// of the pass has its own copy of this value).
    var queueSeconds: Double = 0
    /// From taking the batch off the queue to the start of the pass (the wait for cores and the last checks of
    /// each request), seconds.
    var inputSeconds: Double = 0
    /// The forward pass, in seconds.
    var computeSeconds: Double = 0
    /// Uptime (nanoseconds) when the pass ended.
    var passEnded: UInt64 = 0
    /// The pass's successful answers still to be encoded; nil when nobody counts them.
    var answers: PassAnswers?
}

/// Counts down the successful answers of one pass as they are encoded, so that the last one records the pass's
/// `compute_output` (`MetricsRegistry.batchAnswered`).
///
/// Thread safety: `lock` guards `remaining`.
final class PassAnswers: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: Int

    init(count: Int) {
        remaining = count
    }

    /// Counts one answer encoded; whether it was the last.
    func answered() -> Bool {
        lock.withLock {
            remaining -= 1
            return remaining == 0
        }
    }
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

import Foundation
import HTTPServer
import PerceiverEngine

extension Router {
    /// Hands `inputs` to `served`'s batcher and answers when its batch has run: `render` turns this request's
    /// own outputs into its response (on a global queue, never a connection's). Accounts for the request in
    /// the metrics (in flight, status, failure reason) and puts its batch id and size in its log line.
    ///
    /// Refused at once: more rows than `max_batch_size`, inputs or outputs over the size limits, a pass whose
    /// estimated memory is over the model's budget, a bad `priority`, a full queue. Dropped without compute: a
    /// client that leaves while the request waits, a queue timeout that passes. A request that fits the budget
    /// but not beside the passes running now waits in the queue.
    func schedule(_ inputs: ModelInputs, on served: ServedModel, timeout: Int?, priority: Int?,
                  context: RequestContext, start: Date, respond: @escaping @Sendable (HTTPResponse) -> Void,
                  render: @escaping @Sendable (ModelOutputs) throws(RequestError) -> HTTPResponse) {
        let metrics = self.metrics
        let name = served.name
        let logger = context.logger
        let retryAfter = limits.retryAfterSeconds
        metrics.adjustInFlight(model: name, by: 1)
        let finish: @Sendable (Result<JobResult, RequestError>) -> Void = { outcome in
            var response: HTTPResponse
            var failure: RequestError?
            do throws(RequestError) {
                let result = try outcome.get()
                response = try render(result.outputs)
                response.logMetadata["batch.id"] = String(result.batch.id)
                response.logMetadata["batch.rows"] = String(result.batch.rows)
                response.logMetadata["batch.requests"] = String(result.batch.requests)
            } catch {
                failure = error
                response = Self.response(for: error, logger: logger, retryAfter: retryAfter)
            }
            metrics.adjustInFlight(model: name, by: -1)
            response.logMetadata["model"] = name
            Self.account(response, model: name, start: start, metrics: metrics, failure: failure)
            respond(response)
        }
        let policy = served.scheduler.policy
        let rows = served.model.rowCount(of: inputs)
        let job: InferenceJob
        do throws(RequestError) {
            guard rows <= policy.maxBatchSize else {
                throw RequestError.batchTooLarge(rows: rows, limit: policy.maxBatchSize)
            }
            try checkSizes(inputs, of: served.model)
            let cancellation = context.cancellation
            job = InferenceJob(inputs: inputs, rows: rows, bytes: served.model.estimatedPassBytes(inputs),
                               queueIndex: try policy.queueIndex(priority: priority),
                               timeoutMicroseconds: policy.timeoutMicroseconds(requested: timeout),
                               isCanceled: { [weak cancellation] in cancellation?.isCancelled ?? true },
                               completion: finish)
            try served.scheduler.submit(job)
        } catch {
            return finish(.failure(error))
        }
        let scheduler = served.scheduler
        context.cancellation.onCancel { [weak scheduler, weak job] in
            guard let scheduler, let job else { return }
            scheduler.cancel(job)
        }
    }

    /// Counts a finished inference request (and its failure reason) for `model`. `failure` is the error it
    /// failed with, when known; otherwise the reason follows from the status.
    static func account(_ response: HTTPResponse, model: String, start: Date, metrics: MetricsRegistry,
                        failure: RequestError? = nil) {
        if response.status >= 400 {
            metrics.inferenceFailed(model: model, reason: failure.map(failureReason) ?? failureReason(response.status))
        }
        metrics.inferenceFinished(model: model, status: response.status, totalSeconds: Date().timeIntervalSince(start))
    }
}

/// The failure counter's reason for a request that failed with `error`.
func failureReason(_ error: RequestError) -> MetricsRegistry.FailureReason {
    switch error {
    case .queueFull, .unavailable: return .rejected
    case .timeoutExpired: return .timeout
    case .canceled: return .canceled
    default: return failureReason(error.status)
    }
}

/// The failure counter's reason for an error status.
func failureReason(_ status: Int) -> MetricsRegistry.FailureReason {
    switch status {
    case 503: return .rejected
    case 400..<500: return .invalid
    default: return .internal
    }
}

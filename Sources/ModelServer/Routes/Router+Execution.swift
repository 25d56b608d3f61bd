import Foundation
import HTTPServer
import PerceiverEngine

extension Router {
    /// What one forward pass produced for a route: its response and how many rows (B) it ran.
    struct Execution {
        var response: HTTPResponse
        var rows: Int
    }

    /// Runs `work` on the model's queue (never the connection's) and accounts for it in the metrics: in-flight,
    /// queue depth, queue and compute time, rows, total time and status, failures by reason. `respond` gets
    /// the result.
    func execute(on served: ServedModel, context: RequestContext, start: Date,
                 respond: @escaping @Sendable (HTTPResponse) -> Void,
                 work: @escaping @Sendable () throws(RequestError) -> Execution) {
        let metrics = self.metrics
        let name = served.name
        metrics.adjustInFlight(model: name, by: 1)
        metrics.setQueueDepth(model: name, served.adjustWaiting(by: 1))
        served.queue.async {
            metrics.setQueueDepth(model: name, served.adjustWaiting(by: -1))
            let queued = Date()
            var response: HTTPResponse
            do {
                let result = try work()
                metrics.batchExecuted(model: name, rows: result.rows, queueSeconds: [queued.timeIntervalSince(start)],
                                      computeSeconds: Date().timeIntervalSince(queued))
                response = result.response
            } catch {
                response = Self.response(for: error, logger: context.logger)
            }
            metrics.adjustInFlight(model: name, by: -1)
            response.logMetadata["model"] = name
            Self.account(response, model: name, start: start, metrics: metrics)
            respond(response)
        }
    }

    /// Counts a finished inference request (and its failure reason) for `model`.
    static func account(_ response: HTTPResponse, model: String, start: Date, metrics: MetricsRegistry) {
        if response.status >= 400 { metrics.inferenceFailed(model: model, reason: failureReason(response.status)) }
        metrics.inferenceFinished(model: model, status: response.status, totalSeconds: Date().timeIntervalSince(start))
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

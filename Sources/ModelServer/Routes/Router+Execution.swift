import Dispatch
import Foundation
import HTTPServer
import PerceiverEngine

extension Router {
    /// Hands `inputs` to `served`'s batcher and answers when its batch has run: `render` turns this request's
    /// own answer into its response (on a global queue, never a connection's). Accounts for the request in
    /// the metrics (in flight, status, failure reason) and puts its batch id and size, and where its latents
    /// came from (`latents=hit|miss|explicit`), in its log line.
    ///
    /// The latents come from the encoder, the model's latent cache (by the encoder inputs' hash, or by
    /// `latentsID`, looked up in `scope`), or a `latents` input (`latentSource`); a request that finds them
    /// skips preprocessing and the encoder.
    ///
    /// Refused at once: more rows than `max_batch_size`, inputs or outputs over the size limits, a pass whose
    /// estimated memory is over the model's budget, a bad `priority`, a full queue, an unknown `latentsID`.
    /// Dropped without compute: a client that leaves while the request waits, a queue timeout that passes. A
    /// request that fits the budget but not beside the passes running now waits in the queue.
    func schedule(_ inputs: ModelInputs, latentsID: String? = nil, on served: ServedModel, timeout: Int?,
                  priority: Int?, context: RequestContext, scope: String, start: Date,
                  respond: @escaping @Sendable (HTTPResponse) -> Void,
                  render: @escaping @Sendable (Answer) throws(RequestError) -> HTTPResponse) {
        let complete = completion(on: served, context: context, start: start, respond: respond, render: render)
        do throws(RequestError) {
            let tiling: FlowTiling?
            do throws(InferenceError) { tiling = try served.model.flowTiling(inputs) } catch {
                throw RequestError.inference(error)
            }
            if let tiling {
                return try scheduleTiles(inputs, tiling: tiling, latentsID: latentsID, on: served, timeout: timeout,
                                         priority: priority, context: context, scope: scope, complete: complete)
            }
            try latentSource(inputs, latentsID: latentsID, on: served, scope: scope) { source, label in
                submit(inputs, source: source, on: served, timeout: timeout, priority: priority, context: context,
                       scope: scope) { complete($0, label) }
            }
        } catch {
            complete(.failure(error), "")
        }
    }

    /// What answers one request once its batch (or, for tiled frames, its last batch) is over: counts it in flight
    /// until then, renders the answer or the error, and writes the log fields (`latents` from the label).
    private func completion(on served: ServedModel, context: RequestContext, start: Date,
                            respond: @escaping @Sendable (HTTPResponse) -> Void,
                            render: @escaping @Sendable (Answer) throws(RequestError) -> HTTPResponse)
        -> @Sendable (Result<(Answer, BatchInfo), RequestError>, String) -> Void {
        let metrics = self.metrics
        let name = served.name
        let logger = context.logger
        let retryAfter = limits.retryAfterSeconds
        metrics.adjustInFlight(model: name, by: 1)
        return { outcome, label in
            var response: HTTPResponse
            var failure: RequestError?
            var batch: BatchInfo?
            do throws(RequestError) {
                let (answer, info) = try outcome.get()
                batch = info
                response = try render(answer)
                response.logMetadata["batch.id"] = String(info.id)
                response.logMetadata["batch.rows"] = String(info.rows)
                response.logMetadata["batch.requests"] = String(info.requests)
                response.logMetadata["batch.threads"] = String(info.threads)
                response.logMetadata["batch.threads.mean"] = String(format: "%.2f", info.meanThreads)
            } catch {
                failure = error
                response = Self.response(for: error, logger: logger, retryAfter: retryAfter)
            }
            metrics.adjustInFlight(model: name, by: -1)
            response.logMetadata["model"] = name
            if !label.isEmpty { response.logMetadata["latents"] = label }
            // Recorded before the answer leaves, so that a client that has it finds it in /metrics and /stats.
            let phases = batch.map { Self.phases(of: $0, model: name, metrics: metrics) }
            Self.account(response, model: name, start: start, metrics: metrics, failure: failure, phases: phases)
            respond(response)
        }
    }

    /// Queues one request whose latents come from `source`. Rows: a request that runs the encoder counts its
    /// B rows toward `max_batch_size`; one whose latents are cached or given counts its B rows toward a
    /// second, separate `max_batch_size` of decode-only rows, so it never takes an encoder row's place
    /// (`BatchDecision`). Memory: the whole pass, or the decode alone (`estimatedDecodeBytes`).
    func submit(_ inputs: ModelInputs, source: LatentSource, on served: ServedModel, timeout: Int?,
                        priority: Int?, context: RequestContext, scope: String,
                        complete: @escaping @Sendable (Result<(Answer, BatchInfo), RequestError>) -> Void) {
        let (model, cache, metrics, name) = (served.model, served.latentCache, self.metrics, served.name)
        let finish: @Sendable (Result<JobResult, RequestError>) -> Void = { outcome in
            let answered = outcome.map { job -> (Answer, BatchInfo) in
                switch source {
                case .encode(let key, _):
                    // Kept before any waiting request is released, so that each finds them (and gets an id).
                    let id = key.flatMap { key in job.latents.flatMap { cache?.insert($0, key: key, scope: scope) } }
                    return (Answer(outputs: job.outputs, latents: job.latents?.tensor, latentsID: id), job.batch)
                case .cached(let latents, let id):
                    return (Answer(outputs: job.outputs, latents: latents.tensor, latentsID: id), job.batch)
                case .given:
                    return (Answer(outputs: job.outputs, latents: inputs.floats("latents"), latentsID: nil), job.batch)
                }
            }
            switch source {
            case .encode(let key?, true): cache?.finish(key, latents: (try? outcome.get())?.latents)
            case .encode: break
            case .cached, .given: if case .success = outcome { metrics.encoderPassSaved(model: name) }
            }
            complete(answered)
        }
        let request: PassRequest
        let rows: Int, decodeRows: Int, bytes: Int
        switch source {
        case .encode:
            request = PassRequest(inputs: inputs)
            rows = model.rowCount(of: inputs)
            decodeRows = 0
            bytes = model.estimatedPassBytes(inputs)
        case .cached(let latents, _):
            request = PassRequest(inputs: inputs, latents: latents)
            (rows, decodeRows) = (0, latents.batch)
            bytes = model.estimatedDecodeBytes(latents, selecting: inputs)
        case .given:
            request = PassRequest(inputs: inputs)
            (rows, decodeRows) = (0, max(1, inputs["latents"]?.shape.first ?? 1))
            bytes = model.estimatedPassBytes(inputs)
        }
        let policy = served.scheduler.policy
        let job: InferenceJob
        do throws(RequestError) {
            guard max(rows, decodeRows) <= policy.maxBatchSize else {
                throw RequestError.batchTooLarge(rows: max(rows, decodeRows), limit: policy.maxBatchSize)
            }
            try checkSizes(inputs, of: model)
            let cancellation = context.cancellation
            job = InferenceJob(request: request, rows: rows, decodeRows: decodeRows, bytes: bytes,
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
    /// failed with, when known; otherwise the reason follows from the status. `phases`: how its time divided,
    /// when it went through a pass.
    static func account(_ response: HTTPResponse, model: String, start: Date, metrics: MetricsRegistry,
                        failure: RequestError? = nil, phases: InferencePhases? = nil) {
        if response.status >= 400 {
            metrics.inferenceFailed(model: model, reason: failure.map(failureReason) ?? failureReason(response.status))
        }
        metrics.inferenceFinished(model: model, status: response.status, totalSeconds: Date().timeIntervalSince(start),
                                  phases: phases)
    }

    /// The phases of a request answered from `batch`, its answer encoded now; the pass's last answer also
    /// records the pass's `compute_output`.
    private static func phases(of batch: BatchInfo, model: String, metrics: MetricsRegistry) -> InferencePhases {
        let now = DispatchTime.now().uptimeNanoseconds
        let output = Double(now >= batch.passEnded ? now - batch.passEnded : 0) / 1e9
        if batch.answers?.answered() == true {
            metrics.batchAnswered(model: model, rows: batch.rows, outputSeconds: output)
        }
        return InferencePhases(rows: batch.requestRows, queue: batch.queueSeconds, computeInput: batch.inputSeconds,
                               computeInfer: batch.computeSeconds, computeOutput: output)
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

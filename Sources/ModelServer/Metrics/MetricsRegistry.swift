import Foundation

/// The daemon's Prometheus metrics: updated by the HTTP and inference paths from any thread, rendered by
/// `GET /metrics` in text format 0.0.4. Model-labelled series exist only for models passed to `register(model:)`
/// (created at zero so dashboards see them before traffic); updates naming any other model are dropped, so a
/// client cannot grow the label set by asking for models that do not exist. Each registered model also has
/// its `ModelStatistics` (Triton's statistics extension), updated under the same lock by the same calls as its
/// series, so `GET /v2/models/{m}/stats` and `/metrics` always agree; both are kept by name, so a model
/// registered again (reloaded) keeps counting where it was.
///
/// Thread safety: `lock` owns `state`; every other stored property is immutable. That is why the class is
/// `@unchecked Sendable`.
public final class MetricsRegistry: @unchecked Sendable {
    /// Why an inference request failed, the `reason` label of `perceiverd_inference_failures_total`.
    public enum FailureReason: String, CaseIterable, Sendable {
        /// The request was malformed or did not fit the model (a 4xx answer).
        case invalid
        /// The model's queue was full, or another 503 (still loading, draining, the work pool full).
        case rejected
        /// The request's queue timeout passed before it reached compute (503 `request timeout expired`, as
        /// Triton answers; `RequestError.timeoutExpired`).
        case timeout
        /// The client went away before the answer.
        case canceled
        /// The engine failed (500).
        case `internal`
    }

    /// Default bounds for the duration histograms, in seconds: 0.5 ms to 10 s, roughly exponential.
    public static let defaultDurationBuckets: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]
    /// Default bounds for the batch-size histogram, in rows per forward pass.
    public static let defaultBatchSizeBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    /// Bounds of the pass-threads histogram: cores a forward pass took (`CorePool`).
    static let passThreadsBuckets: [Double] = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128]
    /// The `Content-Type` to serve `render()` with.
    public static let contentType = PrometheusText.contentType

    private let lock = NSLock()
    private var state: MetricsState
    private let processStartTime: Double?

    /// An empty registry. The bucket bounds are finite upper bounds; `+Inf` is always added.
    public init(durationBuckets: [Double] = MetricsRegistry.defaultDurationBuckets,
                batchSizeBuckets: [Double] = MetricsRegistry.defaultBatchSizeBuckets) {
        state = MetricsState(durationBuckets: durationBuckets, batchSizeBuckets: batchSizeBuckets)
        processStartTime = ProcessMetrics.startTimeSeconds() ?? Date().timeIntervalSince1970
    }

    /// What `perceiverd_model_info` says about a model, one label each (the value is always 1).
    public struct ModelInfo: Sendable {
        public var version: String
        /// The `config.json` class.
        public var architecture: String
        /// The precision the model runs in, and the one its configuration asked for (`f32`, `bf16`, `auto`).
        public var precision: String
        public var requestedPrecision: String

        public init(version: String, architecture: String, precision: String, requestedPrecision: String) {
            self.version = version
            self.architecture = architecture
            self.precision = precision
            self.requestedPrecision = requestedPrecision
        }
    }

    /// Counts one lookup of `model`'s latent cache, a hit or a miss, that took `seconds` (hashing the encoder
    /// inputs and looking them up, and for a request that waited for an identical one's encode, that wait).
    public func latentCache(model: String, miss: Bool, seconds: Double = 0) {
        withModel(model) { state in
            state.latentLookups.add(1, [model, miss ? "miss" : "hit"])
            state.updateStatistics(of: model) { statistics in
                if miss { statistics.cacheMiss.add(seconds: seconds) } else { statistics.cacheHit.add(seconds: seconds) }
            }
        }
    }

    /// Counts one entry evicted from `model`'s latent cache.
    public func latentCacheEvicted(model: String) {
        withModel(model) { $0.latentEvictions.add(1, [model]) }
    }

    /// Sets the entries and bytes `model`'s latent cache holds.
    public func setLatentCacheSize(model: String, entries: Int, bytes: Int) {
        withModel(model) { state in
            state.latentEntries.set(Double(entries), [model])
            state.latentBytes.set(Double(bytes), [model])
        }
    }

    /// Counts a request answered without its encoder pass (its latents came from the cache or the client).
    public func encoderPassSaved(model: String) {
        withModel(model) { $0.encoderPassesSaved.add(1, [model]) }
    }

    /// Sets the work pool gauges: jobs running and waiting (parsing, inflating, decoding).
    public func setWorkPool(running: Int, waiting: Int) {
        withState { state in
            state.workRunning.set(Double(running), [])
            state.workWaiting.set(Double(waiting), [])
        }
    }

    /// Creates every series of `model` at zero: counters, histograms, gauges, each failure reason, and
    /// `perceiverd_inference_requests_total` for status 200; with `info`, `perceiverd_model_info` at 1. Its
    /// statistics start at zero too. Registering twice changes nothing.
    public func register(model: String, info: ModelInfo? = nil) {
        withState { state in
            state.models.insert(model)
            state.touchSeries(of: model)
            if state.statistics[model] == nil { state.statistics[model] = ModelStatistics() }
            if let info {
                // A reload may change the version or the precision: one info series per model.
                state.modelInfo.removeSeries(first: model)
                state.modelInfo.set(1, [model, info.version, info.architecture, info.precision, info.requestedPrecision])
            }
        }
    }

    /// Counts one HTTP response with `status` (`perceiverd_http_requests_total{code}`).
    public func httpResponse(status: Int) {
        withState { $0.httpRequests.add(1, [String(status)]) }
    }

    /// Counts one answered inference request with its HTTP `status` and observes its time from acceptance to
    /// answer in `perceiverd_inference_request_duration_seconds`. Call it for failures too (status 400 and
    /// above), beside `inferenceFailed(model:reason:)`. In the statistics it is a `success` (with its rows and
    /// `phases`, when it went through a pass) or a `fail`.
    public func inferenceFinished(model: String, status: Int, totalSeconds: Double, phases: InferencePhases? = nil) {
        withModel(model) { state in
            state.inferenceRequests.add(1, [model, String(status)])
            state.requestDuration.observe(totalSeconds, [model])
            state.updateStatistics(of: model) { statistics in
                guard status < 400 else { return statistics.fail.add(seconds: totalSeconds) }
                statistics.success.add(seconds: totalSeconds)
                guard let phases else { return }
                statistics.inferenceCount += UInt64(max(0, phases.rows))
                statistics.queue.add(seconds: phases.queue)
                statistics.computeInput.add(seconds: phases.computeInput)
                statistics.computeInfer.add(seconds: phases.computeInfer)
                statistics.computeOutput.add(seconds: phases.computeOutput)
            }
        }
    }

    /// Counts one failed inference request by `reason` (`perceiverd_inference_failures_total`).
    public func inferenceFailed(model: String, reason: FailureReason) {
        withModel(model) { $0.inferenceFailures.add(1, [model, reason.rawValue]) }
    }

    /// Records one forward pass of `rows` rows (B): the batch-size histogram, the executions and rows counters,
    /// `computeSeconds` (the pass) in the compute histogram, each element of `queueSeconds` (one per request
    /// in the batch: its wait from being queued to the batch being taken for this pass) in the queue histogram,
    /// and the cores the pass held on average (`threads`, when given) in the pass-threads histogram.
    /// In the statistics: `execution_count`, `last_inference` (now), and the pass's `compute_input`
    /// (`inputSeconds`, from taking the batch to the pass) and `compute_infer` under its batch size.
    public func batchExecuted(model: String, rows: Int, queueSeconds: [Double], computeSeconds: Double,
                              inputSeconds: Double = 0, threads: Double? = nil) {
        withModel(model) { state in
            state.batchSize.observe(Double(rows), [model])
            if let threads { state.passThreads.observe(Double(threads), [model]) }
            state.executions.add(1, [model])
            state.rows.add(Double(rows), [model])
            state.computeDuration.observe(computeSeconds, [model])
            for seconds in queueSeconds {
                state.queueDuration.observe(seconds, [model])
            }
            state.updateStatistics(of: model) { statistics in
                statistics.executionCount += 1
                statistics.lastInferenceMilliseconds = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
                statistics.batches[rows, default: ModelStatistics.Batch()].computeInput.add(seconds: inputSeconds)
                statistics.batches[rows, default: ModelStatistics.Batch()].computeInfer.add(seconds: computeSeconds)
            }
        }
    }

    /// Records the `compute_output` of one pass of `rows` rows, once its last successful answer is encoded:
    /// `outputSeconds` from the end of the pass to then.
    public func batchAnswered(model: String, rows: Int, outputSeconds: Double) {
        withModel(model) { state in
            state.updateStatistics(of: model) { statistics in
                statistics.batches[rows, default: ModelStatistics.Batch()].computeOutput.add(seconds: outputSeconds)
            }
        }
    }

    /// `model`'s statistics so far, or nil when it was never registered.
    public func statistics(of model: String) -> ModelStatistics? {
        withState { $0.statistics[model] }
    }

    /// Sets the number of requests accepted and not yet answered (`perceiverd_inference_in_flight`).
    public func setInFlight(model: String, _ count: Int) {
        withModel(model) { $0.inFlight.set(Double(count), [model]) }
    }

    /// Adds `delta` (negative to subtract) to the in-flight gauge: +1 on acceptance, -1 on answer.
    public func adjustInFlight(model: String, by delta: Int) {
        withModel(model) { $0.inFlight.add(Double(delta), [model]) }
    }

    /// Sets the number of requests waiting for compute (`perceiverd_inference_queue_depth`).
    public func setQueueDepth(model: String, _ depth: Int) {
        withModel(model) { $0.queueDepth.set(Double(depth), [model]) }
    }

    /// Sets the number of open client connections (`perceiverd_http_connections`).
    public func setOpenConnections(_ count: Int) {
        withState { $0.openConnections.set(Double(count), []) }
    }

    /// Sets the cores shared by every model's passes (`perceiverd_compute_threads`) and those they hold now
    /// (`perceiverd_compute_threads_in_use`).
    func setComputeThreads(total: Int, inUse: Int) {
        withState {
            $0.computeThreads.set(Double(total), [])
            $0.computeThreadsInUse.set(Double(inUse), [])
        }
    }

    /// Sets the number of models loaded and ready to serve (`perceiverd_models_ready`).
    public func setModelsReady(_ count: Int) {
        withState { $0.modelsReady.set(Double(count), []) }
    }

    /// The whole exposition in text format 0.0.4, families sorted by name and series by label values, followed
    /// by the process metrics read from `/proc/self` (each skipped if its read fails).
    public func render() -> String {
        let snapshot = withState { $0 }
        return PrometheusText.render(snapshot.families + ProcessMetrics.families(startTime: processStartTime))
    }

    private func withState<T>(_ body: (inout MetricsState) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&state)
    }

    private func withModel(_ model: String, _ body: (inout MetricsState) -> Void) {
        withState { state in
            guard state.models.contains(model) else { return }
            body(&state)
        }
    }
}

/// Every family the registry keeps, as one value so `render()` can copy it under the lock.
struct MetricsState: Sendable {
    var models: Set<String> = []
    /// Triton's statistics extension, by model name (created by `register`).
    var statistics: [String: ModelStatistics] = [:]
    var httpRequests = ScalarFamily("perceiverd_http_requests_total", .counter, labels: ["code"],
                                    help: "HTTP responses sent, by status code.")
    var inferenceRequests = ScalarFamily("perceiverd_inference_requests_total", .counter, labels: ["model", "status"],
                                         help: "Inference requests answered, by model and HTTP status.")
    var inferenceFailures = ScalarFamily("perceiverd_inference_failures_total", .counter, labels: ["model", "reason"],
                                         help: "Inference requests that failed, by model and reason.")
    var executions = ScalarFamily("perceiverd_inference_executions_total", .counter, labels: ["model"],
                                  help: "Forward passes run, by model.")
    var rows = ScalarFamily("perceiverd_inference_rows_total", .counter, labels: ["model"],
                            help: "Rows computed in forward passes, by model.")
    var inFlight = ScalarFamily("perceiverd_inference_in_flight", .gauge, labels: ["model"],
                                help: "Inference requests accepted and not yet answered, by model.")
    var queueDepth = ScalarFamily("perceiverd_inference_queue_depth", .gauge, labels: ["model"],
                                  help: "Inference requests waiting for compute, by model.")
    var modelsReady = ScalarFamily("perceiverd_models_ready", .gauge, help: "Models loaded and ready to serve.")
    var modelInfo = ScalarFamily("perceiverd_model_info", .gauge,
                                 labels: ["model", "version", "architecture", "precision", "requested_precision"],
                                 help: "Always 1: what each served model is and the precision it runs in.")
    var openConnections = ScalarFamily("perceiverd_http_connections", .gauge, help: "Open client connections.")
    var latentLookups = ScalarFamily("perceiverd_latent_cache_lookups_total", .counter, labels: ["model", "result"],
                                     help: "Latent cache lookups by request inputs, by model and result (hit or miss).")
    var latentEvictions = ScalarFamily("perceiverd_latent_cache_evictions_total", .counter, labels: ["model"],
                                       help: "Latents evicted from the cache to make room, by model.")
    var latentEntries = ScalarFamily("perceiverd_latent_cache_entries", .gauge, labels: ["model"],
                                     help: "Latents held in the cache, by model.")
    var latentBytes = ScalarFamily("perceiverd_latent_cache_bytes", .gauge, labels: ["model"],
                                   help: "Bytes of latents held in the cache, by model.")
    var encoderPassesSaved = ScalarFamily("perceiverd_encoder_passes_saved_total", .counter, labels: ["model"],
                                          help: "Requests answered without an encoder pass: latents cached or given.")
    var workRunning = ScalarFamily("perceiverd_work_pool_running", .gauge,
                                   help: "Request bodies being inflated, parsed or decoded on the work pool.")
    var workWaiting = ScalarFamily("perceiverd_work_pool_waiting", .gauge,
                                   help: "Request bodies waiting for a work pool thread.")
    var computeThreads = ScalarFamily("perceiverd_compute_threads", .gauge,
                                      help: "Cores the models' forward passes share (the configuration's threads).")
    var computeThreadsInUse = ScalarFamily("perceiverd_compute_threads_in_use", .gauge,
                                           help: "Cores held by forward passes running now.")
    var passThreads = HistogramFamily("perceiverd_inference_pass_threads", labels: ["model"],
                                      buckets: MetricsRegistry.passThreadsBuckets,
                                      help: "oneDNN threads (cores) each forward pass held on average, from the shared pool.")
    var requestDuration: HistogramFamily
    var queueDuration: HistogramFamily
    var computeDuration: HistogramFamily
    var batchSize: HistogramFamily

    init(durationBuckets: [Double], batchSizeBuckets: [Double]) {
        requestDuration = HistogramFamily("perceiverd_inference_request_duration_seconds", labels: ["model"],
                                          buckets: durationBuckets,
                                          help: "Time from accepting an inference request to answering it.")
        queueDuration = HistogramFamily("perceiverd_inference_queue_duration_seconds", labels: ["model"],
                                        buckets: durationBuckets,
                                        help: "Time an inference request waited before its forward pass started.")
        computeDuration = HistogramFamily("perceiverd_inference_compute_duration_seconds", labels: ["model"],
                                          buckets: durationBuckets, help: "Time of one forward pass.")
        batchSize = HistogramFamily("perceiverd_inference_batch_size", labels: ["model"], buckets: batchSizeBuckets,
                                    help: "Rows per forward pass.")
        modelsReady.touch([])
        workRunning.touch([])
        workWaiting.touch([])
        computeThreads.touch([])
        computeThreadsInUse.touch([])
    }

    /// Applies `change` to `model`'s statistics, if it has any.
    mutating func updateStatistics(of model: String, _ change: (inout ModelStatistics) -> Void) {
        guard statistics[model] != nil else { return }
        change(&statistics[model, default: ModelStatistics()])
    }

    /// Creates every series labelled with `model` at zero.
    mutating func touchSeries(of model: String) {
        inferenceRequests.touch([model, "200"])
        for reason in MetricsRegistry.FailureReason.allCases {
            inferenceFailures.touch([model, reason.rawValue])
        }
        executions.touch([model])
        rows.touch([model])
        inFlight.touch([model])
        queueDepth.touch([model])
        requestDuration.touch([model])
        queueDuration.touch([model])
        computeDuration.touch([model])
        batchSize.touch([model])
        passThreads.touch([model])
        latentLookups.touch([model, "hit"])
        latentLookups.touch([model, "miss"])
        latentEvictions.touch([model])
        latentEntries.touch([model])
        latentBytes.touch([model])
        encoderPassesSaved.touch([model])
    }

    /// Every family, in no particular order.
    var families: [any ExpositionFamily] {
        [httpRequests, inferenceRequests, inferenceFailures, executions, rows, inFlight, queueDepth, modelsReady,
         modelInfo, openConnections, workRunning, workWaiting, latentLookups, latentEvictions, latentEntries,
         latentBytes, encoderPassesSaved, requestDuration, queueDuration, computeDuration, batchSize,
         computeThreads, computeThreadsInUse, passThreads]
    }
}

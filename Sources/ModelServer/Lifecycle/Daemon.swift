import Dispatch
import Foundation
import Glibc
import HTTPServer
import Logging
import PerceiverEngine

/// The serving process: binds the listeners, loads and warms every model, reports ready (to probes and to
/// systemd), and on SIGTERM/SIGINT drains and returns.
public final class Daemon: @unchecked Sendable {
    // Immutable after init except what `start()` sets before any signal source or server queue exists: `server`,
    // `access`, `environment` (emptied), `signalSources`, `watchdog`.
    public let configuration: ServerConfiguration
    public let state = ServerState()
    public let metrics = MetricsRegistry()
    private let logger: Logger
    private let notifier = SystemdNotifier()
    private let version: String
    /// The process environment, read for `$PERCEIVERD_TOKENS` in `start()` and then emptied, so that no
    /// plaintext token outlives the digests.
    private var environment: [String: String]
    /// Set once in `start()`, before the server that reads it exists.
    private var access = AccessPolicy.open
    private var server: HTTPServer?
    private var signalSources: [DispatchSourceSignal] = []
    private var watchdog: DispatchSourceTimer?
    private let signalQueue = DispatchQueue(label: "perceiverd.signals")

    public init(configuration: ServerConfiguration, logger: Logger, version: String,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.configuration = configuration
        self.logger = logger
        self.version = version
        self.environment = environment
    }

    /// Runs until a termination signal has been handled and the drain is over.
    /// - Throws: `DaemonError` for startup failures (listener, TLS, model); the caller prints it and exits 1.
    public func run() throws(DaemonError) {
        let finished = DispatchSemaphore(value: 0)
        try start { finished.signal() }
        finished.wait()
        logger.info("stopped")
    }

    /// Binds, loads, warms, and reports ready; `stopped` runs after a signal-triggered drain.
    /// `handlesSignals: false` leaves SIGTERM/SIGINT alone (tests embedding a daemon call `stop` instead).
    public func start(handlesSignals: Bool = true, stopped: @escaping @Sendable () -> Void) throws(DaemonError) {
        let threads = configuration.computeThreads
        let descriptors = DescriptorBudget.raiseSoftLimit()
        logger.info("perceiverd \(version) starting", metadata: [
            "onednn.version": "\(DNNLInfo.version)", "onednn.isa": "\(DNNLInfo.isa)", "threads": "\(threads)",
            "descriptors.limit": "\(descriptors)", "cpu": "\(DNNLInfo.cpuModel)",
            "onednn.bf16": "\(BF16Support.current.summary)",
        ])
        if let problem = DNNLInfo.dispatchFloorProblem() { throw DaemonError.cpu(problem) }
        do { access = try AccessPolicy(configuration.auth, environment: environment) } catch {
            throw DaemonError.access(error.description)
        }
        environment = [:]
        let server = HTTPServer(configuration: try httpConfiguration(), handler: router, logger: logger)
        let metrics = self.metrics
        server.onResponse = { metrics.httpResponse(status: $0) }
        server.onConnectionCount = { metrics.setOpenConnections($0) }
        do { try server.start() } catch { throw DaemonError.listen(error.description) }
        self.server = server
        if handlesSignals { installSignalHandlers(stopped: stopped) }
        logger.info("listening", metadata: ["http.port": "\(server.port)", "connections.cap": "\(server.connectionCap)",
                                            "https.port": "\(server.tlsPort.map(String.init) ?? "off")",
                                            "auth": "\(accessSummary)"])
        let models = try loadModels()
        guard state.becomeReady(with: ModelRegistry(models: models)) else {
            models.forEach { $0.stop() }
            logger.info("stopping before ready")
            return
        }
        metrics.setModelsReady(models.count)
        notifier.notify("READY=1\nSTATUS=serving \(models.count) model(s) on port \(server.port)")
        startWatchdog()
        logger.info("ready", metadata: ["models": "\(models.map(\.name).joined(separator: ","))"])
    }

    /// The bound HTTP port (after `start`).
    public var port: Int { server?.port ?? 0 }
    /// The bound HTTPS port, when TLS is on.
    public var tlsPort: Int? { server?.tlsPort }

    /// Begins the drain as a signal would.
    public func stop(stopped: @escaping @Sendable () -> Void) {
        state.beginDraining()
        metrics.setModelsReady(0)
        notifier.notify("STOPPING=1\nSTATUS=draining")
        logger.info("draining", metadata: ["timeout.ms": "\(configuration.drainTimeoutMilliseconds)"])
        // The schedulers run what is queued at once (no more waiting out a queue delay) and refuse new work,
        // which the draining router refuses anyway; the server then waits for those answers.
        state.registry.models.forEach { $0.stop() }
        guard let server else { return stopped() }
        server.shutdown(timeout: Double(configuration.drainTimeoutMilliseconds) / 1000, completion: stopped)
    }

    /// The served models (empty until ready).
    public var models: [ServedModel] { state.registry.models }

    private var router: Router {
        Router(state: state, metrics: metrics, serverVersion: version, access: access)
    }

    /// How access is controlled, for the `listening` log line.
    private var accessSummary: String {
        guard let tokens = access.tokens else { return "off" }
        return "bearer (\(tokens.count) token(s), metrics \(access.protectsMetrics ? "protected" : "open"))"
    }

    /// Loads, warms and starts every model; on a failure, stops the ones already started.
    private func loadModels() throws(DaemonError) -> [ServedModel] {
        warnIfOversubscribed()
        var served: [ServedModel] = []
        for entry in configuration.models {
            do {
                served.append(try loadModel(entry))
            } catch {
                served.forEach { $0.stop() }
                throw error
            }
        }
        return served
    }

    private func loadModel(_ entry: ModelConfiguration) throws(DaemonError) -> ServedModel {
        let start = Date()
        let threads = configuration.threadsPerInstance(of: entry)
        // Validated against `PrecisionSetting` with the rest of the configuration.
        let precision = (PrecisionSetting(rawValue: entry.precision) ?? .f32).resolve()
        if let why = precision.fallback {
            logger.warning("bf16 requested, serving in f32", metadata: ["model": "\(entry.name)", "reason": "\(why)"])
        }
        let options = ExecutionOptions(precision: precision.effective, threads: threads)
        let model: PerceiverModel
        do { model = try PerceiverModel.load(directory: entry.path, options: options) } catch {
            throw DaemonError.model(name: entry.name, path: entry.path, reason: error.description)
        }
        let item: ServedModel
        do {
            item = try ServedModel(model: model, configuration: entry, threadsPerInstance: threads, metrics: metrics,
                                   precision: precision)
            try item.warmUp()
        } catch {
            throw DaemonError.model(name: entry.name, path: entry.path, reason: "warm-up failed: \(error)")
        }
        metrics.register(model: entry.name, info: MetricsRegistry.ModelInfo(
            version: entry.version, architecture: model.architecture.rawValue,
            precision: precision.effective.rawValue, requestedPrecision: precision.requested.rawValue))
        item.start()
        logger.info("model loaded", metadata: [
            "model": "\(entry.name)", "model.architecture": "\(model.architecture.rawValue)",
            "model.parameters": "\(model.parameterCount)", "model.precision": "\(precision.effective.rawValue)",
            "model.precision.requested": "\(precision.requested.rawValue)",
            "instances": "\(entry.instances)", "threads_per_instance": "\(threads)",
            "max_batch_size": "\(entry.maxBatchSize)", "load.ms": "\(Int(Date().timeIntervalSince(start) * 1000))",
        ])
        return item
    }

    /// Logs a warning when the configured instances ask for more threads than `threads` allows.
    private func warnIfOversubscribed() {
        let models = configuration.models
        let threadsUsed = models.map { $0.instances * configuration.threadsPerInstance(of: $0) }.reduce(0, +)
        guard threadsUsed > configuration.computeThreads else { return }
        logger.warning("model instances oversubscribe the cores", metadata: [
            "threads.requested": "\(threadsUsed)", "threads.available": "\(configuration.computeThreads)",
            "instances": "\(models.map(\.instances).reduce(0, +))",
        ])
    }

    private func httpConfiguration() throws(DaemonError) -> HTTPServerConfiguration {
        let limits = configuration.limits
        var tls: HTTPServerConfiguration.TLSListener?
        if let settings = configuration.tls {
            do {
                let context = try TLSContext(certificatePath: settings.certificatePath, keyPath: settings.keyPath)
                tls = HTTPServerConfiguration.TLSListener(port: settings.port, context: context)
            } catch {
                throw DaemonError.tls("\(error)")
            }
        }
        return HTTPServerConfiguration(
            host: configuration.host, port: configuration.port, tls: tls,
            parserLimits: HTTPParserLimits(maxRequestLineBytes: limits.maxRequestLineBytes,
                                           maxHeaderBytes: limits.maxHeaderBytes,
                                           maxHeaderCount: limits.maxHeaderCount, maxBodyBytes: limits.maxBodyBytes),
            maxDecompressedBytes: limits.maxDecompressedBytes, maxConnections: limits.maxConnections,
            readTimeout: Double(limits.readTimeoutMilliseconds) / 1000,
            idleTimeout: Double(limits.idleTimeoutMilliseconds) / 1000,
            writeTimeout: Double(limits.writeTimeoutMilliseconds) / 1000)
    }

    private func installSignalHandlers(stopped: @escaping @Sendable () -> Void) {
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: signalQueue)
            source.setEventHandler { [weak self] in
                guard let self, self.state.phase != .draining else { return }
                self.logger.info("received \(number == SIGTERM ? "SIGTERM" : "SIGINT")")
                self.stop(stopped: stopped)
            }
            source.resume()
            signalSources.append(source)
        }
        // SIGHUP would end the process without a drain (and systemd counts that as a clean exit, so
        // Restart=on-failure would not restart it). The configuration is read only at start: log and go on.
        signal(SIGHUP, SIG_IGN)
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: signalQueue)
        hangup.setEventHandler { [weak self] in
            self?.logger.notice("received SIGHUP: ignored (the configuration is read at start only; restart to apply changes)")
        }
        hangup.resume()
        signalSources.append(hangup)
    }

    /// `WATCHDOG=1` at half of `$WATCHDOG_USEC` (sd_watchdog_enabled(3)).
    private func startWatchdog() {
        guard let interval = SystemdNotifier.watchdogInterval() else { return }
        let timer = DispatchSource.makeTimerSource(queue: signalQueue)
        timer.schedule(deadline: .now(), repeating: interval)
        let notifier = self.notifier
        timer.setEventHandler { notifier.notify("WATCHDOG=1") }
        timer.resume()
        watchdog = timer
    }
}

/// Why the daemon could not start: printed as one line, exit status 1.
public enum DaemonError: Error, CustomStringConvertible {
    case listen(String)
    case tls(String)
    case model(name: String, path: String, reason: String)
    case access(String)
    case cpu(String)

    public var description: String {
        switch self {
        case .listen(let reason): return "cannot listen: \(reason) (is another process using the port? try --port)"
        case .tls(let reason): return "TLS: \(reason) (check tls.cert and tls.key in the config)"
        case .model(let name, let path, let reason): return "model '\(name)' at \(path): \(reason)"
        case .access(let reason): return "access control: \(reason)"
        case .cpu(let reason): return "unsupported CPU: \(reason)"
        }
    }
}

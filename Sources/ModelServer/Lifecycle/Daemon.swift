import Dispatch
import Foundation
import Glibc
import HTTPServer
import Logging
import PerceiverEngine

/// The serving process: binds the listeners, loads and warms every model, reports ready (to probes and to
/// systemd), and on SIGTERM/SIGINT drains and returns.
public final class Daemon: @unchecked Sendable {
    // Immutable after init except: `access` and `environment` (emptied), set in `start()` before the server that
    // reads them exists; `watchdog`, set in `start()`; `server` and `stopRequests`, guarded by
    // `lifecycle` (the signal thread reads them while `start()` may still run).
    public let configuration: ServerConfiguration
    public let state = ServerState()
    public let metrics = MetricsRegistry()
    /// The log settings every line of this daemon's logger follows; `/v2/logging` reads and changes them.
    public let logSwitch: LogSwitch
    private let logger: Logger
    private let notifier = SystemdNotifier()
    private let version: String
    /// The process environment, read for `$PERCEIVERD_TOKENS` in `start()` and then emptied, so that no
    /// plaintext token outlives the digests.
    private var environment: [String: String]
    /// Set once in `start()`, before the server that reads it exists.
    private var access = AccessPolicy.open
    private let lifecycle = NSLock()
    private var server_: HTTPServer?
    /// Stop requests so far: the first drains, the second closes everything at once.
    private var stopRequests = 0
    private var signalWatcher: SignalWatcher?
    private var watchdog: DispatchSourceTimer?
    private let signalQueue = DispatchQueue(label: "perceiverd.signals")
    /// How long a shutdown waits for the model workers once the connections are closed: a running pass is
    /// abandoned at its next primitive, so this is only a bound for a stuck one.
    static let workerGraceSeconds = 10.0
    /// Threads for work that grows with a request's bytes (inflating, parsing, decoding), shared by the server
    /// and the routes.
    private let workPool: WorkPool
    /// The models served and their changes at run time (the repository API, SIGHUP).
    public let repository: ModelRepository
    /// Reads the configuration again for SIGHUP (the file and the command line's flags); nil: SIGHUP is ignored.
    private let reloadConfiguration: (@Sendable () throws(ConfigurationError) -> ServerConfiguration)?
    /// Where a relative `path` in a model configuration given to the repository API resolves.
    let configurationDirectory: String

    /// A daemon logging to `logger` through `logSwitch` (by default a new one set to the configuration's
    /// `log_level`): unless `logger`'s handler already reads that switch, it is wrapped in a
    /// `SwitchedLogHandler` that does.
    public init(configuration: ServerConfiguration, logger: Logger, version: String,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                configurationDirectory: String = FileManager.default.currentDirectoryPath, logSwitch: LogSwitch? = nil,
                reloadConfiguration: (@Sendable () throws(ConfigurationError) -> ServerConfiguration)? = nil) {
        self.configuration = configuration
        let logSwitch = logSwitch ?? LogSwitch(LogSettings(level: configuration.logLevel.loggerLevel))
        self.logSwitch = logSwitch
        var logger = logger
        if (logger.handler as? SwitchedLogHandler)?.logSwitch !== logSwitch {
            logger.handler = SwitchedLogHandler(wrapping: logger.handler, logSwitch: logSwitch)
        }
        self.logger = logger
        self.version = version
        self.environment = environment
        self.configurationDirectory = configurationDirectory
        self.reloadConfiguration = reloadConfiguration
        repository = ModelRepository(configuration: configuration, state: state, metrics: metrics, logger: logger)
        let limits = configuration.limits
        workPool = WorkPool(width: limits.workThreads > 0 ? limits.workThreads : AvailableCores.current(),
                            queueLimit: limits.workQueue)
    }

    /// Runs until a termination signal has been handled and the drain is over.
    /// - Throws: `DaemonError` for startup failures (listener, TLS, model); the caller prints it and exits 1.
    public func run() throws(DaemonError) {
        let finished = DispatchSemaphore(value: 0)
        try start { finished.signal() }
        finished.wait()
        logger.info("stopped")
    }

    /// Blocks the signals the daemon handles (SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2) in the calling thread and
    /// every thread it starts later. Call it first thing in `main`, before any thread exists: a signal sent
    /// while the process starts then waits for the daemon's signal thread instead of killing the process.
    public static func holdSignals() {
        SignalWatcher.blockHandledSignals()
    }

    private var server: HTTPServer? { lifecycle.withLock { server_ } }

    /// Binds, loads, warms, and reports ready; `stopped` runs after a signal-triggered drain.
    /// `handlesSignals: false` leaves the signals alone (tests embedding a daemon call `stop` instead). With
    /// signals handled, the watcher starts before anything else, so a SIGTERM during start-up is a drain too.
    /// - Throws: `DaemonError`; everything started so far is stopped first.
    public func start(handlesSignals: Bool = true, stopped: @escaping @Sendable () -> Void) throws(DaemonError) {
        if handlesSignals { watchSignals(stopped: stopped) }
        do {
            try startServing()
        } catch {
            shutDownAfterFailedStart()
            throw error
        }
    }

    private func startServing() throws(DaemonError) {
        let threads = configuration.computeThreads
        let descriptors = DescriptorBudget.raiseSoftLimit()
        logger.info("perceiverd \(version) starting", metadata: [
            "onednn.version": "\(DNNLInfo.version)", "onednn.isa": "\(DNNLInfo.isa)", "threads": "\(threads)",
            "descriptors.limit": "\(descriptors)", "cpu": "\(DNNLInfo.cpuModel)",
            "onednn.bf16": "\(BF16Support.current.summary)",
        ])
        if let problem = DNNLInfo.dispatchFloorProblem() { throw DaemonError.cpu(problem) }
        do { access = try AccessPolicy(configuration.auth, admin: configuration.admin, environment: environment) } catch {
            throw DaemonError.access(error.description)
        }
        environment = [:]
        let server = HTTPServer(configuration: try httpConfiguration(), handler: router, logger: logger,
                                workPool: workPool)
        let metrics = self.metrics
        server.onResponse = { metrics.httpResponse(status: $0) }
        server.onConnectionCount = { metrics.setOpenConnections($0) }
        do { try server.start() } catch { throw DaemonError.listen(error.description) }
        let drainBegan = lifecycle.withLock { () -> Bool in
            server_ = server
            return stopRequests > 0
        }
        // A stop that came while binding found no server to drain: this one drains at once.
        if drainBegan { server.shutdown(timeout: 0) {} }
        logger.info("listening", metadata: ["http.port": "\(server.port)", "connections.cap": "\(server.connectionCap)",
                                            "https.port": "\(server.tlsPort.map(String.init) ?? "off")",
                                            "auth": "\(accessSummary)"])
        let models = try repository.loadAll()
        guard state.becomeReady(with: ModelRegistry(models: models)) else {
            models.forEach { $0.stop() }
            _ = models.allSatisfy { $0.waitForWorkers(until: Date() + Self.workerGraceSeconds) }
            logger.info("stopping before ready")
            return
        }
        metrics.setModelsReady(models.count)
        notifier.notify("READY=1\nSTATUS=serving \(models.count) model(s) on port \(server.port)")
        startWatchdog()
        logger.info("ready", metadata: ["models": "\(models.map(\.name).joined(separator: ","))"])
    }

    /// Request-body bytes the server holds right now (`limits.max_buffered_body_bytes` bounds them).
    public var bufferedBodyBytes: Int { server?.bodyBudget.held ?? 0 }

    /// The bound HTTP port (after `start`).
    public var port: Int { server?.port ?? 0 }
    /// The bound HTTPS port, when TLS is on.
    public var tlsPort: Int? { server?.tlsPort }

    /// Begins the drain as a signal would; a second call ends it early (as a second SIGTERM does). `stopped`
    /// runs once the connections are closed and the model workers have exited (or the grace passed).
    public func stop(stopped: @escaping @Sendable () -> Void) {
        let (request, server) = lifecycle.withLock { () -> (Int, HTTPServer?) in
            stopRequests += 1
            return (stopRequests, server_)
        }
        guard request == 1 else {
            logger.notice("stop requested again: closing every connection now")
            state.registry.models.forEach { $0.abandon() }
            server?.closeAllConnections()
            return
        }
        state.beginDraining()
        metrics.setModelsReady(0)
        notifier.notify("STOPPING=1\nSTATUS=draining")
        logger.info("draining", metadata: ["timeout.ms": "\(configuration.drainTimeoutMilliseconds)"])
        // The schedulers run what is queued at once (no more waiting out a queue delay) and refuse new work,
        // which the draining router refuses anyway; the server then waits for those answers.
        state.registry.models.forEach { $0.stop() }
        let finish: @Sendable () -> Void = { [self] in
            stopWorkers()
            stopped()
        }
        guard let server else { return finish() }
        server.shutdown(timeout: Double(configuration.drainTimeoutMilliseconds) / 1000, completion: finish)
    }

    /// After the connections are closed: whatever is still queued has no reader, and a pass still running
    /// (the drain timeout passed) is abandoned at its next primitive; then waits for the workers, so that the
    /// process never exits under a running oneDNN pass.
    private func stopWorkers() {
        let models = state.registry.models + repository.retiringModels
        models.forEach { $0.abandon() }
        let deadline = Date() + Self.workerGraceSeconds
        let stopped = models.allSatisfy { $0.waitForWorkers(until: deadline) }
        if !stopped {
            logger.warning("a model worker is still running after \(Self.workerGraceSeconds) s; exiting without it")
        }
        workPool.stop()
    }

    /// Undoes a start that failed midway: the work pool's threads end.
    private func shutDownAfterFailedStart() {
        server?.closeAllConnections()
        workPool.stop()
    }

    /// The served models (empty until ready).
    public var models: [ServedModel] { state.registry.models }

    private var router: Router {
        Router(state: state, metrics: metrics, serverVersion: version, access: access, workPool: workPool,
               limits: configuration.limits, repository: repository, configurationDirectory: configurationDirectory,
               logSwitch: logSwitch)
    }

    /// How access is controlled, for the `listening` log line.
    private var accessSummary: String {
        guard let tokens = access.tokens else { return "off" }
        return "bearer (\(tokens.count) token(s), metrics \(access.protectsMetrics ? "protected" : "open"))"
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
            maxTLSConnections: limits.maxTLSConnections, maxConnectionsPerClient: limits.maxConnectionsPerClient,
            maxBufferedBodyBytes: limits.maxBufferedBodyBytes,
            maxBufferedBodyBytesPerClient: limits.maxBufferedBodyBytesPerClient,
            maxPipelineDepth: limits.pipelineDepth, maxUnsentBytes: limits.maxUnsentBytes,
            retryAfterSeconds: limits.retryAfterSeconds,
            readTimeout: Double(limits.readTimeoutMilliseconds) / 1000,
            idleTimeout: Double(limits.idleTimeoutMilliseconds) / 1000,
            writeTimeout: Double(limits.writeTimeoutMilliseconds) / 1000)
    }

    /// Starts the signal thread: SIGTERM and SIGINT drain (a second one ends the drain early); SIGHUP reads the
    /// configuration again and applies what changed in its models (`reloadModels`); SIGUSR1 and SIGUSR2 are
    /// logged and otherwise ignored.
    private func watchSignals(stopped: @escaping @Sendable () -> Void) {
        signalWatcher = SignalWatcher { [weak self] signal in
            guard let self else { return }
            let name = SignalWatcher.name(signal)
            switch signal {
            case SIGTERM, SIGINT:
                self.logger.info("received \(name)")
                self.stop(stopped: stopped)
            case SIGHUP:
                self.logger.info("received SIGHUP: reading the configuration again")
                self.reloadModels()
            default:
                self.logger.notice(
                    "received \(name): ignored (the configuration is read at start only; restart to apply changes)")
            }
        }
    }

    /// Reads the configuration again and applies the difference in its models: new ones load, changed ones
    /// reload beside the running ones, removed ones unload (`ModelRepository.apply`); a file that does not read
    /// or validate changes nothing. Server-level keys are reported, not applied. Under systemd the status line
    /// says it is reloading meanwhile (`RELOADING=1`, then `READY=1`).
    public func reloadModels(completion: (@Sendable ([String]) -> Void)? = nil) {
        guard let reloadConfiguration else {
            logger.notice("SIGHUP ignored: the daemon was started without a configuration to read again")
            completion?([])
            return
        }
        guard state.phase == .ready else {
            logger.notice("SIGHUP ignored: the daemon is \(state.phase.rawValue)")
            completion?([])
            return
        }
        let new: ServerConfiguration
        do { new = try reloadConfiguration() } catch {
            logger.error("configuration not reloaded: \(error)")
            completion?(["configuration not reloaded: \(error)"])
            return
        }
        notifier.notify("RELOADING=1\nSTATUS=reloading the configuration")
        let logger = self.logger
        let notifier = self.notifier
        repository.apply(new) { outcomes in
            if outcomes.isEmpty { logger.info("configuration reloaded: no model changed") }
            for outcome in outcomes { logger.info("configuration reloaded: \(outcome)") }
            notifier.notify("READY=1\nSTATUS=serving")
            completion?(outcomes)
        }
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

import Dispatch
import Foundation
import Logging
import PerceiverEngine

/// The models the daemon serves and how they change while it runs (Triton's model repository extension and
/// SIGHUP): load, reload and unload, one change at a time, each without stopping the others.
///
/// - A load builds and warms the new model beside whatever serves that name now, then installs it in one step
///   (`ServerState.install`): requests that found the old one finish there, new ones go to the new one. The old
///   one retires: it runs what it accepted and its workers exit (`BatchScheduler.stop`; after the drain timeout,
///   `abandon`); its weights go when the last request holding it is answered. A load that fails leaves the old
///   one serving and records why.
/// - An unload takes the model out of the registry, waits for it to retire, and records it as unavailable.
/// - The index lists every model the daemon knows (configured, loaded or unloaded through the API) with its
///   state and the reason of its last failure.
///
/// Thread safety: `changes` runs one change at a time; `lock` guards `records`, `order`, `configuration` and
/// `retiring`.
public final class ModelRepository: @unchecked Sendable {
    /// A model's state in the index, as Triton names them.
    public enum ModelState: String, Sendable {
        case ready = "READY", loading = "LOADING", unloading = "UNLOADING", unavailable = "UNAVAILABLE"
    }

    /// One line of the index.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var version: String
        public var state: ModelState
        /// Why the last change failed, or why the model is unavailable; empty otherwise.
        public var reason: String
    }

    private struct Record {
        var configuration: ModelConfiguration
        var state: ModelState
        var reason: String
    }

    private let lock = NSLock()
    private var records: [String: Record] = [:]
    private var order: [String] = []
    /// The daemon's configuration with `models` as served now.
    private var configuration: ServerConfiguration
    /// The cores (`threads`) every model's passes share, the retiring ones' too; `threads` cannot change live.
    private let cores: CorePool
    /// Replaced or unloaded models whose workers have not exited yet.
    private var retiring: [ObjectIdentifier: ServedModel] = [:]
    private let state: ServerState
    private let metrics: MetricsRegistry
    private let logger: Logger
    private let changes = DispatchQueue(label: "perceiverd.repository")

    init(configuration: ServerConfiguration, state: ServerState, metrics: MetricsRegistry, logger: Logger) {
        self.configuration = configuration
        self.state = state
        self.metrics = metrics
        self.logger = logger
        let total = configuration.computeThreads
        cores = CorePool(total: total) { metrics.setComputeThreads(total: total, inUse: $0) }
        metrics.setComputeThreads(total: total, inUse: 0)
    }

    // MARK: Start

    /// Loads, warms and starts every model of the configuration; on a failure, stops the ones already started.
    func loadAll() throws(DaemonError) -> [ServedModel] {
        warnIfCapsExceedThreads(configuration)
        var served: [ServedModel] = []
        for entry in configuration.models {
            do {
                served.append(try build(entry, maxThreads: configuration.maxThreadsPerPass(of: entry)))
            } catch {
                served.forEach { $0.stop() }
                throw error
            }
        }
        lock.withLock {
            for entry in configuration.models { record(entry, .ready, "") }
        }
        return served
    }

    // MARK: Changes

    /// Loads model `name` with `entry` (its configuration), or with the configuration it has now (a reload that
    /// reads its weights again); `completion` gets its index entry once it serves, or the error that left the
    /// previous one serving.
    func load(_ name: String, entry: ModelConfiguration?,
              completion: @escaping @Sendable (Result<Entry, RequestError>) -> Void) {
        changes.async { [self] in completion(loadNow(name, entry: entry)) }
    }

    /// Stops serving model `name`: `completion` runs once it has answered what it accepted.
    func unload(_ name: String, completion: @escaping @Sendable (Result<Entry, RequestError>) -> Void) {
        changes.async { [self] in completion(unloadNow(name)) }
    }

    /// Applies a configuration read again (SIGHUP): new models load, changed ones reload, removed ones unload;
    /// differences in server-level keys are logged as needing a restart. `completion` gets one line per change.
    func apply(_ new: ServerConfiguration, completion: @escaping @Sendable ([String]) -> Void) {
        changes.async { [self] in
            var outcomes: [String] = []
            let unchangeable = ServerConfiguration.liveKeysDiffering(lock.withLock { configuration }, new)
            if !unchangeable.isEmpty {
                outcomes.append("not applied (restart to change): \(unchangeable.joined(separator: ", "))")
            }
            let current = lock.withLock { configuration.models }
            for entry in new.models where current.first(where: { $0.name == entry.name }) != entry {
                let result = loadNow(entry.name, entry: entry)
                outcomes.append("\(entry.name): " + Self.describe(result, success: "loaded"))
            }
            for entry in current where !new.models.contains(where: { $0.name == entry.name }) {
                outcomes.append("\(entry.name): " + Self.describe(unloadNow(entry.name), success: "unloaded"))
            }
            completion(outcomes)
        }
    }

    /// Every model the daemon knows, in the order it learned of them; with `readyOnly`, the ready ones.
    func index(readyOnly: Bool = false) -> [Entry] {
        lock.withLock {
            order.compactMap { name -> Entry? in
                guard let record = records[name], !readyOnly || record.state == .ready else { return nil }
                return Entry(name: name, version: record.configuration.version, state: record.state,
                             reason: record.reason)
            }
        }
    }

    /// Replaced or unloaded models still finishing what they accepted (a shutdown waits for them too).
    var retiringModels: [ServedModel] { lock.withLock { Array(retiring.values) } }

    private func loadNow(_ name: String, entry given: ModelConfiguration?) -> Result<Entry, RequestError> {
        guard state.phase != .draining else { return .failure(.unavailable("server is shutting down")) }
        let known = lock.withLock { records[name] }
        guard let entry = given ?? known?.configuration else {
            return .failure(.modelNotFound(name: name, available: index().map(\.name)))
        }
        let serving = state.registry.model(named: name) != nil
        var candidate = lock.withLock { configuration }
        if let index = candidate.models.firstIndex(where: { $0.name == name }) {
            candidate.models[index] = entry
        } else {
            candidate.models.append(entry)
        }
        if !serving { lock.withLock { record(entry, .loading, "") } }
        logger.info(serving ? "reloading model" : "loading model", metadata: ["model": "\(name)", "path": "\(entry.path)"])
        let served: ServedModel
        do {
            served = try build(entry, maxThreads: candidate.maxThreadsPerPass(of: entry))
        } catch {
            let reason = error.description
            lock.withLock {
                if serving, let known {
                    record(known.configuration, .ready, "reload failed: \(reason)")
                } else {
                    record(entry, .unavailable, reason)
                }
            }
            logger.error(serving ? "reload failed; the previous model keeps serving" : "load failed",
                         metadata: ["model": "\(name)", "reason": "\(reason)"])
            return .failure(.loadFailed(model: name, reason: reason))
        }
        guard state.phase != .draining else {
            served.stop()
            return .failure(.unavailable("server is shutting down"))
        }
        let previous = state.install(served)
        lock.withLock {
            configuration = candidate
            record(entry, .ready, "")
        }
        metrics.setModelsReady(state.registry.models.count)
        warnIfCapsExceedThreads(candidate)
        if let previous { retire(previous, wait: false) }
        return .success(Entry(name: name, version: entry.version, state: .ready, reason: ""))
    }

    private func unloadNow(_ name: String) -> Result<Entry, RequestError> {
        guard state.phase != .draining else { return .failure(.unavailable("server is shutting down")) }
        guard let known = lock.withLock({ records[name] }), state.registry.model(named: name) != nil else {
            return .failure(.modelNotFound(name: name, available: state.registry.names))
        }
        lock.withLock { record(known.configuration, .unloading, "") }
        guard let removed = state.remove(name) else {
            return .failure(.modelNotFound(name: name, available: state.registry.names))
        }
        metrics.setModelsReady(state.registry.models.count)
        retire(removed, wait: true)
        lock.withLock {
            configuration.models.removeAll { $0.name == name }
            record(known.configuration, .unavailable, "unloaded")
        }
        logger.info("model unloaded", metadata: ["model": "\(name)"])
        return .success(Entry(name: name, version: known.configuration.version, state: .unavailable,
                              reason: "unloaded"))
    }

    /// Lets `old` answer what it accepted and its workers exit, within the drain timeout (then its running pass
    /// is abandoned); `wait` blocks until then.
    private func retire(_ old: ServedModel, wait: Bool) {
        let key = ObjectIdentifier(old)
        lock.withLock { retiring[key] = old }
        old.latentCache?.retire()
        old.stop()
        let timeout = Double(lock.withLock { configuration.drainTimeoutMilliseconds }) / 1000
        let logger = self.logger
        let finish: @Sendable () -> Void = { [self] in
            if !old.waitForWorkers(until: Date() + timeout) {
                logger.warning("a replaced model did not finish within drain_timeout_ms; abandoning its pass",
                               metadata: ["model": "\(old.name)"])
                old.abandon()
                _ = old.waitForWorkers(until: Date() + Daemon.workerGraceSeconds)
            }
            _ = lock.withLock { retiring.removeValue(forKey: key) }
            logger.info("previous model retired", metadata: ["model": "\(old.name)"])
        }
        if wait { finish() } else { DispatchQueue.global().async(execute: finish) }
    }

    /// Sets `name`'s record; the caller holds `lock`.
    private func record(_ entry: ModelConfiguration, _ state: ModelState, _ reason: String) {
        if records[entry.name] == nil { order.append(entry.name) }
        records[entry.name] = Record(configuration: entry, state: state, reason: reason)
    }

    private static func describe(_ result: Result<Entry, RequestError>, success: String) -> String {
        switch result {
        case .success: return success
        case .failure(let error): return "failed: \(error)"
        }
    }

    // MARK: Building

    /// Loads `entry`'s checkpoint, builds its instances, whose passes take at most `maxThreads` cores each from
    /// the shared pool, warms and starts them.
    private func build(_ entry: ModelConfiguration, maxThreads: Int) throws(DaemonError) -> ServedModel {
        let start = Date()
        // Validated against `PrecisionSetting` with the rest of the configuration.
        let precision = (PrecisionSetting(rawValue: entry.precision) ?? .f32).resolve()
        if let why = precision.fallback {
            logger.warning("bf16 requested, serving in f32", metadata: ["model": "\(entry.name)", "reason": "\(why)"])
        }
        // The load's own context (packing bf16 weights) runs outside the pool, as loading always did.
        var options = ExecutionOptions(precision: precision.effective, threads: maxThreads)
        options.interpolatePositionEncoding = entry.interpolatePositionEncoding
        let model: PerceiverModel
        do { model = try PerceiverModel.load(directory: entry.path, options: options) } catch {
            throw DaemonError.model(name: entry.name, path: entry.path, reason: error.description)
        }
        let item: ServedModel
        do {
            item = try ServedModel(model: model, configuration: entry, cores: cores, maxThreadsPerPass: maxThreads,
                                   metrics: metrics, precision: precision)
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
            "instances": "\(entry.instances)", "threads.max": "\(maxThreads)", "threads.pool": "\(cores.total)",
            "max_batch_size": "\(entry.maxBatchSize)", "load.ms": "\(Int(Date().timeIntervalSince(start) * 1000))",
        ])
        return item
    }

    /// Logs a warning for each model whose `threads_per_instance` exceeds `threads`: the pool never grants a
    /// pass more than `threads`, so such a cap is no cap.
    private func warnIfCapsExceedThreads(_ configuration: ServerConfiguration) {
        for model in configuration.models where model.threadsPerInstance > configuration.computeThreads {
            logger.warning("threads_per_instance exceeds threads; a pass takes at most threads", metadata: [
                "model": "\(model.name)", "threads_per_instance": "\(model.threadsPerInstance)",
                "threads": "\(configuration.computeThreads)",
            ])
        }
    }
}

extension ServerConfiguration {
    /// The server-level keys whose values differ between `old` and `new`: what a running daemon cannot change
    /// (they shape its listeners, threads, limits and access), by their names in the file.
    static func liveKeysDiffering(_ old: ServerConfiguration, _ new: ServerConfiguration) -> [String] {
        var keys: [String] = []
        if old.host != new.host { keys.append("host") }
        if old.port != new.port { keys.append("port") }
        if old.threads != new.threads { keys.append("threads") }
        if old.logLevel != new.logLevel { keys.append("log_level") }
        if old.drainTimeoutMilliseconds != new.drainTimeoutMilliseconds { keys.append("drain_timeout_ms") }
        if old.limits != new.limits { keys.append("limits") }
        if old.tls != new.tls { keys.append("tls") }
        if old.auth != new.auth { keys.append("auth") }
        if old.admin != new.admin { keys.append("admin") }
        return keys
    }
}

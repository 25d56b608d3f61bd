import Foundation
import PerceiverEngine

/// One model as the server offers it: its name and version, the loaded weights (one copy), and the
/// scheduler that batches its requests onto its instances (never a connection's queue).
public final class ServedModel: Sendable {
    public let name: String
    public let version: String
    public let model: PerceiverModel
    /// The precision asked for and the one `model` runs in (`model.options.precision`).
    public let precision: PrecisionChoice
    let scheduler: BatchScheduler
    /// The latents kept across requests (`models[].latent_cache_mib`); nil when it is 0.
    let latentCache: LatentCache?
    /// The configuration entry it serves under (`GET /v2/models/{m}/config` reports it).
    public let configuration: ModelConfiguration

    /// Serves `model` under `configuration`'s name, version and batching policy, on `configuration.instances`
    /// instances whose passes each take their cores from `cores` when they start, at most `maxThreadsPerPass`.
    /// `precision` is how `configuration.precision` was resolved when `model` was loaded (by default: what
    /// `model` runs in).
    /// - Throws: `InferenceError.backend` when oneDNN cannot create an instance.
    init(model: PerceiverModel, configuration: ModelConfiguration, cores: CorePool, maxThreadsPerPass: Int,
         metrics: MetricsRegistry, precision: PrecisionChoice? = nil) throws(InferenceError) {
        name = configuration.name
        self.configuration = configuration
        version = configuration.version
        self.model = model
        self.precision = precision ?? PrecisionChoice(running: model.options.precision)
        var instances: [ModelInstance] = []
        for _ in 0..<configuration.instances {
            instances.append(try ModelInstance(model: model, threads: maxThreadsPerPass))
        }
        scheduler = BatchScheduler(model: configuration.name, policy: BatchingPolicy(configuration),
                                   instances: instances, cores: cores, maxThreads: maxThreadsPerPass, metrics: metrics)
        latentCache = configuration.latentCacheMiB > 0
            ? LatentCache(model: configuration.name, budgetBytes: configuration.latentCacheMiB << 20, metrics: metrics)
            : nil
    }

    /// Instances (batches that may compute at once).
    public var instanceCount: Int { scheduler.instances.count }
    /// Most oneDNN threads (cores) one pass takes: `threads_per_instance` when set (a cap), else every core of
    /// the server's pool; a pass takes fewer when other models' passes hold some.
    public var maxThreadsPerPass: Int { scheduler.maxThreads }

    /// Starts the scheduler's workers.
    public func start() {
        scheduler.start()
    }

    /// Refuses new requests, runs what is queued, and lets the workers exit.
    public func stop() {
        scheduler.stop()
    }

    /// Answers what is still queued with 503 and abandons running passes at their next primitive.
    public func abandon() {
        scheduler.abandon()
    }

    /// Waits for the workers to exit (after `stop` or `abandon`), at most until `deadline`; whether they did.
    public func waitForWorkers(until deadline: Date) -> Bool {
        scheduler.waitForWorkers(until: deadline)
    }

    /// Runs one warm-up pass per instance (`ModelInstance.warmUp`: the self-attention stack's first layer only)
    /// on the model's small zero `sampleInputs`, on the cores it takes from the pool like any pass, so oneDNN's
    /// kernels are JIT-compiled before the first client arrives.
    /// - Throws: `InferenceError` when the model cannot run at all.
    public func warmUp() throws(InferenceError) {
        let inputs = model.sampleInputs
        let lane = CorePool.Lane(scheduler.cores)
        for instance in scheduler.instances {
            let threads = scheduler.cores.acquire(lane, cap: scheduler.maxThreads)
            defer { scheduler.cores.release(lane, mayReturn: false) }
            try instance.warmUp(inputs, threads: threads)
        }
    }
}

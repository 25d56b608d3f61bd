import PerceiverEngine

/// Everything `perceiverd` is told at startup: listeners, models and limits. Built from `config.json`
/// (`load(path:)`), from command-line overrides (`overriding(...)`) or in code; the defaults below are the
/// file format's defaults. Call `validate()` after building one in code.
public struct ServerConfiguration: Sendable, Equatable {
    /// How much the daemon logs; the raw values are `swift-log`'s `Logger.Level` names.
    public enum LogLevel: String, CaseIterable, Sendable {
        case trace, debug, info, notice, warning, error, critical
    }

    /// Address the plain HTTP listener binds.
    public var host: String
    /// Port of the plain HTTP listener, 0...65535; 0 binds any free port.
    public var port: Int
    /// Cores the models' compute may use, shared by every model instance; 0 uses all cores. Each pass takes
    /// the cores free when it starts: all of them alone, a fair share beside other busy passes (`CorePool`).
    public var threads: Int
    /// Least severe level that is logged.
    public var logLevel: LogLevel
    /// On SIGTERM, how long in-flight requests may take to finish before the daemon exits.
    public var drainTimeoutMilliseconds: Int
    /// The models served; at least one, names unique.
    public var models: [ModelConfiguration]
    /// Connection and request limits.
    public var limits: LimitsConfiguration
    /// The TLS listener, or nil for none.
    public var tls: TLSConfiguration?
    /// Bearer-token access control from the file; tokens may also come from `$PERCEIVERD_TOKENS`.
    public var auth: AuthConfiguration
    /// The administrative endpoints (model repository, logging): off unless enabled, with their own tokens.
    public var admin: AdminConfiguration

    /// A configuration; every argument defaults to the file format's default.
    public init(host: String = "127.0.0.1", port: Int = 8000, threads: Int = 0, logLevel: LogLevel = .info,
                drainTimeoutMilliseconds: Int = 30_000, models: [ModelConfiguration] = [],
                limits: LimitsConfiguration = LimitsConfiguration(), tls: TLSConfiguration? = nil,
                auth: AuthConfiguration = AuthConfiguration(), admin: AdminConfiguration = AdminConfiguration()) {
        self.host = host
        self.port = port
        self.threads = threads
        self.logLevel = logLevel
        self.drainTimeoutMilliseconds = drainTimeoutMilliseconds
        self.models = models
        self.limits = limits
        self.tls = tls
        self.auth = auth
        self.admin = admin
    }
}

/// The administrative endpoints: each group off unless enabled; with access control on, they take only tokens of
/// a separate set (`token_file`, `$PERCEIVERD_ADMIN_TOKENS`), never the inference tokens.
public struct AdminConfiguration: Sendable, Equatable {
    /// `/v2/repository/...`: the model repository index, load (and reload) and unload.
    public var repository: Bool
    /// `/v2/logging`: reading and changing the log settings.
    public var logging: Bool
    /// A file of admin tokens, one per line (as `auth.token_file`); absolute once parsed from a file.
    public var tokenFile: String?

    public init(repository: Bool = false, logging: Bool = false, tokenFile: String? = nil) {
        self.repository = repository
        self.logging = logging
        self.tokenFile = tokenFile
    }
}

/// One served model and its batching policy.
public struct ModelConfiguration: Sendable, Equatable {
    /// The precision settings a model may ask for: `f32`, `bf16` (f32 with a warning where the CPU has no
    /// native bf16) and `auto` (bf16 where native, else f32); see `PrecisionSetting`.
    public static let precisions = PrecisionSetting.allCases.map(\.rawValue)

    /// Name in URLs (`/v2/models/{name}`), matching `[A-Za-z0-9_.-]+`.
    public var name: String
    /// Directory holding the model; absolute once parsed from a file (relative paths resolve against the file's
    /// directory). Its existence is checked by the model loader, not here.
    public var path: String
    /// Version reported by the KServe V2 metadata.
    public var version: String
    /// Requested compute precision: one of `precisions`; `ServedModel.precision` says what runs.
    public var precision: String
    /// Most rows (B) in one forward pass, at least 1.
    public var maxBatchSize: Int
    /// How long the batcher may hold a request to fill a batch; 0 runs as soon as the engine is free.
    public var maxQueueDelayMicroseconds: Int
    /// Most requests waiting for compute before new ones are rejected with 503; 0 is unbounded.
    public var maxQueueSize: Int
    /// How long a request may wait in the queue when it sets no shorter `timeout`; 0 is no limit.
    public var defaultTimeoutMicroseconds: Int
    /// Batch sizes (rows) run at once when they can be formed, without waiting out the queue delay; each
    /// in `1...maxBatchSize`.
    public var preferredBatchSizes: [Int]
    /// Priority levels, 1 the highest; 0 is a single FIFO queue and requests' `priority` is ignored.
    public var priorityLevels: Int
    /// The level of a request that sets no `priority` (or 0), in `1...priorityLevels`; 0 means the lowest level.
    public var defaultPriorityLevel: Int
    /// Model instances: batches that compute at once, all reading one copy of the weights.
    public var instances: Int
    /// Most oneDNN threads one pass of this model takes from the server's `threads` (a cap, for isolation);
    /// 0 sets no cap.
    public var threadsPerInstance: Int
    /// MiB of working memory (activations and preprocessing, estimated per request from its shapes) the
    /// model's passes may hold at once; a request needing more alone is refused (413), one that does not fit
    /// beside running passes waits for them.
    public var memoryBudgetMiB: Int
    /// MiB of latents kept across requests (`LatentCache`): a request whose encoder inputs were seen before
    /// skips the encoder, and responses carry a `latents_id`; 0 turns the cache, and the ids, off.
    public var latentCacheMiB: Int
    /// `interpolate_pos_encoding` on every request (`ExecutionOptions.interpolatePositionEncoding`): a
    /// `PerceiverForImageClassificationLearned` then takes images of any size (its metadata says
    /// `[-1, 3, -1, -1]`); loading any other model with it fails.
    public var interpolatePositionEncoding: Bool

    /// A model; every argument after `path` defaults to the file format's default.
    public init(name: String, path: String, version: String = "1", precision: String = "f32",
                maxBatchSize: Int = 8, maxQueueDelayMicroseconds: Int = 0, maxQueueSize: Int = 64,
                defaultTimeoutMicroseconds: Int = 0, preferredBatchSizes: [Int] = [], priorityLevels: Int = 0,
                defaultPriorityLevel: Int = 0, instances: Int = 1, threadsPerInstance: Int = 0,
                memoryBudgetMiB: Int = 2048, latentCacheMiB: Int = 256, interpolatePositionEncoding: Bool = false) {
        self.name = name
        self.path = path
        self.version = version
        self.precision = precision
        self.maxBatchSize = maxBatchSize
        self.maxQueueDelayMicroseconds = maxQueueDelayMicroseconds
        self.maxQueueSize = maxQueueSize
        self.defaultTimeoutMicroseconds = defaultTimeoutMicroseconds
        self.preferredBatchSizes = preferredBatchSizes
        self.priorityLevels = priorityLevels
        self.defaultPriorityLevel = defaultPriorityLevel
        self.instances = instances
        self.threadsPerInstance = threadsPerInstance
        self.memoryBudgetMiB = memoryBudgetMiB
        self.latentCacheMiB = latentCacheMiB
        self.interpolatePositionEncoding = interpolatePositionEncoding
    }
}

/// The optional TLS listener, on the same host as the plain one.
public struct TLSConfiguration: Sendable, Equatable {
    /// Port of the TLS listener, 0...65535; 0 binds any free port.
    public var port: Int
    /// PEM certificate chain; absolute once parsed from a file.
    public var certificatePath: String
    /// PEM private key; absolute once parsed from a file.
    public var keyPath: String

    /// A TLS listener.
    public init(port: Int = 8443, certificatePath: String, keyPath: String) {
        self.port = port
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}

/// Bearer-token access control. Tokens come from `tokenFile` and from the `PERCEIVERD_TOKENS` environment
/// variable; with none from either, every route is open.
public struct AuthConfiguration: Sendable, Equatable {
    /// A file of tokens, one per line (blank lines and `#` comments skipped); absolute once parsed from a file.
    public var tokenFile: String?
    /// Whether `/metrics` needs a token too (health endpoints never do).
    public var protectMetrics: Bool

    /// Access control; every argument defaults to the file format's default.
    public init(tokenFile: String? = nil, protectMetrics: Bool = false) {
        self.tokenFile = tokenFile
        self.protectMetrics = protectMetrics
    }
}

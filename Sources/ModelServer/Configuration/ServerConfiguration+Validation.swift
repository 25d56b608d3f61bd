import Foundation
import JSONKit

extension ServerConfiguration {
    /// Checks every value against the file format's rules; keys in errors are the file's dotted paths.
    /// - Throws: `ConfigurationError` naming the first offending key.
    public func validate() throws(ConfigurationError) {
        try require(host, .nonEmptyString, "host")
        try require(port, .port, "port")
        try require(threads, .nonNegative, "threads")
        try require(drainTimeoutMilliseconds, .nonNegative, "drain_timeout_ms")
        try limits.validate()
        if let tls {
            try tls.validate()
            if tls.port != 0 && tls.port == port { throw .conflictingPorts(port) }
        }
        guard !models.isEmpty else { throw .noModels }
        var names = Set<String>()
        for (index, model) in models.enumerated() {
            try model.validate(keyPrefix: "models[\(index)]")
            guard names.insert(model.name).inserted else { throw .duplicateModelName(model.name) }
        }
    }

    /// Applies command-line overrides and validates the result. Each `NAME=DIR` in `models` replaces the path of
    /// the model named NAME, or adds a model with default settings; a relative DIR resolves against the working
    /// directory.
    /// - Throws: `ConfigurationError.invalidModelOverride` for a malformed `NAME=DIR`, or any `validate()` error.
    public func overriding(host: String?, port: Int?, threads: Int?,
                           models: [String]) throws(ConfigurationError) -> ServerConfiguration {
        var result = self
        if let host { result.host = host }
        if let port { result.port = port }
        if let threads { result.threads = threads }
        let workingDirectory = FileManager.default.currentDirectoryPath
        for text in models {
            let (name, directory) = try Self.parseModelOverride(text)
            let path = Self.resolve(directory, against: workingDirectory)
            if let index = result.models.firstIndex(where: { $0.name == name }) {
                result.models[index].path = path
            } else {
                result.models.append(ModelConfiguration(name: name, path: path))
            }
        }
        try result.validate()
        return result
    }

    /// Splits `NAME=DIR` at the first `=`.
    static func parseModelOverride(_ text: String) throws(ConfigurationError) -> (name: String, directory: String) {
        guard let equals = text.firstIndex(of: "=") else { throw .invalidModelOverride(text) }
        let name = String(text[..<equals])
        let directory = String(text[text.index(after: equals)...])
        guard ConfigurationError.Requirement.modelName.isSatisfied(by: name), !directory.isEmpty else {
            throw .invalidModelOverride(text)
        }
        return (name, directory)
    }

    /// `path` made absolute against `base` (itself made absolute against the working directory) and standardized.
    static func resolve(_ path: String, against base: String) -> String {
        let url = path.hasPrefix("/")
            ? URL(fileURLWithPath: path)
            : URL(fileURLWithPath: base, isDirectory: true).appendingPathComponent(path)
        return url.standardizedFileURL.path
    }
}

extension ServerConfiguration {
    /// Cores the models' compute may use: `threads`, or when it is 0 every core the process may run on
    /// (the affinity mask and the cgroup CPU quota count; see `AvailableCores`).
    public var computeThreads: Int {
        threads > 0 ? threads : AvailableCores.current()
    }

    /// Most oneDNN threads one pass of `model` takes from the shared `computeThreads`: its
    /// `threads_per_instance` when set (a cap, for isolation), at most `computeThreads`; else all of them. A
    /// pass takes fewer when other passes hold some (`CorePool`).
    public func maxThreadsPerPass(of model: ModelConfiguration) -> Int {
        model.threadsPerInstance > 0 ? min(model.threadsPerInstance, computeThreads) : computeThreads
    }
}

extension ModelConfiguration {
    /// Checks this model's values; `keyPrefix` is its place in the file, e.g. `models[2]`.
    func validate(keyPrefix: String) throws(ConfigurationError) {
        try require(name, .modelName, "\(keyPrefix).name")
        try require(path, .nonEmptyString, "\(keyPrefix).path")
        try require(version, .nonEmptyString, "\(keyPrefix).version")
        try require(precision, .precision, "\(keyPrefix).precision")
        try require(maxBatchSize, .positive, "\(keyPrefix).max_batch_size")
        try require(maxQueueDelayMicroseconds, .microseconds, "\(keyPrefix).max_queue_delay_us")
        try require(maxQueueSize, .nonNegative, "\(keyPrefix).max_queue_size")
        try require(defaultTimeoutMicroseconds, .microseconds, "\(keyPrefix).default_timeout_us")
        for (index, size) in preferredBatchSizes.enumerated() {
            try require(size, .integer(min: 1, max: maxBatchSize), "\(keyPrefix).preferred_batch_sizes[\(index)]")
        }
        try require(priorityLevels, .nonNegative, "\(keyPrefix).priority_levels")
        try require(defaultPriorityLevel, .integer(min: 0, max: priorityLevels), "\(keyPrefix).default_priority_level")
        try require(instances, .positive, "\(keyPrefix).instances")
        try require(threadsPerInstance, .nonNegative, "\(keyPrefix).threads_per_instance")
        try require(memoryBudgetMiB, .integer(min: 1, max: 1 << 30), "\(keyPrefix).memory_budget_mib")
        try require(latentCacheMiB, .integer(min: 0, max: 1 << 30), "\(keyPrefix).latent_cache_mib")
    }
}

extension LimitsConfiguration {
    /// Every key of the `limits` object: its name in the file, its property and what it must be.
    static let keys: [(key: String, path: WritableKeyPath<LimitsConfiguration, Int> & Sendable,
                       requirement: ConfigurationError.Requirement)] = [
        ("max_request_line_bytes", \.maxRequestLineBytes, .positive),
        ("max_header_bytes", \.maxHeaderBytes, .positive),
        ("max_header_count", \.maxHeaderCount, .positive),
        ("max_body_bytes", \.maxBodyBytes, .positive),
        ("max_decompressed_bytes", \.maxDecompressedBytes, .positive),
        ("max_connections", \.maxConnections, .positive),
        ("max_tls_connections", \.maxTLSConnections, .positive),
        ("max_connections_per_client", \.maxConnectionsPerClient, .positive),
        ("max_buffered_body_bytes", \.maxBufferedBodyBytes, .positive),
        ("max_buffered_body_bytes_per_client", \.maxBufferedBodyBytesPerClient, .positive),
        ("pipeline_depth", \.pipelineDepth, .positive),
        ("max_unsent_bytes", \.maxUnsentBytes, .positive),
        ("retry_after_s", \.retryAfterSeconds, .integer(min: 0, max: 3600)),
        ("work_threads", \.workThreads, .nonNegative),
        ("work_queue", \.workQueue, .nonNegative),
        ("max_image_pixels", \.maxImagePixels, .integer(min: 1, max: 1 << 30)),
        ("max_input_pixels", \.maxInputPixels, .positive),
        ("max_audio_samples", \.maxAudioSamples, .positive),
        ("max_output_rows", \.maxOutputRows, .positive),
        ("read_timeout_ms", \.readTimeoutMilliseconds, .positive),
        ("idle_timeout_ms", \.idleTimeoutMilliseconds, .positive),
        ("write_timeout_ms", \.writeTimeoutMilliseconds, .positive),
    ]

    /// Checks every limit against its requirement, and that a body of `max_body_bytes` fits the body budgets
    /// (else the largest allowed request could never be read).
    func validate() throws(ConfigurationError) {
        for (key, path, requirement) in Self.keys { try require(self[keyPath: path], requirement, "limits.\(key)") }
        for (key, value) in [("max_buffered_body_bytes", maxBufferedBodyBytes),
                             ("max_buffered_body_bytes_per_client", maxBufferedBodyBytesPerClient)] {
            try require(value, .integer(min: maxBodyBytes, max: nil), "limits.\(key)")
        }
    }
}

extension TLSConfiguration {
    /// Checks the port and that both paths are given.
    func validate() throws(ConfigurationError) {
        try require(port, .port, "tls.port")
        try require(certificatePath, .nonEmptyString, "tls.cert")
        try require(keyPath, .nonEmptyString, "tls.key")
    }
}

/// Throws `invalidValue` unless `value` satisfies `requirement`.
func require(_ value: Int, _ requirement: ConfigurationError.Requirement,
             _ key: String) throws(ConfigurationError) {
    guard requirement.isSatisfied(by: value) else {
        throw .invalidValue(key: key, expected: requirement, found: String(value))
    }
}

/// Throws `invalidValue` unless `value` satisfies `requirement`.
func require(_ value: String, _ requirement: ConfigurationError.Requirement,
             _ key: String) throws(ConfigurationError) {
    guard requirement.isSatisfied(by: value) else {
        throw .invalidValue(key: key, expected: requirement, found: JSONValue.string(value).summary)
    }
}

extension ConfigurationError.Requirement {
    static let port = Self.integer(min: 0, max: 65535)
    static let nonNegative = Self.integer(min: 0, max: nil)
    static let positive = Self.integer(min: 1, max: nil)
    /// A duration in microseconds: up to 2^40 (about 12.7 days), so deadlines cannot overflow.
    static let microseconds = Self.integer(min: 0, max: 1 << 40)
    static let precision = Self.oneOf(ModelConfiguration.precisions)
    static let logLevel = Self.oneOf(ServerConfiguration.LogLevel.allCases.map(\.rawValue))

    /// Whether an integer meets this requirement; false for non-integer requirements.
    func isSatisfied(by value: Int) -> Bool {
        guard case .integer(let min, let max) = self else { return false }
        return value >= min && value <= (max ?? Int.max)
    }

    /// Whether a string meets this requirement; false for non-string requirements.
    func isSatisfied(by value: String) -> Bool {
        switch self {
        case .nonEmptyString: return !value.isEmpty
        case .oneOf(let choices): return choices.contains(value)
        case .modelName: return !value.isEmpty && value.unicodeScalars.allSatisfy(Self.isModelNameScalar)
        case .integer, .object, .objectOrNull, .array, .boolean: return false
        }
    }

    private static func isModelNameScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "_", ".", "-": return true
        default: return false
        }
    }
}

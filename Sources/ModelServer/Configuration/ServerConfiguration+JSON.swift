import Foundation
import JSONKit

extension ServerConfiguration {
    /// Reads and validates a config file. Relative paths in it resolve against its directory.
    /// - Throws: `ConfigurationError.unreadableFile`, or any parse or validation error wrapped in `.inFile`.
    public static func load(path: String) throws(ConfigurationError) -> ServerConfiguration {
        let url = URL(fileURLWithPath: path)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadableFile(path: path, reason: unreadableReason(path: path, error: error))
        }
        do {
            return try ServerConfiguration(json: data, baseDirectory: url.deletingLastPathComponent().path)
        } catch {
            throw .inFile(path: path, error)
        }
    }

    /// Parses and validates config JSON; `baseDirectory` resolves relative model and TLS paths.
    /// - Throws: `ConfigurationError` naming the offending key by its dotted path.
    public init(json: Data, baseDirectory: String) throws(ConfigurationError) {
        let root = try JSONObjectReader.configuration(json, allowedKeys: JSONKeys.top)
        let defaults = ServerConfiguration()
        let levelName = try root.string("log_level", default: defaults.logLevel.rawValue, .logLevel)
        self.init(
            host: try root.string("host", default: defaults.host, .nonEmptyString),
            port: try root.integer("port", default: defaults.port, .port),
            threads: try root.integer("threads", default: defaults.threads, .nonNegative),
            logLevel: LogLevel(rawValue: levelName) ?? defaults.logLevel,
            drainTimeoutMilliseconds: try root.integer("drain_timeout_ms", default: defaults.drainTimeoutMilliseconds,
                                                       .nonNegative),
            models: try Self.parseModels(root, baseDirectory: baseDirectory),
            limits: try root.object("limits", allowedKeys: JSONKeys.limits).map(LimitsConfiguration.init)
                ?? defaults.limits,
            tls: try root.object("tls", allowedKeys: JSONKeys.tls).map { reader throws(ConfigurationError) in
                try TLSConfiguration(reader, baseDirectory: baseDirectory)
            },
            auth: try root.object("auth", allowedKeys: JSONKeys.auth).map { reader throws(ConfigurationError) in
                try AuthConfiguration(reader, baseDirectory: baseDirectory)
            } ?? defaults.auth,
            admin: try root.object("admin", allowedKeys: JSONKeys.admin).map { reader throws(ConfigurationError) in
                try AdminConfiguration(reader, baseDirectory: baseDirectory)
            } ?? defaults.admin)
        try validate()
    }

    private static func parseModels(_ root: JSONObjectReader,
                                    baseDirectory: String) throws(ConfigurationError) -> [ModelConfiguration] {
        guard let array = try root.array("models") else { throw .missingKey("models") }
        var models: [ModelConfiguration] = []
        for (index, element) in array.enumerated() {
            let reader = try JSONObjectReader.checked(element, path: root.elementPath("models", index),
                                                      allowedKeys: JSONKeys.model, expected: .object)
            models.append(try ModelConfiguration(reader, baseDirectory: baseDirectory))
        }
        return models
    }

    /// Why `path` could not be read, in a few words.
    private static func unreadableReason(path: String, error: any Error) -> String {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return "no such file" }
        if isDirectory.boolValue { return "is a directory" }
        if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
        return (error as NSError).localizedDescription
    }
}

/// The keys each object of the file format may hold.
private enum JSONKeys {
    static let top: Set = ["host", "port", "threads", "log_level", "drain_timeout_ms", "models", "limits", "tls",
                           "auth", "admin"]
    static let model: Set = ["name", "path", "version", "precision", "max_batch_size", "max_queue_delay_us",
                             "max_queue_size", "default_timeout_us", "preferred_batch_sizes", "priority_levels",
                             "default_priority_level", "instances", "threads_per_instance", "memory_budget_mib",
                             "latent_cache_mib", "interpolate_pos_encoding"]
    static let limits = Set(LimitsConfiguration.keys.map(\.key))
    static let tls: Set = ["port", "cert", "key"]
    static let auth: Set = ["token_file", "protect_metrics"]
    static let admin: Set = ["repository", "logging", "token_file"]
}

extension ModelConfiguration {
    /// One `models` entry on its own, as the model repository API takes it (`parameters.config`): an object with
    /// the keys of a `models` element, checked and validated as the file's are. `name` may be left out; given,
    /// it must be `name`. A relative `path` resolves against `baseDirectory`.
    /// - Throws: `ConfigurationError` naming the offending key.
    public init(json: Data, name: String, baseDirectory: String) throws(ConfigurationError) {
        let reader = try JSONObjectReader.configuration(json, allowedKeys: JSONKeys.model)
        try self.init(reader, baseDirectory: baseDirectory, name: name)
        guard self.name == name else {
            throw .invalidValue(key: "name", expected: .oneOf([name]), found: "\"\(self.name)\"")
        }
        try validate(keyPrefix: "config")
    }

    /// One element of `models`; `name` (unless given) and `path` are required, `path` resolves against
    /// `baseDirectory`.
    fileprivate init(_ reader: JSONObjectReader, baseDirectory: String, name: String? = nil) throws(ConfigurationError) {
        let defaults = ModelConfiguration(name: "", path: "")
        self.init(
            name: try reader.string("name", default: name, .modelName),
            path: ServerConfiguration.resolve(try reader.string("path", default: nil, .nonEmptyString),
                                              against: baseDirectory),
            version: try reader.string("version", default: defaults.version, .nonEmptyString),
            precision: try reader.string("precision", default: defaults.precision, .precision),
            maxBatchSize: try reader.integer("max_batch_size", default: defaults.maxBatchSize, .positive),
            maxQueueDelayMicroseconds: try reader.integer("max_queue_delay_us",
                                                          default: defaults.maxQueueDelayMicroseconds, .microseconds),
            maxQueueSize: try reader.integer("max_queue_size", default: defaults.maxQueueSize, .nonNegative),
            defaultTimeoutMicroseconds: try reader.integer("default_timeout_us",
                                                           default: defaults.defaultTimeoutMicroseconds, .microseconds),
            preferredBatchSizes: try reader.integers("preferred_batch_sizes", .positive) ?? defaults.preferredBatchSizes,
            priorityLevels: try reader.integer("priority_levels", default: defaults.priorityLevels, .nonNegative),
            defaultPriorityLevel: try reader.integer("default_priority_level", default: defaults.defaultPriorityLevel,
                                                     .nonNegative),
            instances: try reader.integer("instances", default: defaults.instances, .positive),
            threadsPerInstance: try reader.integer("threads_per_instance", default: defaults.threadsPerInstance,
                                                   .nonNegative),
            memoryBudgetMiB: try reader.integer("memory_budget_mib", default: defaults.memoryBudgetMiB,
                                                .integer(min: 1, max: 1 << 30)),
            latentCacheMiB: try reader.integer("latent_cache_mib", default: defaults.latentCacheMiB,
                                               .integer(min: 0, max: 1 << 30)),
            interpolatePositionEncoding: try reader.boolean("interpolate_pos_encoding",
                                                            default: defaults.interpolatePositionEncoding))
    }
}

extension LimitsConfiguration {
    /// The `limits` object; absent keys take their defaults.
    fileprivate init(_ reader: JSONObjectReader) throws(ConfigurationError) {
        self.init()
        for (key, path, requirement) in Self.keys {
            self[keyPath: path] = try reader.integer(key, default: self[keyPath: path], requirement)
        }
    }
}

extension TLSConfiguration {
    /// The `tls` object; all three keys are required, paths resolve against `baseDirectory`.
    fileprivate init(_ reader: JSONObjectReader, baseDirectory: String) throws(ConfigurationError) {
        self.init(
            port: try reader.integer("port", default: nil, .port),
            certificatePath: ServerConfiguration.resolve(try reader.string("cert", default: nil, .nonEmptyString),
                                                         against: baseDirectory),
            keyPath: ServerConfiguration.resolve(try reader.string("key", default: nil, .nonEmptyString),
                                                 against: baseDirectory))
    }
}

extension AdminConfiguration {
    /// The `admin` object; `token_file` resolves against `baseDirectory`.
    fileprivate init(_ reader: JSONObjectReader, baseDirectory: String) throws(ConfigurationError) {
        let file: String? = reader.has("token_file")
            ? ServerConfiguration.resolve(try reader.string("token_file", default: nil, .nonEmptyString),
                                          against: baseDirectory)
            : nil
        self.init(repository: try reader.boolean("repository", default: false),
                  logging: try reader.boolean("logging", default: false), tokenFile: file)
    }
}

extension AuthConfiguration {
    /// The `auth` object; `token_file` resolves against `baseDirectory`.
    fileprivate init(_ reader: JSONObjectReader, baseDirectory: String) throws(ConfigurationError) {
        let file: String? = reader.has("token_file")
            ? ServerConfiguration.resolve(try reader.string("token_file", default: nil, .nonEmptyString),
                                          against: baseDirectory)
            : nil
        self.init(tokenFile: file, protectMetrics: try reader.boolean("protect_metrics", default: false))
    }
}

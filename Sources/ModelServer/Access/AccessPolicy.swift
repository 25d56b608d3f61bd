import HTTPServer

/// Which requests need a bearer token, and the check itself.
///
/// With tokens configured every route needs one except the health probes (`/health`, `/v2/health/live`,
/// `/v2/health/ready`), which load balancers and Kubernetes call without credentials, and `/metrics` unless
/// `protectsMetrics`. Without tokens everything is open.
public struct AccessPolicy: Sendable {
    /// The accepted tokens; nil leaves every route open.
    public let tokens: BearerTokenSet?
    /// Whether `/metrics` needs a token.
    public let protectsMetrics: Bool

    /// Every route open.
    public static let open = AccessPolicy(tokens: nil, protectsMetrics: false)

    /// A policy accepting `tokens` (none: open).
    public init(tokens: BearerTokenSet?, protectsMetrics: Bool) {
        self.tokens = tokens.flatMap { $0.count > 0 ? $0 : nil }
        self.protectsMetrics = protectsMetrics
    }

    /// The policy the configuration and the environment describe.
    /// - Throws: `ConfigurationError` from `AccessTokens.load`, or `.tokenDigestFailed` when some token could
    ///   not be hashed.
    public init(_ configuration: AuthConfiguration, environment: [String: String]) throws(ConfigurationError) {
        let tokens = try AccessTokens.load(configuration, environment: environment)
        let set = BearerTokenSet(tokens)
        guard set.count == Set(tokens).count else { throw .tokenDigestFailed }
        self.init(tokens: tokens.isEmpty ? nil : set, protectsMetrics: configuration.protectMetrics)
    }

    /// Whether any route needs a token.
    public var isEnabled: Bool { tokens != nil }

    /// Checks a request by its head (its path already split into `segments`), before its body is read.
    /// - Throws: `RequestError.unauthorized` when a token is needed and missing or not accepted.
    func check(_ head: HTTPRequestHead, segments: [String]) throws(RequestError) {
        guard let tokens, !isExempt(segments) else { return }
        switch tokens.verify(authorization: head.headers.values(of: "Authorization")) {
        case .accepted: return
        case .missingCredentials: throw RequestError.unauthorized(invalidToken: false)
        case .invalidToken: throw RequestError.unauthorized(invalidToken: true)
        }
    }

    /// Whose latents a request may name (`latents_id`): the SHA-256 of its bearer token, or "" with auth off
    /// (then every client shares one scope per model).
    func scope(of head: HTTPRequestHead) -> String {
        tokens?.acceptedDigest(authorization: head.headers.values(of: "Authorization")) ?? ""
    }

    private func isExempt(_ segments: [String]) -> Bool {
        segments == ["health"] || segments == ["v2", "health", "live"] || segments == ["v2", "health", "ready"]
            || (segments == ["metrics"] && !protectsMetrics)
    }
}

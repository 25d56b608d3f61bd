import HTTPServer

/// Which requests need a bearer token, and the check itself.
///
/// With tokens configured every route needs one except the health probes (`/health`, `/v2/health/live`,
/// `/v2/health/ready`), which load balancers and Kubernetes call without credentials, and `/metrics` unless
/// `protectsMetrics`. Without tokens everything is open.
///
/// The administrative routes (`/v2/repository/...`, `/v2/logging`) are refused (403) unless their group is
/// enabled. With admin tokens configured they take only those, never an inference token (403 for one, 401 for
/// none or an unknown one); with inference tokens but no admin tokens they are refused (403), so turning auth on
/// never leaves them open by accident; with neither, they are as open as every other route.
public struct AccessPolicy: Sendable {
    /// The accepted tokens; nil leaves every route open.
    public let tokens: BearerTokenSet?
    /// Whether `/metrics` needs a token.
    public let protectsMetrics: Bool
    /// The tokens the administrative routes take; nil: see the type's comment.
    public let adminTokens: BearerTokenSet?
    /// Which administrative groups are on.
    public let admin: AdminConfiguration

    /// Every route open, the administrative ones off.
    public static let open = AccessPolicy(tokens: nil, protectsMetrics: false)

    /// A policy accepting `tokens` (none: open) and, on the enabled administrative routes, `adminTokens`.
    public init(tokens: BearerTokenSet?, protectsMetrics: Bool, adminTokens: BearerTokenSet? = nil,
                admin: AdminConfiguration = AdminConfiguration()) {
        self.tokens = tokens.flatMap { $0.count > 0 ? $0 : nil }
        self.protectsMetrics = protectsMetrics
        self.adminTokens = adminTokens.flatMap { $0.count > 0 ? $0 : nil }
        self.admin = admin
    }

    /// The policy the configuration and the environment describe.
    /// - Throws: `ConfigurationError` from `AccessTokens.load`, or `.tokenDigestFailed` when some token could
    ///   not be hashed.
    public init(_ configuration: AuthConfiguration, admin: AdminConfiguration = AdminConfiguration(),
                environment: [String: String]) throws(ConfigurationError) {
        let tokens = try AccessTokens.load(configuration, environment: environment)
        let set = BearerTokenSet(tokens)
        guard set.count == Set(tokens).count else { throw .tokenDigestFailed }
        let adminTokens = try AccessTokens.loadAdmin(admin, environment: environment)
        let adminSet = BearerTokenSet(adminTokens)
        guard adminSet.count == Set(adminTokens).count else { throw .tokenDigestFailed }
        self.init(tokens: tokens.isEmpty ? nil : set, protectsMetrics: configuration.protectMetrics,
                  adminTokens: adminTokens.isEmpty ? nil : adminSet, admin: admin)
    }

    /// Whether any route needs a token.
    public var isEnabled: Bool { tokens != nil }

    /// Checks a request by its head (its path already split into `segments`), before its body is read.
    /// - Throws: `RequestError.unauthorized` when a token is needed and missing or not accepted.
    func check(_ head: HTTPRequestHead, segments: [String]) throws(RequestError) {
        if let group = Self.adminGroup(segments) { return try checkAdmin(head, group: group) }
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

    /// The administrative group a path belongs to, if any.
    enum AdminGroup: String {
        case repository, logging
    }

    static func adminGroup(_ segments: [String]) -> AdminGroup? {
        guard segments.count >= 2, segments[0] == "v2" else { return nil }
        switch segments[1] {
        case "repository": return .repository
        case "logging": return .logging
        default: return nil
        }
    }

    private func checkAdmin(_ head: HTTPRequestHead, group: AdminGroup) throws(RequestError) {
        let enabled = group == .repository ? admin.repository : admin.logging
        guard enabled else {
            throw RequestError.forbidden("the \(group == .repository ? "model repository" : "logging") endpoints are "
                                         + "off (admin.\(group.rawValue) in the configuration)")
        }
        guard let adminTokens else {
            guard tokens == nil else {
                throw RequestError.forbidden("administrative endpoints need an admin token while access control is "
                                             + "on, and none is configured (admin.token_file, "
                                             + "$\(AccessTokens.adminEnvironmentVariable))")
            }
            return
        }
        let authorization = head.headers.values(of: "Authorization")
        switch adminTokens.verify(authorization: authorization) {
        case .accepted: return
        case .missingCredentials: throw RequestError.unauthorized(invalidToken: false)
        case .invalidToken:
            if tokens?.verify(authorization: authorization) == .accepted {
                throw RequestError.forbidden("this token may not use administrative endpoints (an admin token is "
                                             + "needed)")
            }
            throw RequestError.unauthorized(invalidToken: true)
        }
    }

    private func isExempt(_ segments: [String]) -> Bool {
        segments == ["health"] || segments == ["v2", "health", "live"] || segments == ["v2", "health", "ready"]
            || (segments == ["metrics"] && !protectsMetrics)
    }
}

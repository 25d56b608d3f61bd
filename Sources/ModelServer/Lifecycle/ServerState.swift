import Foundation

/// Whether the server takes inference requests: starting (models loading), ready, or draining.
/// Shared by the routes and the lifecycle; `lock` guards `phase`.
public final class ServerState: @unchecked Sendable {
    public enum Phase: String, Sendable {
        case starting, ready, draining
    }

    private let lock = NSLock()
    private var phase_: Phase = .starting
    private var registry_ = ModelRegistry(models: [])

    public init(phase: Phase = .starting, registry: ModelRegistry = ModelRegistry(models: [])) {
        phase_ = phase
        registry_ = registry
    }

    public var phase: Phase {
        lock.withLock { phase_ }
    }

    /// Enters draining (from any phase): readiness turns 503 and new inference requests are refused.
    public func beginDraining() {
        lock.withLock { phase_ = .draining }
    }

    /// The loaded models; empty while starting.
    public var registry: ModelRegistry {
        lock.withLock { registry_ }
    }

    /// Moves from starting to ready with `registry`; false (and no change) when a drain began meanwhile.
    public func becomeReady(with registry: ModelRegistry) -> Bool {
        lock.withLock {
            guard phase_ == .starting else { return false }
            registry_ = registry
            phase_ = .ready
            return true
        }
    }

    /// Ready means every model is loaded and warm and the server is not draining.
    public var isReady: Bool { phase == .ready }
}

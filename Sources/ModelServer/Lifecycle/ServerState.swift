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
        get { lock.withLock { phase_ } }
        set { lock.withLock { phase_ = newValue } }
    }

    /// The loaded models; empty while starting.
    public var registry: ModelRegistry {
        get { lock.withLock { registry_ } }
        set { lock.withLock { registry_ = newValue } }
    }

    /// Ready means every model is loaded and warm and the server is not draining.
    public var isReady: Bool { phase == .ready }
}

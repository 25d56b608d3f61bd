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

    /// Ready means the models of the configuration are loaded and warm and the server is not draining; a model
    /// loaded, reloaded or unloaded through the repository API later does not change it (as in Triton).
    public var isReady: Bool { phase == .ready }

    /// Serves `served` under its name from now on; the model it replaced (still finishing what it accepted).
    func install(_ served: ServedModel) -> ServedModel? {
        lock.withLock { registry_.install(served) }
    }

    /// Stops offering the model `name`; the model removed (still finishing what it accepted).
    func remove(_ name: String) -> ServedModel? {
        lock.withLock { registry_.remove(name) }
    }

    /// The model `name` (the only one when nil), counted as arrived at its scheduler (`BatchScheduler.arrive`)
    /// under the same lock that `install` and `remove` take: a model that is replaced or removed afterwards
    /// keeps its workers until this request has its answer (`BatchScheduler.leave`).
    func acquire(_ name: String?) -> ServedModel? {
        lock.withLock { () -> ServedModel? in
            guard let served = registry_.model(named: name) else { return nil }
            served.scheduler.arrive()
            return served
        }
    }
}

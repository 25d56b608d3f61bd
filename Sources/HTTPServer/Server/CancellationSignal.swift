import Foundation

/// A one-shot flag a connection raises when its client goes away, so queued work can be dropped.
public final class CancellationSignal: @unchecked Sendable {
    // `lock` guards `cancelled` and `handlers`; handlers run outside the lock.
    private let lock = NSLock()
    private var cancelled = false
    private var handlers: [@Sendable () -> Void] = []

    public init() {}

    /// Whether `cancel()` has been called.
    public var isCancelled: Bool {
        lock.withLock { cancelled }
    }

    /// Runs `handler` once when cancelled (at once if it already is).
    public func onCancel(_ handler: @escaping @Sendable () -> Void) {
        let runNow = lock.withLock { () -> Bool in
            if cancelled { return true }
            handlers.append(handler)
            return false
        }
        if runNow { handler() }
    }

    /// Raises the flag and runs the registered handlers; later calls do nothing.
    public func cancel() {
        let toRun = lock.withLock { () -> [@Sendable () -> Void] in
            if cancelled { return [] }
            cancelled = true
            defer { handlers = [] }
            return handlers
        }
        for handler in toRun { handler() }
    }
}

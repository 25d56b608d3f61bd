import Glibc

/// A joinable pthread running one closure. Clients block in `recv`, so each gets its own thread rather than a
/// Dispatch work item (SWIFT_ON_THIS_MACHINE.md section 3: blocking work items starve libdispatch's pool).
final class ClientThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private let thread: pthread_t

    /// Starts `body` on a new thread.
    /// - Throws: `ClientError.system("pthread_create", ...)` when the thread cannot be created.
    init(_ body: @escaping @Sendable () -> Void) throws(ClientError) {
        let box = Unmanaged.passRetained(Body(body))
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Body>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, box.toOpaque())
        guard status == 0 else {
            box.release()
            throw .system(operation: "pthread_create", errno: status)
        }
        self.thread = thread
    }

    /// Waits for the closure to return.
    func join() {
        pthread_join(thread, nil)
    }
}

import Glibc

/// A failed socket system call: which call, on what, and `errno` (docs/development/style.md: failed syscalls
/// carry errno).
public struct SocketError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The call that failed, e.g. `bind`.
    public var operation: String
    /// What it was called on, e.g. `127.0.0.1:8000`.
    public var target: String
    public var errno: Int32

    public init(_ operation: String, target: String = "", errno: Int32 = Glibc.errno) {
        self.operation = operation
        self.target = target
        self.errno = errno
    }

    public var description: String {
        let reason = String(cString: strerror(errno))
        return target.isEmpty ? "\(operation): \(reason)" : "\(operation) \(target): \(reason)"
    }
}

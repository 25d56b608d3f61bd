import Synchronization

/// The request-body bytes the server holds at once, server-wide and per client address. A request reserves
/// its declared `Content-Length` when its head is complete, before one byte of the body is read (a chunked
/// body reserves as it grows, an inflated body grows its reservation to the inflated size), and releases it
/// when its response is made. A reservation that does not fit is refused: the connection answers 503 with
/// `Retry-After` and closes without reading the body.
///
/// Without it, 40 connections each sending a 60 MiB body within every per-request limit held 3 GiB at once.
public final class BodyBudget: Sendable {
    /// Bytes all clients together may hold.
    public let serverBytes: Int
    /// Bytes one client address may hold.
    public let clientBytes: Int
    private let state = Mutex(State())

    private struct State {
        var total = 0
        var byClient: [String: Int] = [:]
    }

    public init(serverBytes: Int, clientBytes: Int) {
        self.serverBytes = max(0, serverBytes)
        self.clientBytes = max(0, clientBytes)
    }

    /// Adds `bytes` to `client`'s and the server's holdings if both stay within their budgets.
    public func reserve(_ bytes: Int, for client: String) -> Bool {
        guard bytes > 0 else { return true }
        return state.withLock { state in
            let held = state.byClient[client, default: 0]
            guard state.total + bytes <= serverBytes, held + bytes <= clientBytes else { return false }
            state.total += bytes
            state.byClient[client] = held + bytes
            return true
        }
    }

    /// Gives back bytes reserved for `client`.
    public func release(_ bytes: Int, for client: String) {
        guard bytes > 0 else { return }
        state.withLock { state in
            state.total -= bytes
            let left = state.byClient[client, default: 0] - bytes
            state.byClient[client] = left > 0 ? left : nil
        }
    }

    /// Bytes held now, server-wide (metrics, tests).
    public var held: Int { state.withLock { $0.total } }
}

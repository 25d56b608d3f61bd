import Synchronization

/// Bounds how many uploaded images are decoded and preprocessed at once. Decoding runs on the connection's queue,
/// before the batch queue and its limits; one image near the pixel cap takes hundreds of MiB for a moment, so
/// without a bound `max_connections` uploads could hold that many at the same time.
final class ImageDecodeGate: Sendable {
    /// Decodes at once for the daemon: one per core the process may use, at least 2.
    static let shared = ImageDecodeGate(limit: max(2, AvailableCores.current()))

    let limit: Int
    private let running = Mutex(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Runs `body` if fewer than `limit` decodes are running.
    /// - Throws: `RequestError.unavailable` (503, `Retry-After`) when `limit` are; whatever `body` throws.
    func run<T>(_ body: () throws(RequestError) -> T) throws(RequestError) -> T {
        let admitted = running.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
        guard admitted else {
            throw RequestError.unavailable("\(limit) images are being decoded already; retry")
        }
        defer { running.withLock { $0 -= 1 } }
        return try body()
    }
}

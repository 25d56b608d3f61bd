/// The outcome of one read or write on a non-blocking transport.
enum TransportResult: Equatable {
    /// This many bytes moved (> 0).
    case transferred(Int)
    /// Nothing moved; try again when the socket is readable.
    case wantRead
    /// Nothing moved; try again when the socket is writable.
    case wantWrite
    /// The peer closed the stream cleanly.
    case closed
    /// The stream failed; the reason is for the log.
    case failed(String)
}

/// A byte stream over one connected non-blocking socket: plain TCP or TLS. Used from one connection
/// queue only.
protocol Transport: AnyObject {
    /// Reads at most `buffer.count` bytes.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult
    /// Writes at most `bytes.count` bytes.
    func write(_ bytes: UnsafeRawBufferPointer) -> TransportResult
    /// Whether the stream carries application data yet (false during a TLS handshake).
    var isEstablished: Bool { get }
    /// Ends the stream (TLS close_notify where possible); the socket itself is closed by its owner.
    func shutdown()
}

/// What one client recorded inside the measurement window.
struct Tally: Sendable {
    /// Latency of every response that completed in the window, any status, in nanoseconds.
    var latencies: [UInt64] = []
    /// Responses outside 2xx, by status code.
    var nonSuccess: [Int: Int] = [:]
    /// Requests that ended without a response (socket failure, timeout, malformed response), by description.
    var socketErrors: [String: Int] = [:]

    mutating func merge(_ other: Tally) {
        latencies += other.latencies
        nonSuccess.merge(other.nonSuccess, uniquingKeysWith: +)
        socketErrors.merge(other.socketErrors, uniquingKeysWith: +)
    }
}

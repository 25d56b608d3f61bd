import Glibc

/// One simulated user: a thread with one keep-alive connection that sends the request back to back, each after
/// the previous response, until the deadline. Reconnects after `Connection: close` and after any error.
final class Client: @unchecked Sendable {
    // @unchecked: every property is used only by the client's thread until `ClientThread.join()` returns,
    // and only by the main thread after that.
    private let endpoint: Endpoint
    private let request: RequestTemplate
    private let timeout: Double
    private let reader = ResponseReader()
    private var socket: ClientSocket?
    /// What was recorded in the window; read after the thread is joined.
    private(set) var tally = Tally()

    /// A pause after a failed connect, so a server that is down is not hammered in a tight loop.
    static let reconnectBackoff: useconds_t = 10_000

    init(endpoint: Endpoint, request: RequestTemplate, timeout: Double) {
        self.endpoint = endpoint
        self.request = request
        self.timeout = timeout
    }

    /// Connects, waits at `gate`, then loops until the schedule's deadline. Runs on the client's own thread.
    func run(gate: StartGate) {
        socket = try? ClientSocket.connect(to: endpoint, timeout: timeout)
        let schedule = gate.arriveAndWait()
        tally.latencies.reserveCapacity(4096)
        while MonotonicClock.now() < schedule.deadline {
            exchange(in: schedule)
        }
        disconnect()
    }

    /// One request and its response; the latency runs from the first byte sent (or the reconnect before it) to
    /// the last byte received. Only outcomes between `measureStart` and `deadline` are recorded.
    private func exchange(in schedule: Schedule) {
        let started = MonotonicClock.now()
        do throws(ClientError) {
            let socket = try connected()
            try socket.sendAll(request.bytes)
            let response = try reader.read(from: socket)
            let finished = MonotonicClock.now()
            if !response.keepsAlive { disconnect() }
            guard finished >= schedule.measureStart, finished <= schedule.deadline else { return }
            tally.latencies.append(finished - started)
            if !(200..<300).contains(response.status) { tally.nonSuccess[response.status, default: 0] += 1 }
        } catch {
            disconnect()
            let failed = MonotonicClock.now()
            if failed >= schedule.measureStart, failed <= schedule.deadline {
                tally.socketErrors[error.description, default: 0] += 1
            }
            if case .system(operation: "connect", _) = error { usleep(Self.reconnectBackoff) }
        }
    }

    /// The open connection, or a new one.
    private func connected() throws(ClientError) -> ClientSocket {
        if let socket { return socket }
        let fresh = try ClientSocket.connect(to: endpoint, timeout: timeout)
        reader.reset()
        socket = fresh
        return fresh
    }

    private func disconnect() {
        socket?.close()
        socket = nil
    }
}

/// Runs one concurrency level: starts the client threads, releases them together, joins them, merges tallies.
struct LevelRunner {
    var endpoint: Endpoint
    var request: RequestTemplate
    /// Seconds of each level that are measured, after `warmup` seconds that are not.
    var duration: Double
    var warmup: Double
    /// Seconds any one connect, send or receive may block.
    var timeout: Double

    /// - Throws: `ClientError` when a thread cannot be created (the threads already started are stopped first).
    func run(concurrency: Int) throws(ClientError) -> LevelResult {
        let gate = StartGate()
        let clients = (0..<concurrency).map { _ in Client(endpoint: endpoint, request: request, timeout: timeout) }
        var threads: [ClientThread] = []
        do {
            for client in clients {
                threads.append(try ClientThread { client.run(gate: gate) })
            }
        } catch {
            let now = MonotonicClock.now()
            gate.open(Schedule(measureStart: now, deadline: now))
            threads.forEach { $0.join() }
            throw error
        }
        gate.waitForArrivals(concurrency)
        let start = MonotonicClock.now() + MonotonicClock.nanoseconds(warmup)
        gate.open(Schedule(measureStart: start, deadline: start + MonotonicClock.nanoseconds(duration)))
        threads.forEach { $0.join() }
        return LevelResult(concurrency: concurrency, duration: duration, tallies: clients.map(\.tally))
    }
}

import Dispatch
import Foundation
import HTTPServer
import HTTPTestSupport
import Testing

@Suite struct CancellationSignalTests {
    private final class Counter: @unchecked Sendable {
        // `queue` owns `count`: the cancel handlers increment it from concurrentPerform's threads.
        private let queue = DispatchQueue(label: "counter")
        private var count = 0
        func increment() { queue.sync { count += 1 } }
        var value: Int { queue.sync { count } }
    }

    @Test func handlersRunOnceWhetherRegisteredBeforeOrAfterCancel() {
        let signal = CancellationSignal()
        let counter = Counter()
        signal.onCancel { counter.increment() }
        #expect(!signal.isCancelled)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in signal.cancel() }
        #expect(signal.isCancelled)
        #expect(counter.value == 1)
        signal.onCancel { counter.increment() }
        #expect(counter.value == 2)
    }

    @Test func connectionCancelsItsRequestWhenTheClientLeaves() throws {
        let seen = SignalBox()
        try withServer({ _ in }, handler: CapturingHandler(box: seen)) { server in
            do {
                let client = try RawHTTPClient(port: server.port)
                try client.send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
                for _ in 0..<200 where seen.signal == nil { usleep(5_000) }
            }  // the client closes here without waiting for an answer
            var waited = 0
            while seen.signal?.isCancelled != true && waited < 200 {
                usleep(5_000)
                waited += 1
            }
            #expect(seen.signal?.isCancelled == true)
            seen.respond?(.error(500, "late"))
        }
    }
}

/// Holds the cancellation signal and responder of the one request a `CapturingHandler` saw. `lock` guards
/// `captured`: the handler writes it on the connection's queue while the test polls it from its own thread.
private final class SignalBox: @unchecked Sendable {
    private let lock = NSLock()
    private var captured: (signal: CancellationSignal, respond: @Sendable (HTTPResponse) -> Void)?

    func capture(_ signal: CancellationSignal, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        lock.withLock { captured = (signal, respond) }
    }

    var signal: CancellationSignal? { lock.withLock { captured?.signal } }
    var respond: (@Sendable (HTTPResponse) -> Void)? { lock.withLock { captured?.respond } }
}

/// Never answers on its own: keeps the request's signal and responder for the test.
private struct CapturingHandler: HTTPHandler {
    let box: SignalBox
    func handle(_ request: HTTPRequest, context: RequestContext, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        box.capture(context.cancellation, respond)
    }
}

import Foundation
import HTTPServer
import Testing

/// The work pool in process: what it runs, and what it lets go.
@Suite struct WorkPoolTests {
    final class Payload: @unchecked Sendable {}

    /// A job and everything it captures (a request and its body, the model it goes to) are released once it
    /// has run. The pool used to keep up to 64 consumed jobs in its queue array until the next compaction, so an
    /// unloaded model stayed resident and request bodies of up to 64 MiB each lived on after their answers.
    @Test func aJobIsReleasedOnceItHasRun() throws {
        let pool = WorkPool(width: 1, queueLimit: 4)
        defer { pool.stop() }
        weak var released: Payload?
        let done = DispatchSemaphore(value: 0)
        do {
            let payload = Payload()
            released = payload
            let accepted = pool.submit {
                withExtendedLifetime(payload) {}
                done.signal()
            }
            #expect(accepted)
        }
        done.wait()
        for _ in 0..<200 where released != nil { usleep(5_000) }
        #expect(released == nil)
    }
}

import Foundation

/// How much work a model's engine has done: what the scheduler's tests and `/metrics` read to prove that a
/// request was (or was not) computed.
public struct EngineCounts: Sendable, Equatable {
    /// Forward passes run (a batch of several requests is one pass).
    public var passes: Int
    /// Rows (B) computed, summed over passes.
    public var rows: Int
}

/// A thread-safe `EngineCounts`, shared by every instance of one model. `lock` guards `counts`.
final class EngineCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = EngineCounts(passes: 0, rows: 0)

    func record(rows: Int) {
        lock.withLock {
            value.passes += 1
            value.rows += rows
        }
    }

    var counts: EngineCounts { lock.withLock { value } }
}

import Foundation

/// When one level's measurement runs, in `MonotonicClock` nanoseconds.
struct Schedule: Sendable {
    /// Responses completing before this are warm-up and not recorded.
    var measureStart: UInt64
    /// No request starts after this; one in flight at this moment is finished but not recorded.
    var deadline: UInt64
}

/// Holds the client threads until every one has connected, then releases them together with the schedule.
final class StartGate: @unchecked Sendable {
    // @unchecked: `arrived` and `schedule` are read and written only while holding `condition`.
    private let condition = NSCondition()
    private var arrived = 0
    private var schedule: Schedule?

    /// Called by a client thread: counts it in and blocks until `open`.
    func arriveAndWait() -> Schedule {
        condition.lock()
        defer { condition.unlock() }
        arrived += 1
        condition.broadcast()
        while true {
            if let schedule { return schedule }
            condition.wait()
        }
    }

    /// Called by the main thread: blocks until `count` clients have arrived.
    func waitForArrivals(_ count: Int) {
        condition.lock()
        defer { condition.unlock() }
        while arrived < count { condition.wait() }
    }

    /// Releases every waiting client, and any that arrive later.
    func open(_ schedule: Schedule) {
        condition.lock()
        defer { condition.unlock() }
        self.schedule = schedule
        condition.broadcast()
    }
}

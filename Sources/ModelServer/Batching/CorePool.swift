import Dispatch
import Foundation
import PerceiverEngine
import Synchronization

/// The server's compute cores (`threads`), shared by the passes of every model: a pass takes the cores that
/// are free when it starts, at most its model's cap (`threads_per_instance`), so a model running alone gets
/// all of them; when another pass waits, the running ones give cores back at their next primitive (each
/// keeps its fair share, `total / (passes running + waiting)`, at least 1), and when cores come free and
/// nobody waits they take them again. The cores held never add up to more than `total`: a pass takes at
/// least 1, so with more passes than cores the extra ones wait for a core, first come, first served.
///
/// Each instance's worker is a `Lane`; its pass asks it before every primitive (`ThreadBudget`), which costs
/// one atomic load unless the pool changed since the lane last looked.
///
/// Thread safety: `condition` guards `free`, `holding`, `waiting` and `queue`; `generation` is bumped under
/// it on every change; a lane's own fields belong to the thread running its pass.
final class CorePool: @unchecked Sendable {
    /// One instance's worker: what its pass holds and how long it held it.
    ///
    /// Thread safety: every field belongs to the worker thread that runs the lane's passes (`acquire`, the
    /// pass's `threadsForNextPrimitive` and `release` all run there); `held` changes under the pool's lock.
    final class Lane: ThreadBudget, @unchecked Sendable {
        let pool: CorePool
        fileprivate var held = 0
        fileprivate var cap = 1
        fileprivate var seen = -1
        fileprivate var started = 0
        fileprivate var since: UInt64 = 0
        fileprivate var start: UInt64 = 0
        fileprivate var coreNanoseconds: Double = 0

        init(_ pool: CorePool) { self.pool = pool }

        func threadsForNextPrimitive() -> Int {
            if pool.generation.load(ordering: .acquiring) != seen { pool.adjust(self) }
            return held
        }

        /// Counts the cores held so far, before `held` changes.
        fileprivate func account(now: UInt64) {
            coreNanoseconds += Double(held) * Double(now - since)
            since = now
        }
    }

    /// What one pass held: the cores it started with and their mean over its time.
    struct Usage: Equatable {
        var started: Int
        var mean: Double
    }

    /// Cores to share: the configuration's `threads` (`ServerConfiguration.computeThreads`).
    let total: Int
    private let condition = NSCondition()
    private var free: Int
    /// Lanes holding cores.
    private var holding = 0
    /// Tickets of the lanes waiting in `acquire`, oldest first.
    private var queue: [Int] = []
    private var nextTicket = 0
    /// Bumped on every change, so that a running pass looks again (`Lane.threadsForNextPrimitive`).
    fileprivate let generation = Atomic<Int>(0)
    /// Called under the pool's lock with the cores held after every change (the in-use gauge).
    private let onChange: @Sendable (Int) -> Void

    init(total: Int, onChange: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.total = max(1, total)
        free = self.total
        self.onChange = onChange
    }

    /// Cores held by passes now.
    var inUse: Int { condition.withLock { total - free } }

    /// Blocks until `lane` is first in line and a core is free, then takes its share of what is free: at
    /// least 1, at most `cap` (at least 1), `free / (lanes waiting)` when others wait behind it. The pass
    /// gives them back with `release`.
    func acquire(_ lane: Lane, cap: Int) -> Int {
        condition.lock()
        defer { condition.unlock() }
        let ticket = nextTicket
        nextTicket += 1
        queue.append(ticket)
        changed()
        while queue.first != ticket || free == 0 {
            condition.wait()
        }
        let granted = min(free, max(1, cap), max(1, free / queue.count))
        queue.removeFirst()
        lane.cap = max(1, cap)
        lane.held = granted
        lane.started = granted
        lane.start = DispatchTime.now().uptimeNanoseconds
        lane.since = lane.start
        lane.coreNanoseconds = 0
        free -= granted
        holding += 1
        changed()
        lane.seen = generation.load(ordering: .relaxed)
        return granted
    }

    /// Gives back what `lane`'s pass holds; what it held, for the log and metrics.
    @discardableResult
    func release(_ lane: Lane) -> Usage {
        condition.withLock {
            let now = DispatchTime.now().uptimeNanoseconds
            lane.account(now: now)
            let seconds = Double(now - lane.start)
            let usage = Usage(started: lane.started,
                              mean: seconds > 0 ? lane.coreNanoseconds / seconds : Double(lane.held))
            free += lane.held
            lane.held = 0
            holding -= 1
            changed()
            return usage
        }
    }

    /// Between two primitives of `lane`'s pass: down to its fair share when passes wait, up into the free
    /// cores (to its cap) when none does.
    fileprivate func adjust(_ lane: Lane) {
        condition.withLock {
            lane.seen = generation.load(ordering: .relaxed)
            guard lane.held > 0 else { return }
            let target: Int
            if !queue.isEmpty {
                target = min(lane.held, max(1, total / (holding + queue.count)))
            } else {
                target = min(lane.cap, lane.held + free)
            }
            guard target != lane.held else { return }
            lane.account(now: DispatchTime.now().uptimeNanoseconds)
            free += lane.held - target
            lane.held = target
            changed()
            lane.seen = generation.load(ordering: .relaxed)
        }
    }

    /// After a change, under the lock: tells waiters and running passes, and the gauge.
    private func changed() {
        generation.add(1, ordering: .releasing)
        onChange(total - free)
        condition.broadcast()
    }
}

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
/// A lane whose pass ended less than `returnGrace` (10 ms) ago still counts as coming back: a busy model's next
/// request is usually on its way (its client is reading the answer), so a pass starting then leaves it its
/// share and a running one does not grow into its cores. Without that, two busy models ping-pong: each pass
/// starts on every core while the other's client is between requests, then shrinks when that request
/// arrives; on small models, whose passes a second thread does not speed up, that cost 25-40% of the
/// throughput of the static split.
///
/// Each instance's worker is a `Lane`; its pass asks it before every primitive (`ThreadBudget`), which costs
/// one atomic load unless the pool changed since the lane last looked.
///
/// Thread safety: `condition` guards `free`, `holding`, `queue`, `nextTicket` and `returning`; `generation` is
/// bumped under it on every change; a lane's own fields belong to the thread running its pass.
final class CorePool: @unchecked Sendable {
    /// One instance's worker: what its pass holds and how long it held it.
    ///
    /// Thread safety: every field belongs to the worker thread that runs the lane's passes (`acquire`, the
    /// pass's `threadsForNextPrimitive` and `release` all run there); `held` changes under the pool's lock.
    final class Lane: ThreadBudget, @unchecked Sendable {
        let pool: CorePool
        /// Cores the running pass holds (0 between passes), and the most it may hold.
        fileprivate var held = 0
        fileprivate var cap = 1
        /// The pool's `generation` when the lane last looked; -1 to look again at the next primitive.
        fileprivate var seen = -1
        /// For `Usage`: the cores the pass started with, when it started and when `held` last changed (uptime
        /// ns), and the cores held times nanoseconds so far.
        fileprivate var started = 0
        fileprivate var start: UInt64 = 0
        fileprivate var since: UInt64 = 0
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
    /// Lanes whose pass ended recently, with when (uptime ns) they stop counting as coming back.
    private var returning: [ObjectIdentifier: UInt64] = [:]
    /// How long (ns) a lane whose pass ended counts as coming back: longer than a client's turnaround on a
    /// local network, short beside a pass worth a second core.
    let returnGrace: UInt64
    private var nextTicket = 0
    /// Bumped on every change, so that a running pass looks again (`Lane.threadsForNextPrimitive`).
    fileprivate let generation = Atomic<Int>(0)
    /// Called under the pool's lock with the cores held after every change (the in-use gauge).
    private let onChange: @Sendable (Int) -> Void

    init(total: Int, returnGrace: UInt64 = 10_000_000, onChange: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.total = max(1, total)
        self.returnGrace = returnGrace
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
        returning[ObjectIdentifier(lane)] = nil
        changed()
        while queue.first != ticket || free == 0 {
            condition.wait()
        }
        let share = free / (queue.count + returningCount(now: DispatchTime.now().uptimeNanoseconds))
        let granted = min(free, max(1, cap), max(1, share))
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
        // Cores left for a lane coming back: look again at every primitive until it comes or its grace ends.
        lane.seen = returning.isEmpty ? generation.load(ordering: .relaxed) : -1
        return granted
    }

    /// Gives back what `lane`'s pass holds; what it held, for the log and metrics. `mayReturn` false: the lane
    /// is not counted as coming back (a warm-up pass).
    @discardableResult
    func release(_ lane: Lane, mayReturn: Bool = true) -> Usage {
        condition.withLock {
            let now = DispatchTime.now().uptimeNanoseconds
            lane.account(now: now)
            let seconds = Double(now - lane.start)
            let usage = Usage(started: lane.started,
                              mean: seconds > 0 ? lane.coreNanoseconds / seconds : Double(lane.held))
            free += lane.held
            lane.held = 0
            holding -= 1
            if mayReturn && returnGrace > 0 { returning[ObjectIdentifier(lane)] = now + returnGrace }
            changed()
            return usage
        }
    }

    /// Between two primitives of `lane`'s pass: down to its fair share when passes wait, up into the free
    /// cores (to its cap) when none does and no lane is coming back (until then it looks again at every
    /// primitive).
    fileprivate func adjust(_ lane: Lane) {
        condition.withLock {
            lane.seen = generation.load(ordering: .relaxed)
            guard lane.held > 0 else { return }
            let now = DispatchTime.now().uptimeNanoseconds
            let target: Int
            if !queue.isEmpty {
                target = min(lane.held, max(1, total / (holding + queue.count)))
            } else if free > 0, lane.held < lane.cap, returningCount(now: now) > 0 {
                lane.seen = -1
                return
            } else {
                target = min(lane.cap, lane.held + free)
            }
            guard target != lane.held else { return }
            lane.account(now: now)
            free += lane.held - target
            lane.held = target
            changed()
            lane.seen = generation.load(ordering: .relaxed)
        }
    }

    /// Lanes still counted as coming back at `now`, under the lock; forgets the others.
    private func returningCount(now: UInt64) -> Int {
        if returning.isEmpty { return 0 }
        returning = returning.filter { $0.value > now }
        return returning.count
    }

    /// After a change, under the lock: tells waiters and running passes, and the gauge.
    private func changed() {
        generation.add(1, ordering: .releasing)
        onChange(total - free)
        condition.broadcast()
    }
}

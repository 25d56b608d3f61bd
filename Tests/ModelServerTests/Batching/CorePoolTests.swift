import Foundation
@testable import ModelServer
import Testing

/// The server's shared cores (issue 23 part 5): a pass alone takes them all, busy lanes share them fairly, a
/// cap is a cap, and the grants never add up to more than the pool, however the lanes race.
@Suite struct CorePoolTests {
    /// Runs `body` on a thread of its own; the result arrives in the returned box once it returns.
    final class Background: @unchecked Sendable {
        private let condition = NSCondition()
        private var value: Int?  // guarded by `condition`

        init(_ body: @escaping @Sendable () -> Int) {
            Thread { [self] in
                let result = body()
                condition.withLock {
                    value = result
                    condition.broadcast()
                }
            }.start()
        }

        /// The result, or nil when it has not come within `seconds`.
        func result(within seconds: Double) -> Int? {
            condition.withLock {
                let deadline = Date(timeIntervalSinceNow: seconds)
                while value == nil, condition.wait(until: deadline) {}
                return value
            }
        }
    }

    @Test func aPassAloneTakesEveryCore() {
        let pool = CorePool(total: 4)
        let lane = CorePool.Lane(pool)
        #expect(pool.acquire(lane, cap: 64) == 4)
        #expect(lane.threadsForNextPrimitive() == 4)
        #expect(pool.inUse == 4)
        #expect(pool.release(lane).started == 4)
        #expect(pool.inUse == 0)
    }

    @Test func aCapIsRespectedAndTheRestStayFree() {
        let pool = CorePool(total: 4)
        let (capped, other) = (CorePool.Lane(pool), CorePool.Lane(pool))
        #expect(pool.acquire(capped, cap: 1) == 1)
        #expect(capped.threadsForNextPrimitive() == 1, "free cores do not lift a cap")
        #expect(pool.acquire(other, cap: 64) == 3, "the cores the capped pass left")
    }

    /// The case on 2 cores: one model's pass runs alone on both; another model's pass arrives and
    /// waits; the running pass gives a core back at its next primitive, so each runs on 1 (the old static
    /// split, while both are busy); when the second ends, the first takes its core again.
    @Test func aRunningPassSharesItsCoresWhileAnotherWaits() {
        let pool = CorePool(total: 2, returnGrace: 0)
        let (a, b) = (CorePool.Lane(pool), CorePool.Lane(pool))
        #expect(pool.acquire(a, cap: 64) == 2)
        let waiting = Background { pool.acquire(b, cap: 64) }
        #expect(waiting.result(within: 0.1) == nil, "no core is free until the running pass's next primitive")
        #expect(a.threadsForNextPrimitive() == 1)
        #expect(waiting.result(within: 10) == 1)
        #expect(a.threadsForNextPrimitive() == 1)
        #expect(pool.inUse == 2)
        pool.release(b)
        #expect(a.threadsForNextPrimitive() == 2, "nobody waits: the freed core comes back")
        let usage = pool.release(a)
        #expect(usage.started == 2 && usage.mean >= 1 && usage.mean <= 2)
    }

    /// A model whose pass just ended is taken to be coming back (its client is reading the answer): within the
    /// grace a pass starting leaves it its share and a running one does not grow into it; after, they do.
    @Test func aLaneWhosePassJustEndedKeepsItsShareForTheGrace() {
        let pool = CorePool(total: 2, returnGrace: 300_000_000)
        let (a, b) = (CorePool.Lane(pool), CorePool.Lane(pool))
        #expect(pool.acquire(b, cap: 64) == 2)
        pool.release(b)
        #expect(pool.acquire(a, cap: 64) == 1, "b may come back")
        #expect(a.threadsForNextPrimitive() == 1)
        usleep(400_000)
        #expect(a.threadsForNextPrimitive() == 2, "b did not come back")
        pool.release(a, mayReturn: false)
        #expect(pool.acquire(b, cap: 64) == 2, "a warm-up pass is not coming back")
    }

    /// Passes that start together split what is free: the first in line leaves the next its share.
    @Test func passesStartingTogetherSplitTheFreeCores() {
        let pool = CorePool(total: 4)
        let (a, b, c) = (CorePool.Lane(pool), CorePool.Lane(pool), CorePool.Lane(pool))
        #expect(pool.acquire(a, cap: 64) == 4)
        let first = Background { pool.acquire(b, cap: 64) }
        #expect(first.result(within: 0.1) == nil)
        let second = Background { pool.acquire(c, cap: 64) }
        #expect(second.result(within: 0.1) == nil)
        // Three passes for four cores: the running one keeps 4 / 3 = 1, the two waiting split the other 3.
        #expect(a.threadsForNextPrimitive() == 1)
        let grants = [first.result(within: 10), second.result(within: 10)]
        #expect(grants.compactMap { $0 }.sorted() == [1, 2])
        #expect(pool.inUse == 4)
    }

    /// More lanes than cores: each pass takes at least 1, so the extra lanes wait for a core, first come
    /// first served, instead of oversubscribing.
    @Test func lanesBeyondTheCoresWaitForACore() {
        let pool = CorePool(total: 1)
        let (a, b) = (CorePool.Lane(pool), CorePool.Lane(pool))
        #expect(pool.acquire(a, cap: 1) == 1)
        let waiting = Background { pool.acquire(b, cap: 1) }
        #expect(a.threadsForNextPrimitive() == 1, "a pass keeps at least 1")
        #expect(waiting.result(within: 0.1) == nil)
        pool.release(a)
        #expect(waiting.result(within: 10) == 1)
    }

    /// Eight lanes on their own threads run passes of a few "primitives" each with random caps, resizing their
    /// team between primitives as the pool says: every team is at least 1, and the threads running primitives
    /// at once never exceed the pool.
    @Test func neverOversubscribesUnderConcurrentPasses() {
        let total = 3
        let pool = CorePool(total: total)
        let tally = NSLock()
        nonisolated(unsafe) var running = 0  // guarded by `tally`
        nonisolated(unsafe) var most = 0  // guarded by `tally`
        nonisolated(unsafe) var smallest = Int.max  // guarded by `tally`
        let group = DispatchGroup()
        for seed in 0..<8 {
            group.enter()
            Thread {
                var random = SystemRandomNumberGenerator()
                let lane = CorePool.Lane(pool)
                for round in 0..<150 {
                    var team = pool.acquire(lane, cap: Int.random(in: 1...4, using: &random))
                    for primitive in 0..<4 {
                        tally.withLock {
                            running += team
                            most = max(most, running)
                            smallest = min(smallest, team)
                        }
                        if (round + seed + primitive) % 5 == 0 { usleep(50) }
                        tally.withLock { running -= team }
                        team = lane.threadsForNextPrimitive()
                    }
                    pool.release(lane)
                }
                group.leave()
            }.start()
        }
        #expect(group.wait(timeout: .now() + 60) == .success)
        tally.withLock {
            #expect(most <= total && most >= 1)
            #expect(smallest >= 1)
        }
        #expect(pool.inUse == 0)
    }
}

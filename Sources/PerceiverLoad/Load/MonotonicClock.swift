import Glibc

/// Time for latencies and deadlines: CLOCK_MONOTONIC, which wall-clock changes do not move.
enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point.
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// `seconds` in nanoseconds.
    static func nanoseconds(_ seconds: Double) -> UInt64 {
        UInt64((seconds * 1e9).rounded())
    }
}

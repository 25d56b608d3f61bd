import CDNNL

/// How activation memory is reused between passes: a process-wide setting that the daemon and the benchmarks
/// opt into at startup (`HeapPolicy.retainFreedMemory()`).
///
/// A pass allocates the same large activation buffers every time (a batch-8 language-perceiver input alone is
/// 50 MB). By default glibc serves blocks above its mmap threshold (at most 32 MiB) with fresh `mmap`s and
/// returns freed heap tops to the kernel, so every pass faults its buffers in again: 17,000 page faults and
/// about 7% of a batch-1 pass (`PerceiverBench reference` prints the faults per pass). Keeping the heap
/// (`M_TRIM_THRESHOLD`) and serving every block from it (`M_MMAP_MAX` 0) turns the heap into the arena:
/// a freed buffer is handed out again, already resident. Resident memory then stays at its high-water mark
/// instead of dipping between passes, which is the figure a serving host must plan for anyway.
///
/// Retention multiplies with glibc's per-thread arenas (up to eight per core): each dispatch thread that
/// serves connections can end up with its own arena holding its own high-water mark, so under load resident
/// memory climbed in steps for minutes (62 to 89 MiB over 180 s at 256 clients in `tools/qa/soak.sh`). With one
/// arena (`M_ARENA_MAX` 1) the same 60-s run at 256 clients stayed at 47.2 MiB from the warm-up to the end, at
/// 3,261 req/s against 3,287 before: the engine allocates a few large buffers per pass.
public enum HeapPolicy {
    /// Applies the policy (glibc's `mallopt`); idempotent.
    public static func retainFreedMemory() {
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
        _ = mallopt(M_MMAP_MAX, 0)
        _ = mallopt(M_ARENA_MAX, 1)
    }
}

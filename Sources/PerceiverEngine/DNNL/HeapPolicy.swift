/// How activation memory is reused between passes.
///
/// A pass allocates the same large activation buffers every time (a batch-8 language-perceiver input alone is
/// 50 MB). By default glibc serves blocks above its mmap threshold (at most 32 MiB) with fresh `mmap`s and
/// returns freed heap tops to the kernel, so every pass faults its buffers in again: 17,000 page faults and
/// about 7% of a batch-1 pass (`PerceiverBench reference` prints the faults per pass). Keeping the heap
/// (`M_TRIM_THRESHOLD`) and serving every block from it (`M_MMAP_MAX` 0) turns the heap into the arena:
/// a freed buffer is handed out again, already resident. Resident memory then stays at its high-water mark
/// instead of dipping between passes, which is the figure a serving host must plan for anyway.
enum HeapPolicy {
    /// Applies the policy once per process (the first `ComputeContext` does).
    static let retainFreedMemory: Void = {
        _ = mallopt(trimThreshold, Int32.max)
        _ = mallopt(mmapMax, 0)
    }()

    // <malloc.h> is not part of Swift's Glibc module: glibc's `mallopt` and its parameter numbers.
    private static let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
    private static let mmapMax: Int32 = -4        // M_MMAP_MAX
}

@_silgen_name("mallopt")
private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32

import Glibc

/// How many descriptors the server may spend on connections without the process reaching its limit.
///
/// Running out is not only a failed `accept`: on Linux libdispatch's worker monitor opens
/// `/proc/<tid>/stat` about once a second and crashes the process when that `open` fails ("registered worker
/// exited prematurely"). So the server keeps a reserve and caps connections (and connections being refused)
/// below the limit instead of discovering EMFILE.
public struct DescriptorBudget: Sendable, Equatable {
    /// The soft `RLIMIT_NOFILE`.
    public var limit: Int
    /// Descriptors already open when the budget was taken (listeners, log files, dispatch's own).
    public var inUse: Int
    /// Kept free for everything else: libdispatch, `/proc` reads, OpenSSL, metrics.
    public var reserve: Int

    /// Descriptors left for client connections.
    public var forConnections: Int { max(0, limit - inUse - reserve) }

    /// The budget now: the soft limit and the descriptors open in `/proc/self/fd`; the reserve is a sixteenth
    /// of the limit, at least 16.
    public static func current() -> DescriptorBudget {
        var limits = rlimit()
        // RLIM_INFINITY is all ones; Swift cannot import its (-1) definition into an unsigned type.
        let soft = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0 && limits.rlim_cur != rlim_t.max
            ? Int(clamping: limits.rlim_cur) : 1 << 20
        return DescriptorBudget(limit: soft, inUse: openDescriptors() ?? 0, reserve: max(16, soft / 16))
    }

    /// Raises the soft `RLIMIT_NOFILE` to the hard limit (what Go's runtime and nginx do); returns the soft
    /// limit in force afterwards. Descriptors are cheap; a soft limit of 1024 under a hard one of 524288 is
    /// a historical default for `select`, which this server does not use.
    @discardableResult
    public static func raiseSoftLimit() -> Int {
        var limits = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0 else { return 0 }
        if limits.rlim_cur < limits.rlim_max {
            var raised = limits
            raised.rlim_cur = limits.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limits = raised }
        }
        return Int(clamping: limits.rlim_cur)
    }

    /// The number of entries in `/proc/self/fd` (the directory's own descriptor excluded), nil if unreadable.
    public static func openDescriptors() -> Int? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let isDot = withUnsafeBytes(of: entry.pointee.d_name) { $0.first == UInt8(ascii: ".") }
            if !isDot { count += 1 }
        }
        return count - 1
    }
}

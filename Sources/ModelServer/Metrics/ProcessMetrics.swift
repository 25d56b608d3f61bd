#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import HTTPServer

/// The standard `process_*` metrics, read from Linux's `/proc` (proc(5)) at render time, with the names the
/// Prometheus client libraries use. Best effort: a metric whose read fails is left out; elsewhere than Linux all are.
enum ProcessMetrics {
    /// The process families available now; `startTime` is `process_start_time_seconds` if known.
    static func families(startTime: Double?) -> [ScalarFamily] {
        var families: [ScalarFamily] = []
        func add(_ name: String, _ type: MetricType, _ value: Double?, help: String) {
            guard let value else { return }
            var family = ScalarFamily(name, type, help: help)
            family.set(value, [])
            families.append(family)
        }
        add("process_resident_memory_bytes", .gauge, residentMemoryBytes(), help: "Resident memory size in bytes.")
        add("process_open_fds", .gauge, openFileDescriptors(), help: "Number of open file descriptors.")
        add("process_cpu_seconds_total", .counter, cpuSeconds(), help: "Total user and system CPU time in seconds.")
        add("process_start_time_seconds", .gauge, startTime,
            help: "Start time of the process since the Unix epoch in seconds.")
        return families
    }

    /// Resident set size: the second field of `/proc/self/statm`, in pages, times the page size.
    static func residentMemoryBytes() -> Double? {
        guard let statm = KernelFile.text("/proc/self/statm") else { return nil }
        let fields = statm.split(separator: " ")
        let pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard fields.count > 1, let pages = Double(fields[1]), pageSize > 0 else { return nil }
        return pages * Double(pageSize)
    }

    /// Entries of `/proc/self/fd`; this includes the descriptor used to list it, as client_golang's does.
    static func openFileDescriptors() -> Double? {
        DescriptorBudget.openDescriptors().map { Double($0 + 1) }
    }

    /// `utime + stime` (fields 14 and 15 of `/proc/self/stat`) in seconds.
    static func cpuSeconds() -> Double? {
        guard let fields = statFields(), fields.count > 15, let utime = Double(fields[14]),
              let stime = Double(fields[15]), let ticks = clockTicksPerSecond() else { return nil }
        return (utime + stime) / ticks
    }

    /// Boot time (`btime` in `/proc/stat`) plus `starttime` (field 22 of `/proc/self/stat`, ticks after boot).
    static func startTimeSeconds() -> Double? {
        guard let fields = statFields(), fields.count > 22, let startTicks = Double(fields[22]),
              let ticks = clockTicksPerSecond(), let stat = KernelFile.text("/proc/stat") else { return nil }
        let bootLine = stat.split(separator: "\n").first { $0.hasPrefix("btime ") }
        guard let bootTime = bootLine.flatMap({ $0.split(separator: " ").last }).flatMap({ Double($0) }) else {
            return nil
        }
        return bootTime + startTicks / ticks
    }

    /// The fields of `/proc/self/stat`, indexed as proc(5) numbers them (index 0 unused, 2 is the command). The
    /// command may hold spaces and parentheses, so the fields after it are split after its last `)`.
    private static func statFields() -> [Substring]? {
        guard let stat = KernelFile.text("/proc/self/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        let rest = stat[stat.index(after: close)...].split(separator: " ")
        return ["", "pid", "comm"] + rest
    }

    private static func clockTicksPerSecond() -> Double? {
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        return ticks > 0 ? Double(ticks) : nil
    }
}

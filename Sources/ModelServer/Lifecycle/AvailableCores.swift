import Foundation

/// The cores this process may compute on: the online CPUs, fewer when the affinity mask (`taskset`,
/// systemd's `CPUAffinity=`, a container's cpuset) or a cgroup CPU quota (systemd's `CPUQuota=`, a Kubernetes
/// CPU limit) allows fewer. `threads: 0` means this many.
public enum AvailableCores {
    /// Read from `/proc/self/status` and the process's cgroup at call time.
    public static func current() -> Int {
        let online = ProcessInfo.processInfo.activeProcessorCount
        let allowed = KernelFile.text("/proc/self/status").flatMap(affinityCount(status:))
        let quota = KernelFile.text("/proc/self/cgroup").flatMap { quotaCores(cgroup: $0, read: KernelFile.text) }
        return limit(online: online, affinity: allowed, quota: quota)
    }

    /// The smallest of the three, at least 1.
    static func limit(online: Int, affinity: Int?, quota: Int?) -> Int {
        max(1, [online, affinity, quota].compactMap { $0 }.min() ?? online)
    }

    /// CPUs in `Cpus_allowed_list:` of a `/proc/<pid>/status` text ("0-3,8,10-11" is 7).
    static func affinityCount(status: String) -> Int? {
        guard let line = status.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("Cpus_allowed_list:") })
        else { return nil }
        var count = 0
        for range in line.dropFirst("Cpus_allowed_list:".count).split(separator: ",") {
            let bounds = range.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            switch bounds.count {
            case 1: guard bounds[0] != nil else { return nil }; count += 1
            case 2:
                guard let low = bounds[0], let high = bounds[1], high >= low else { return nil }
                count += high - low + 1
            default: return nil
            }
        }
        return count > 0 ? count : nil
    }

    /// The tightest CPU quota on the way from the process's cgroup to the root, rounded up to whole cores:
    /// cgroup v2 `cpu.max` ("QUOTA PERIOD" or "max PERIOD") of the `0::PATH` line of `/proc/self/cgroup`
    /// and each ancestor, or cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` of the `cpu` controller's
    /// path (-1: none). The walk ends at the mount root, so a container without a private cgroup namespace
    /// (its `/proc/self/cgroup` names the host's path, while `/sys/fs/cgroup` is its own cgroup) still finds its
    /// quota there. `read` maps a path to its text.
    static func quotaCores(cgroup: String, read: (String) -> String?) -> Int? {
        var best: Int?
        func consider(_ quota: Double?, _ period: Double?) {
            guard let quota, let period, quota > 0, period > 0 else { return }
            let cores = Int((quota / period).rounded(.up))
            best = min(best ?? cores, cores)
        }
        for line in cgroup.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let controllers = fields[1].split(separator: ",")
            if fields[0] == "0" && fields[1].isEmpty {
                var path = String(fields[2])
                while true {
                    let directory = "/sys/fs/cgroup" + (path == "/" ? "" : path)
                    if let parts = read(directory + "/cpu.max")?.split(separator: " "), parts.count == 2 {
                        consider(Double(parts[0]), Double(parts[1]))
                    }
                    if path == "/" || path.isEmpty { break }
                    path = (path as NSString).deletingLastPathComponent
                }
            } else if controllers.contains("cpu") {
                let mount = "/sys/fs/cgroup/" + controllers.joined(separator: ",")
                for directory in [mount + String(fields[2]), mount] {
                    consider(read(directory + "/cpu.cfs_quota_us").flatMap(Double.init),
                             read(directory + "/cpu.cfs_period_us").flatMap(Double.init))
                }
            }
        }
        return best
    }
}

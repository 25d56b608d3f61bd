@testable import ModelServer
import Testing

/// `threads: 0` counts the cores the process may use: affinity mask and cgroup quota, not just the online CPUs.
@Suite struct AvailableCoresTests {
    @Test(arguments: [
        ("Name:\tperceiverd\nCpus_allowed:\tff\nCpus_allowed_list:\t0-3,8,10-11\n", 7),
        ("Cpus_allowed_list:\t0\n", 1),
        ("Cpus_allowed_list:\t0-1\n", 2),
    ])
    func countsTheAffinityList(status: String, expected: Int) {
        #expect(AvailableCores.affinityCount(status: status) == expected)
    }

    @Test(arguments: ["Name:\tx\n", "Cpus_allowed_list:\t3-1\n", "Cpus_allowed_list:\tx\n", "Cpus_allowed_list:\t\n"])
    func ignoresAMissingOrUnreadableAffinityList(status: String) {
        #expect(AvailableCores.affinityCount(status: status) == nil)
    }

    @Test func takesTheTightestCgroupV2QuotaOnThePathRoundedUp() {
        let files = [
            "/sys/fs/cgroup/system.slice/perceiverd.service/cpu.max": "150000 100000",
            "/sys/fs/cgroup/system.slice/cpu.max": "max 100000",
            "/sys/fs/cgroup/cpu.max": "400000 100000",
        ]
        #expect(AvailableCores.quotaCores(cgroup: "0::/system.slice/perceiverd.service\n", read: { files[$0] }) == 2)
        #expect(AvailableCores.quotaCores(cgroup: "0::/\n", read: { files[$0] }) == 4)
        #expect(AvailableCores.quotaCores(cgroup: "0::/other\n", read: { _ in "max 100000" }) == nil)
        // A container sharing the host's cgroup namespace: the host path is not under its /sys/fs/cgroup.
        let container = ["/sys/fs/cgroup/cpu.max": "200000 100000"]
        #expect(AvailableCores.quotaCores(cgroup: "0::/system.slice/docker-abc.scope\n", read: { container[$0] }) == 2)
    }

    @Test func readsTheCgroupV1CPUController() {
        let files = [
            "/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "50000",
            "/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000",
        ]
        let cgroup = "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n"
        #expect(AvailableCores.quotaCores(cgroup: cgroup, read: { files[$0] }) == 1)
        #expect(AvailableCores.quotaCores(cgroup: cgroup, read: { $0.hasSuffix("quota_us") ? "-1" : "100000" }) == nil)
    }

    @Test func theSmallestLimitWinsAndIsAtLeastOne() {
        #expect(AvailableCores.limit(online: 8, affinity: 2, quota: 4) == 2)
        #expect(AvailableCores.limit(online: 8, affinity: nil, quota: 3) == 3)
        #expect(AvailableCores.limit(online: 2, affinity: nil, quota: nil) == 2)
        #expect(AvailableCores.limit(online: 2, affinity: 0, quota: nil) == 1)
    }
}

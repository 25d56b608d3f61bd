import Foundation
import PerceiverEngine

/// The per-op table of `PerceiverBench reference --profile`: per pass, each primitive kind and shape with its
/// calls, milliseconds, share of the pass and (matmuls) GFLOP/s, then the pass time outside oneDNN.
enum OpProfileTable {
    static func render(_ profile: OpProfile, passes: Int, passMilliseconds: Double) -> String {
        let perPass = { (value: Double) in value / Double(passes) }
        var lines = ["per pass (\(passes) passes profiled, \(String(format: "%.1f", passMilliseconds)) ms each):",
                     "| op | shape | calls | ms | % of pass | GFLOP/s |", "|---|---|---:|---:|---:|---:|"]
        for row in profile.sorted {
            let ms = perPass(row.milliseconds)
            let rate = row.flops > 0 ? String(format: "%.1f", Double(row.flops) / Double(row.nanoseconds)) : ""
            lines.append(String(format: "| %@ | %@ | %d | %.2f | %.1f | %@ |", row.kind, row.shape, row.calls / passes, ms,
                                100 * ms / passMilliseconds, rate))
        }
        var kinds: [String: Double] = [:]
        for row in profile.rows.values { kinds[row.kind, default: 0] += perPass(row.milliseconds) }
        let inside = perPass(Double(profile.totalNanoseconds) / 1e6)
        for (kind, ms) in kinds.sorted(by: { $0.value > $1.value }) {
            lines.append(String(format: "| all %@ | | | %.2f | %.1f | |", kind, ms, 100 * ms / passMilliseconds))
        }
        lines.append(String(format: "| outside oneDNN (Swift: copies, allocation, masks, gathers) | | | %.2f | %.1f | |",
                            passMilliseconds - inside, 100 * (passMilliseconds - inside) / passMilliseconds))
        return lines.joined(separator: "\n")
    }
}

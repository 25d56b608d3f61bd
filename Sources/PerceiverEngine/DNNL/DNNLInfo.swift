import CDNNL
import Dispatch
import Foundation

/// What the oneDNN library linked here is and which instruction set it JITs for on this CPU.
public enum DNNLInfo {
    /// The library version, e.g. "2.6.3".
    public static var version: String {
        guard let v = dnnl_version() else { return "unknown" }
        return "\(v.pointee.major).\(v.pointee.minor).\(v.pointee.patch)"
    }

    /// The most capable ISA oneDNN dispatches to on this machine, e.g. "avx512_core_bf16".
    public static var isa: String {
        switch dnnl_get_effective_cpu_isa() {
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core: return "avx512_core"
        case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni"
        case dnnl_cpu_isa_avx2: return "avx2"
        case dnnl_cpu_isa_avx: return "avx"
        case dnnl_cpu_isa_sse41: return "sse41"
        default: return "other(\(dnnl_get_effective_cpu_isa().rawValue))"
        }
    }

    /// The OpenMP team size oneDNN would use on the calling thread right now.
    public static var maxThreads: Int { Int(omp_get_max_threads()) }

    /// The CPU's `model name` from `/proc/cpuinfo` (what `lscpu` prints), e.g. "AMD EPYC"; "unknown" elsewhere.
    public static let cpuModel: String = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let colon = line.firstIndex(of: ":") else { return "unknown" }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }()

    /// One line naming what a figure was measured on: "AMD EPYC, oneDNN 2.6.3 isa avx2, bf16 unavailable (...)".
    public static var hostSummary: String {
        "\(cpuModel), oneDNN \(version) isa \(isa), bf16 \(BF16Support.current.summary)"
    }

    /// Why this CPU is below what perceiverd serves on, or nil when it is not.
    ///
    /// The floor is oneDNN's lowest JIT level, SSE4.1. Below it (`dnnl_cpu_isa_all`, which oneDNN reports
    /// when the CPU has none of its JIT levels) every primitive falls back to oneDNN's reference C++ loops,
    /// one to two orders of magnitude slower: a daemon that starts but cannot serve. The Swift code itself is
    /// built for baseline x86-64 (no `-target-cpu`; `Tests/cli/run.sh` checks that the release binary holds
    /// no AVX instructions), and oneDNN picks its kernels at run time, so nothing else in the binary needs more
    /// and no instruction can trap (SIGILL) on an older CPU.
    public static func dispatchFloorProblem(isa: UInt32 = dnnl_get_effective_cpu_isa().rawValue) -> String? {
        let floor = dnnl_cpu_isa_sse41.rawValue
        guard isa & floor != floor else { return nil }
        return "this CPU is below perceiverd's floor: oneDNN finds no JIT instruction set here (it needs x86-64 "
            + "with SSE4.1 or later; AVX2 or later is what the test suite covers)"
    }
}

extension DNNLInfo {
    /// The matmul rate oneDNN reaches here: the median GFLOP/s of `runs` products `(m, k) x (k, n)` after a
    /// warm-up, through the engine's own linear-layer path (bf16: packed weights, as a bf16 model runs; f32:
    /// the matmul or the 1x1 convolution as `f32Linear` says). The benchmark's "percentage of peak" divides by
    /// the best of these.
    public static func matmulPeak(precision: Precision, threads: Int, f32Linear: F32Linear = .auto, m: Int = 2048,
                                  k: Int = 1280, n: Int = 1280, runs: Int = 10) throws(InferenceError) -> Double {
        let context = try ComputeContext(threads: threads, precision: precision, f32Linear: f32Linear)
        let weight = WeightTensor(shape: [n, k], values: (0..<(n * k)).map { Float($0 % 7) / 7 - 0.5 })
        let layer: LinearWeights
        do {
            layer = try LinearWeights(weight: weight, bias: nil, packer: context.packsWeights ? context : nil)
        } catch {
            throw InferenceError.backend(operation: "matmulPeak: \(error)", status: -1)
        }
        let x = (0..<(m * k)).map { Float($0 % 5) / 5 - 0.5 }
        var times: [Double] = []
        try context.run { () throws(InferenceError) in
            for run in 0...runs {
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = try layer(x, rows: m, context: context)
                if run > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) }
            }
        }
        times.sort()
        return 2 * Double(m * k * n) / times[times.count / 2] / 1e9
    }
}

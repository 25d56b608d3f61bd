import CDNNL
import Dispatch

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
}

extension DNNLInfo {
    /// The matmul rate oneDNN reaches here: the median GFLOP/s of `runs` products `(m, k) x (k, n)` after a
    /// warm-up, through the engine's own matmul path (bf16: packed weights, as a bf16 model runs). The
    /// benchmark's "percentage of peak" divides by this.
    public static func matmulPeak(precision: Precision, threads: Int, m: Int = 2048, k: Int = 1280, n: Int = 1280,
                                  runs: Int = 10) throws(InferenceError) -> Double {
        let context = try ComputeContext(threads: threads, precision: precision)
        let weight = WeightTensor(shape: [n, k], values: (0..<(n * k)).map { Float($0 % 7) / 7 - 0.5 })
        let layer: LinearWeights
        do {
            layer = try LinearWeights(weight: weight, bias: nil, packer: precision == .bf16 ? context : nil)
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

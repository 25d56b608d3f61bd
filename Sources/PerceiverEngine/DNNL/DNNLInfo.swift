import CDNNL

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

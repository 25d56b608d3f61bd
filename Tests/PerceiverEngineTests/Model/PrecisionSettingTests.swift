import CDNNL
import Testing
@testable import PerceiverEngine

/// `f32`, `bf16` and `auto` resolved against every kind of CPU, and the probe that says which kind this is.
/// None of these needs bf16 hardware: they run on every machine.
@Suite struct PrecisionSettingTests {
    static let machines: [BF16Support] = [
        .native(implementation: "brg:avx512_core_amx"),
        .emulated(implementation: "gemm:jit", isa: "avx512_core"),
        .unavailable(reason: "oneDNN call dnnl_primitive_desc_create(bf16) failed with status 3"),
    ]

    @Test(arguments: machines)
    func f32IsAlwaysF32(machine: BF16Support) {
        let choice = PrecisionSetting.f32.resolve(machine)
        #expect(choice.effective == .f32 && choice.fallback == nil && choice.summary == "f32")
    }

    @Test(arguments: machines)
    func bf16RunsWhereNativeAndFallsBackWithAReasonElsewhere(machine: BF16Support) {
        let choice = PrecisionSetting.bf16.resolve(machine)
        if machine.isNative {
            #expect(choice.effective == .bf16 && choice.fallback == nil && choice.summary == "bf16")
        } else {
            #expect(choice.effective == .f32)
            #expect(choice.summary == "f32 (bf16 requested)")
            let reason = choice.fallback ?? "no reason given"
            #expect(reason.contains(machine.canRun ? "emulates bf16 on isa avx512_core" : "status 3"), "\(reason)")
        }
    }

    @Test(arguments: machines)
    func autoPicksBF16OnlyWhereNativeAndNeverWarns(machine: BF16Support) {
        let choice = PrecisionSetting.auto.resolve(machine)
        #expect(choice.effective == (machine.isNative ? .bf16 : .f32))
        #expect(choice.fallback == nil)
        #expect(choice.requested == .auto)
    }

    @Test func theProbeAgreesWithTheISAOneDNNDispatchesTo() {
        let isa = dnnl_get_effective_cpu_isa().rawValue
        let bf16Bits = dnnl_cpu_isa_avx512_core_bf16.rawValue
        let avx512Bits = dnnl_cpu_isa_avx512_core.rawValue
        let support = BF16Support.current
        print("bf16 on this machine: \(support.summary)")
        #expect(support.isNative == (isa & bf16Bits == bf16Bits), "isa \(DNNLInfo.isa): \(support.summary)")
        // oneDNN 2.6 creates bf16 matmuls from AVX-512 up and refuses them below.
        #expect(support.canRun == (isa & avx512Bits == avx512Bits), "isa \(DNNLInfo.isa): \(support.summary)")
    }

    @Test func aModelLoadedAsTheResolvedChoiceRunsInIt() throws {
        let choice = PrecisionSetting.auto.resolve()
        let model = try PerceiverModel.load(directory: Fixtures.modelDirectory("mlm"),
                                            options: ExecutionOptions(precision: choice.effective, threads: 1))
        #expect(model.options.precision == choice.effective)
        _ = try model.predict(try Fixtures.load("mlm_single").inputs)
    }

    @Test func theDispatchFloorIsSSE41() {
        #expect(DNNLInfo.dispatchFloorProblem() == nil, "this machine runs the tests, so it is above the floor")
        #expect(DNNLInfo.dispatchFloorProblem(isa: dnnl_cpu_isa_sse41.rawValue) == nil)
        #expect(DNNLInfo.dispatchFloorProblem(isa: dnnl_cpu_isa_avx2.rawValue) == nil)
        let below = DNNLInfo.dispatchFloorProblem(isa: dnnl_cpu_isa_all.rawValue)
        #expect(below?.contains("SSE4.1") == true, "\(below ?? "nil")")
    }

    @Test func theCPUModelIsReadFromProcCPUInfo() {
        #expect(!DNNLInfo.cpuModel.isEmpty && DNNLInfo.cpuModel != "unknown")
    }
}

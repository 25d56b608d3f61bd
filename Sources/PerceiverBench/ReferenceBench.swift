import ArgumentParser
import Foundation
import PerceiverEngine

/// One (checkpoint, batch, precision) measurement for `tools/bench/bench_reference.sh`, which runs PyTorch on the
/// same checkpoint and inputs (`tools/bench/bench_reference.py run`) and compares the two.
///
/// Peak memory is the process's high-water mark, so the driver runs each measurement in its own process.
struct ReferenceBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Time one saved model at one batch size and precision (for tools/bench/bench_reference.sh).")

    @Option(help: ArgumentHelp("A save_pretrained directory (masked LM or image classifier).", valueName: "dir"))
    var model: String

    @Option(help: "Batch size.")
    var batch: Int = 1

    @Option(help: "Sequence length of a masked LM's input.")
    var sequence: Int = 2048

    @Option(help: "f32, bf16 or auto. bf16 where the CPU has no native bf16 runs f32 and says so (mode f32).")
    var precision: String = "f32"

    @Option(help: "Timed runs after one warm-up (the median is reported).")
    var runs: Int = 5

    @Option(name: .customLong("f32-linear"),
            help: "What multiplies an f32 model's linear layers: auto (this CPU's faster kernel), matmul or convolution.")
    var f32Linear: String = "auto"

    @Flag(help: "Run without the folds made at load or per request: no cross-attention folded into the latents' queries or a decoder's keys and values, no tables of a text model's keys and values, no decoder tail folded.")
    var unfolded = false

    @Option(help: "oneDNN threads (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Print one JSON object instead of a table row.")
    var json = false

    @Flag(help: "After the timed runs, time every oneDNN primitive over --runs more passes and print the per-op table.")
    var profile = false

    func validate() throws {
        guard runs >= 1, batch >= 1, sequence >= 1 else { throw ValidationError("runs, batch, sequence >= 1") }
        _ = try BenchHost.precision(precision)
        guard F32Linear(rawValue: f32Linear) != nil else {
            throw ValidationError("--f32-linear must be \(F32Linear.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        HeapPolicy.retainFreedMemory()
        let start = Date()
        let choice = try BenchHost.precision(precision)
        let precision = choice.effective.rawValue
        var options = ExecutionOptions(precision: choice.effective, threads: threads)
        options.f32Linear = F32Linear(rawValue: f32Linear) ?? .auto
        options.foldsCrossAttention = !unfolded
        let model = try PerceiverModel.load(directory: self.model, options: options)
        let loadSeconds = Date().timeIntervalSince(start)
        let inputs = try Self.inputs(for: model, batch: batch, sequence: sequence)
        let (flopsBefore, foldedBefore) = (model.matmulFLOPs, model.foldedFLOPs)
        let outputs = try model.predict(inputs)
        // What ran, and the model's arithmetic as transformers computes it (what a fold at load removed added back).
        let executed = Double(model.matmulFLOPs - flopsBefore) / 1e9
        let gflop = executed + Double(model.foldedFLOPs - foldedBefore) / 1e9
        var times: [Double] = []
        let faultsBefore = Self.minorFaults()
        for _ in 0..<runs {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try model.predict(inputs)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        let faultsPerPass = (Self.minorFaults() - faultsBefore) / runs
        times.sort()
        let record: [String: Any] = [
            "engine": f32Linear == "matmul" ? "perceiverd-matmul" : unfolded ? "perceiverd-unfolded" : "perceiverd", "config": (self.model as NSString).lastPathComponent, "batch": batch,
            "mode": precision, "threads": threads, "runs": runs, "median_ms": times[times.count / 2],
            "min_ms": times[0], "max_ms": times[times.count - 1], "gflop": gflop, "executed_gflop": executed,
            "folded_gflop": gflop - executed,
            "peak_rss_mib": FlowBench.megabytes("VmHWM"), "load_s": loadSeconds,
            "top1": Self.top1(outputs.logits, architecture: model.architecture), "isa": DNNLInfo.isa,
            "cpu": DNNLInfo.cpuModel, "requested_precision": choice.requested.rawValue,
            "page_faults_per_pass": faultsPerPass, "f32_linear": f32Linear,
            "f32_linear_auto": ConvolutionLinear.summary,
        ]
        if json {
            let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(BenchHost.line(threads: threads, precision: choice))
            let folds = gflop - executed > 0.05 ? String(format: " (the model's %.1f, less a fold's %.1f)", gflop,
                                                              gflop - executed) : ""
            print(String(format: "%@ batch %d %@: median %.1f ms (min %.1f, max %.1f), %.1f GFLOP%@, %.0f GFLOP/s, "
                         + "peak RSS %d MiB, loaded in %.2f s, %d page faults per pass", record["config"] as! String, batch,
                         precision, times[times.count / 2], times[0], times[times.count - 1], executed, folds,
                         executed / times[times.count / 2] * 1000, FlowBench.megabytes("VmHWM"), loadSeconds,
                         faultsPerPass))
        }
        if profile {
            let (passMilliseconds, table) = try model.profiled { () throws -> Double in
                let t0 = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<runs { _ = try model.predict(inputs) }
                return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 / Double(runs)
            }
            print(OpProfileTable.render(table, passes: runs, passMilliseconds: passMilliseconds))
        }
    }

    /// Minor page faults of this process so far: memory touched for the first time (fresh allocations).
    static func minorFaults() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_minflt
    }

    /// The inputs `tools/bench/bench_reference.py` builds for the same model: byte ids `6 + (i * 7919) % 256` with
    /// a full mask, or pixels `sin(0.01 * i)` over `(B, 3, 224, 224)`; i is the flat element index.
    static func inputs(for model: PerceiverModel, batch: Int, sequence: Int) throws -> ModelInputs {
        switch model.architecture.task {
        case .fillMask:
            return TextBench.inputs(batch: batch, sequence: sequence)
        case .imageClassification:
            let size = model.config.imageSize
            let count = batch * 3 * size * size
            return ModelInputs(pixelValues: Tensor(shape: [batch, 3, size, size],
                                                   scalars: (0..<count).map { Float(sin(0.01 * Double($0))) }))
        default:
            throw ValidationError("reference benchmarks a masked LM or an image classifier, not \(model.architecture)")
        }
    }

    /// What the two engines' answers are compared on: a masked LM's argmax at the first row's first 64
    /// positions, a classifier's argmax per batch row.
    static func top1(_ logits: Tensor, architecture: Architecture) -> [Int] {
        let width = logits.shape.last!
        let rows = architecture.task == .fillMask ? min(64, logits.shape[1]) : logits.shape[0]
        return (0..<rows).map { row in
            let slice = logits.scalars[(row * width)..<((row + 1) * width)]
            return slice.indices.max { slice[$0] < slice[$1] }! - row * width
        }
    }
}

/// The oneDNN matmul rate here, f32 and (where the CPU multiplies bf16 natively) bf16, for the reference
/// benchmark's percentage of peak. f32 is measured both as oneDNN's matmul and as the 1x1 convolution the
/// engine may run linear layers as (`ConvolutionLinear`); the peak is the faster of the two, so no engine's
/// choice of kernel makes its percentage look better than the machine allows.
struct PeakBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peak",
        abstract: "Measure oneDNN's f32 (matmul and 1x1 convolution) and, where native, bf16 GFLOP/s (2048 x 1280 x 1280).")

    @Option(help: "oneDNN threads (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let viaMatmul = try DNNLInfo.matmulPeak(precision: .f32, threads: threads, f32Linear: .matmul)
        let viaConvolution = try DNNLInfo.matmulPeak(precision: .f32, threads: threads, f32Linear: .convolution)
        let f32 = max(viaMatmul, viaConvolution)
        let support = BF16Support.current
        let bf16 = support.isNative ? try DNNLInfo.matmulPeak(precision: .bf16, threads: threads) : nil
        if json {
            var record: [String: Any] = [
                "engine": "onednn", "kind": "matmul-peak", "threads": threads, "f32_gflops": (f32 * 10).rounded() / 10,
                "isa": DNNLInfo.isa, "cpu": DNNLInfo.cpuModel, "bf16": support.summary, "bf16_native": support.isNative,
                "f32_matmul_gflops": (viaMatmul * 10).rounded() / 10,
                "f32_convolution_gflops": (viaConvolution * 10).rounded() / 10, "f32_linear": ConvolutionLinear.summary,
            ]
            if let bf16 { record["bf16_gflops"] = (bf16 * 10).rounded() / 10 }
            let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("cpu \(DNNLInfo.hostSummary); \(threads) threads")
            print(String(format: "f32 %.0f GFLOP/s (matmul %.1f, 1x1 convolution %.1f; linear layers: ", f32, viaMatmul,
                         viaConvolution) + ConvolutionLinear.summary + ")"
                  + (bf16.map { String(format: ", bf16 %.0f GFLOP/s", $0) } ?? ", bf16 not measured (not native here)"))
        }
    }
}

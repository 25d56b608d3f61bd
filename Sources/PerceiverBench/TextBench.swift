import ArgumentParser
import Foundation
import PerceiverEngine

/// Times the engine's forward pass on real-sized Perceiver IO configs with random weights.
@main
struct PerceiverBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "PerceiverBench",
        abstract: "Time the engine on real-sized configs with random weights (docs/reference/perceiver.md D.1).",
        subcommands: [TextBench.self, FlowBench.self, ReferenceBench.self, PeakBench.self, JSONBench.self,
                      LatentsBench.self],
        defaultSubcommand: TextBench.self)
}

/// Prints one row per (config, batch): median, min and max over `--runs` timed runs after one warm-up.
struct TextBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "text",
        abstract: "Time the forward pass of the language-perceiver-sized model (the default subcommand).")

    @Option(name: .customLong("batch"), help: "Batch sizes to time (repeatable).")
    var batches: [Int] = [1, 8]

    @Option(help: "Sequence length.")
    var sequence: Int = 2048

    @Option(help: "Timed runs per row (the median is reported).")
    var runs: Int = 5

    @Option(help: ArgumentHelp("Time this saved text model (a save_pretrained directory) instead.", valueName: "dir"))
    var model: String?

    @Option(help: "oneDNN threads (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "f32, bf16 (f32 where the CPU has no native bf16) or auto.")
    var precision: String = "f32"

    func validate() throws {
        guard runs >= 1, sequence >= 1, sequence <= 2048, batches.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("runs, batch >= 1 and 1 <= sequence <= 2048")
        }
        _ = try BenchHost.precision(precision)
    }

    func run() throws {
        HeapPolicy.retainFreedMemory()
        let start = Date()
        let precision = try BenchHost.precision(self.precision)
        let options = ExecutionOptions(precision: precision.effective, threads: threads)
        let model = try self.model.map { try PerceiverModel.load(directory: $0, options: options) }
            ?? PerceiverModel.random(config: Self.languagePerceiver, seed: 1, options: options)
        let name = self.model.map { ($0 as NSString).lastPathComponent } ?? "language-perceiver"
        print("\(name)\(self.model == nil ? " (random weights)" : ""): \(model.parameterCount) parameters, "
              + "built in " + String(format: "%.2f s", Date().timeIntervalSince(start)))
        print(BenchHost.line(threads: threads, precision: precision))
        print("| config | batch | seq | median ms | min ms | max ms | sequences/s |")
        print("|---|---|---|---|---|---|---|")
        for batch in batches {
            let inputs = Self.inputs(batch: batch, sequence: sequence)
            _ = try model.predict(inputs)
            var times: [Double] = []
            for _ in 0..<runs {
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = try model.predict(inputs)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            times.sort()
            let median = times[times.count / 2]
            print(String(format: "| %@ | %d | %d | %.2f | %.2f | %.2f | %.2f |", name, batch, sequence,
                         median, times[0], times[times.count - 1], Double(batch) / median * 1000))
        }
    }

    /// `deepmind/language-perceiver`'s config (docs/reference/perceiver.md D.1): 201,108,230 parameters.
    static var languagePerceiver: PerceiverConfig {
        var config = PerceiverConfig(architecture: "PerceiverForMaskedLM")
        config.dModel = 768
        config.dLatents = 1280
        config.numLatents = 256
        config.numBlocks = 1
        config.numSelfAttendsPerBlock = 26
        config.numSelfAttentionHeads = 8
        config.numCrossAttentionHeads = 8
        config.qkChannels = 256
        config.vChannels = 1280
        config.vocabSize = 262
        config.maxPositionEmbeddings = 2048
        return config
    }

    /// Deterministic byte tokens, every row the full length.
    static func inputs(batch: Int, sequence: Int) -> ModelInputs {
        let ids = (0..<(batch * sequence)).map { 6 + ($0 * 7919) % 256 }
        return ModelInputs(inputIDs: IndexTensor(shape: [batch, sequence], values: ids))
    }
}

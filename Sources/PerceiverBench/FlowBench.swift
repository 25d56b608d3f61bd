import ArgumentParser
import Foundation
import PerceiverEngine
import Support

/// One optical-flow frame pair at the published geometry (368 x 496, `optical-flow-perceiver`'s config,
/// random weights): time and peak resident memory, for the full field or for chosen pixels. With `--frame HxW`
/// larger than 368 x 496 the pair is tiled (`FlowTiling`), in passes of as many tiles as `--budget-mib` allows
/// (0: one tile a pass), and the report adds the tiles and passes and the time per tile.
///
/// Peak memory is the process's high-water mark (`VmHWM`), so each mode runs in its own process:
/// `tools/bench/bench_flow.sh` runs both and prints the ratio.
struct FlowBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow",
        abstract: "Time one 368x496 optical-flow frame pair (random weights) and report peak resident memory.")

    @Option(help: "Pixels to decode, spread evenly over the frame; 0 decodes the full field.")
    var pixels: Int = 0

    @Option(help: "Timed runs (the median is reported), after one warm-up run.")
    var runs: Int = 3

    @Option(help: "oneDNN threads (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Decoder query rows per chunk.")
    var chunkRows: Int = 4096

    @Option(help: "f32, bf16 (f32 where the CPU has no native bf16) or auto.")
    var precision: String = "f32"

    @Option(help: "Frame size HxW, at least 368x496; larger frames are tiled.")
    var frame: String = "368x496"

    @Option(name: .customLong("budget-mib"),
            help: "Tiled frames: the estimated memory one pass of tiles may take (0: one tile a pass).")
    var budgetMiB: Int = PerceiverModel.defaultTileBudgetBytes >> 20

    @Flag(help: "Run without the folds (the encoder's cross-attention into the latents' queries, the decoder's into its keys and values, the decoder's last product into the final layer).")
    var unfolded = false

    /// `--frame` as (height, width).
    var frameSize: (height: Int, width: Int)? {
        let parts = frame.split(separator: "x").compactMap { Int($0) }
        return parts.count == 2 && parts[0] >= 368 && parts[1] >= 496 ? (parts[0], parts[1]) : nil
    }

    func validate() throws {
        guard let size = frameSize else { throw ValidationError("--frame HxW, at least 368x496") }
        guard runs >= 1, pixels >= 0, pixels <= size.height * size.width, chunkRows >= 1, budgetMiB >= 0 else {
            throw ValidationError("runs >= 1, 0 <= pixels <= the frame's pixels, chunk-rows >= 1, budget-mib >= 0")
        }
        _ = try BenchHost.precision(precision)
    }

    func run() throws {
        HeapPolicy.retainFreedMemory()
        let start = Date()
        let precision = try BenchHost.precision(self.precision)
        var options = ExecutionOptions(precision: precision.effective, threads: threads, decoderChunkRows: chunkRows)
        options.foldsCrossAttention = !unfolded
        let model = try PerceiverModel.random(config: Self.opticalFlowPerceiver, seed: 1, options: options)
        print("optical-flow-perceiver (random weights): \(model.parameterCount) parameters, built in "
              + String(format: "%.2f s", Date().timeIntervalSince(start)) + ", RSS \(Self.megabytes("VmRSS")) MiB")
        print(BenchHost.line(threads: threads, precision: precision) + ", decoder chunk \(chunkRows) rows")
        let (height, width) = frameSize!
        var inputs = ModelInputs()
        var generator = SplitMix64(seed: 7)
        inputs.frames = Tensor(shape: [1, 2, 3, height, width], scalars: (0..<(2 * 3 * height * width)).map { _ in
            generator.nextFloat(in: -1...1)
        })
        if pixels > 0 {
            let step = height * width / pixels
            inputs.outputPositions = IndexTensor(shape: [1, pixels], values: (0..<pixels).map { $0 * step })
        }
        let tiling = try model.flowTiling(inputs)
        let budget = budgetMiB << 20
        var tiles = 1, passes = 1
        if let tiling, let frames = inputs.frames {
            let jobs = try tiling.jobs(positions: inputs.outputPositions)
            let perPass = model.tilesPerPass(tiling, frames: frames, jobs: jobs, budgetBytes: budget, limit: jobs.count)
            (tiles, passes) = (jobs.count, (jobs.count + perPass - 1) / perPass)
            let one = model.estimatedPassBytes(tiling.inputs(frames: frames, jobs: jobs[0..<1]))
            print("tiles: \(tiles) of \(tiling.tileHeight) x \(tiling.tileWidth) (rows at "
                  + "\(FlowTiling.starts(length: height, tile: tiling.tileHeight)), columns at "
                  + "\(FlowTiling.starts(length: width, tile: tiling.tileWidth))); \(perPass) a pass within "
                  + "\(budgetMiB) MiB, \(passes) passes; estimated pass memory of one tile \(one >> 20) MiB")
        } else {
            print("estimated pass memory (PerceiverModel.estimatedPassBytes): \(model.estimatedPassBytes(inputs) >> 20) MiB")
        }
        var times: [Double] = []
        var shape: [Int] = []
        let (ranBefore, foldedBefore) = (model.matmulFLOPs, model.foldedFLOPs)
        for run in 0...runs {
            let t0 = DispatchTime.now().uptimeNanoseconds
            if let tiling {
                shape = try model.predictTiled(inputs, tiling: tiling, budgetBytes: budget).logits.shape
            } else {
                shape = try model.predict(inputs).logits.shape
            }
            if run > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6) }
        }
        times.sort()
        let median = times[times.count / 2]
        // Every pass (the warm-up's too) runs the same matmuls.
        let (ran, folded) = (Double(model.matmulFLOPs - ranBefore) / Double(runs + 1) / 1e9,
                             Double(model.foldedFLOPs - foldedBefore) / Double(runs + 1) / 1e9)
        print(String(format: "matmul GFLOP per pass: %.1f run, %.1f folded away (the model's %.1f)", ran, folded,
                     ran + folded))
        print("| frame | decoded | logits | tiles | passes | median ms | ms per tile | min ms | max ms | peak RSS MiB |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        print(String(format: "| %@ | %@ | %@ | %d | %d | %.0f | %.0f | %.0f | %.0f | %d |", frame,
                     pixels == 0 ? "full field" : "\(pixels) pixels", "\(shape)", tiles, passes, median,
                     median / Double(tiles), times[0], times[times.count - 1], Self.megabytes("VmHWM")))
    }

    /// `deepmind/optical-flow-perceiver`'s config (docs/reference/perceiver.md D.1): 41,057,134 parameters.
    static var opticalFlowPerceiver: PerceiverConfig {
        var config = PerceiverConfig(architecture: "PerceiverForOpticalFlow")
        config.dModel = 322
        config.dLatents = 512
        config.numLatents = 2048
        config.numBlocks = 1
        config.numSelfAttendsPerBlock = 24
        config.numSelfAttentionHeads = 16
        config.numCrossAttentionHeads = 1
        config.trainSize = [368, 496]
        return config
    }

    /// A `/proc/self/status` memory field (kB) in MiB.
    static func megabytes(_ field: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
              let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return -1 }
        return kilobytes / 1024
    }
}

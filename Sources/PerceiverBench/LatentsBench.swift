import ArgumentParser
import Foundation
import PerceiverEngine
import Support

/// The encoder and the decoder of one saved model timed apart, in process (no HTTP): what a latent-cache hit
/// still pays (the decode) against what it saves (the encode), with the engine's matmul FLOPs of each. The
/// request is the one `tools/bench/bench_latents.sh` sends over HTTP for the model's architecture:
/// - optical flow: one random frame pair at the model's `train_size`, `--pixels` pixels decoded;
/// - masked LM: `--tokens` random bytes, `--positions` positions decoded;
/// - multimodal autoencoding: one random clip (`num_frames` x 3 x 224 x 224 video, its audio, an all-zero
///   label) and chunk 1 of `--chunks` of DeepMind's decoding loop.
/// Prints one JSON object: the encode's time and GFLOP (one run, after a warm-up encode of other inputs), and
/// the decode's median time over `--runs` and its GFLOP.
struct LatentsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latents",
        abstract: "Time a saved model's encode and one decode apart, in process, with their matmul GFLOP.")

    @Option(help: ArgumentHelp("The save_pretrained directory.", valueName: "dir"))
    var model: String

    @Option(help: "Timed decodes (the median is reported).")
    var runs: Int = 3

    @Option(help: "Optical flow: pixels decoded.")
    var pixels: Int = 4096

    @Option(help: "Masked LM: input tokens.")
    var tokens: Int = 2048

    @Option(help: "Masked LM: output positions decoded.")
    var positions: Int = 16

    @Option(help: "Multimodal: chunks of the decoding loop (one is decoded).")
    var chunks: Int = 128

    @Option(help: "oneDNN threads (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard runs >= 1, pixels >= 1, tokens >= 3, positions >= 1, positions <= tokens - 2, chunks >= 1 else {
            throw ValidationError("runs, pixels, chunks >= 1; tokens >= 3; 1 <= positions <= tokens - 2")
        }
    }

    func run() throws {
        HeapPolicy.retainFreedMemory()
        let model = try PerceiverModel.load(directory: self.model, options: ExecutionOptions(threads: threads))
        let (encoderInputs, selection) = try request(for: model.config, seed: 1)
        _ = try model.encode(request(for: model.config, seed: 2).encoder)   // warm-up: buffers, page faults

        var flops = model.matmulFLOPs
        var start = DispatchTime.now().uptimeNanoseconds
        let latents = try model.encode(encoderInputs)
        let encodeMS = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        let encodeFLOPs = model.matmulFLOPs - flops

        var times: [Double] = []
        var decodeFLOPs = 0
        for _ in 0..<runs {
            flops = model.matmulFLOPs
            start = DispatchTime.now().uptimeNanoseconds
            _ = try model.decode(latents, selecting: selection)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            decodeFLOPs = model.matmulFLOPs - flops
        }
        times.sort()
        let record: [String: Any] = [
            "kind": "in-process", "architecture": model.config.architecture, "threads": threads,
            "parameters": model.parameterCount, "encode_ms": rounded(encodeMS), "encode_gflop": gflop(encodeFLOPs),
            "decode_ms_median": rounded(times[times.count / 2]), "decode_ms": times.map(rounded),
            "decode_gflop": gflop(decodeFLOPs), "latents_bytes": latents.byteCount,
        ]
        let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    /// The encoder inputs and the output selection of the request the HTTP benchmark sends to this model.
    private func request(for config: PerceiverConfig, seed: UInt64) throws
        -> (encoder: ModelInputs, selection: ModelInputs) {
        var generator = SplitMix64(seed: seed)
        func random(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in generator.nextFloat(in: -1...1) })
        }
        var inputs = ModelInputs()
        var selection = ModelInputs()
        switch config.architecture {
        case "PerceiverForOpticalFlow":
            let (height, width) = (config.trainSize[0], config.trainSize[1])
            let step = height * width / pixels
            inputs.frames = random([1, 2, 3, height, width])
            selection.outputPositions = IndexTensor(shape: [1, pixels], values: (0..<pixels).map { $0 * step })
        case "PerceiverForMaskedLM":
            let ids = (0..<tokens).map { i in i == 0 ? 4 : i == tokens - 1 ? 5 : 6 + Int(generator.next() % 256) }
            inputs.inputIDs = IndexTensor(shape: [1, tokens], values: ids)
            let step = (tokens - 2) / positions
            selection.outputPositions = IndexTensor(shape: [1, positions], values: (0..<positions).map { 1 + $0 * step })
        case "PerceiverForMultimodalAutoencoding":
            let (frames, size) = (config.outputShape[1], config.outputShape[2])
            let samples = config.numFrames * config.audioSamplesPerFrame
            inputs.image = random([1, frames, 3, size, size])
            inputs.audio = random([1, samples, 1])
            inputs.label = Tensor(shape: [1, config.numLabels], scalars: [Float](repeating: 0, count: config.numLabels))
            let imagePoints = frames * size * size / chunks
            let audioPatches = samples / config.samplesPerPatch / chunks
            selection.modalityPositions = [
                .image: IndexTensor(shape: [1, imagePoints], values: Array(0..<imagePoints)),
                .audio: IndexTensor(shape: [1, audioPatches], values: Array(0..<audioPatches)),
                .label: IndexTensor(shape: [1, 1], values: [0]),
            ]
        default:
            throw ValidationError("\(config.architecture): only optical flow, masked LM and multimodal autoencoding")
        }
        return (inputs, selection)
    }

    private func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }
    private func gflop(_ flops: Int) -> Double { (Double(flops) / 1e8).rounded() / 10 }
}

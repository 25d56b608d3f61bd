import ArgumentParser
import PerceiverEngine

/// `perceiverd`: serve, inspect and run Perceiver IO models on CPU.
@main
struct Perceiverd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perceiverd",
        abstract: "Serve, inspect and run Perceiver IO models (transformers checkpoints) on CPU with oneDNN.",
        discussion: """
        A model directory is what transformers' save_pretrained writes (config.json + model.safetensors, \
        optionally preprocessor_config.json). Supported: PerceiverForMaskedLM, \
        PerceiverForSequenceClassification, PerceiverForImageClassification{Learned,Fourier,ConvProcessing}, \
        PerceiverForOpticalFlow, PerceiverForMultimodalAutoencoding.

        Start here: `make serve` builds and runs `perceiverd serve --config config.json`, which serves the \
        shipped models `digits` and `words` on 127.0.0.1:8000.
        """,
        version: perceiverdVersion,
        subcommands: [ServeCommand.self, InspectCommand.self, PredictCommand.self])
}

/// Options every model-loading subcommand shares.
struct EngineOptions: ParsableArguments {
    @Option(help: "oneDNN threads per forward pass (default: all cores).")
    var threads: Int?

    @Option(help: """
        Matmul precision: f32 (exact parity with transformers), bf16 (where the CPU multiplies bf16 natively; \
        f32 with a warning elsewhere) or auto (bf16 where native, else f32).
        """)
    var precision: String = "f32"

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if PrecisionSetting(rawValue: precision) == nil {
            throw ValidationError("--precision must be \(PrecisionSetting.choices)")
        }
    }
}

import ArgumentParser
import PerceiverEngine

/// `perceiverd inspect --model DIR`: what a checkpoint holds and what the model takes and gives.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a model's architecture, inputs and outputs, parameter count and stored dtype.",
        discussion: """
        Loads the model as `serve` would (a broken checkpoint fails here with the same one-line error) and \
        prints what it takes and gives: the input and output tensors with their shapes (-1 = any size), the \
        latent array and the labels; `queries` shows the width E a caller-built query array needs.

        Example: perceiverd inspect --model models/digits
        """)

    @Option(help: "A directory written by transformers' save_pretrained (config.json + model.safetensors).")
    var model: String

    @OptionGroup var engine: EngineOptions

    func run() throws {
        let loaded = try loadModelOrExit(model, engine)
        let c = loaded.config
        print("model:        \(model)")
        print("architecture: \(loaded.architecture.rawValue)")
        print("parameters:   \(loaded.parameterCount)")
        print("file dtype:   \(loaded.storedDTypes.joined(separator: ", "))")
        print("precision:    \(engine.precisionChoice.summary), threads \(loaded.options.threads)")
        print("latents:      \(c.numLatents) x \(c.dLatents), \(c.numBlocks) block(s) x \(c.numSelfAttendsPerBlock) self-attention layers")
        for line in loaded.summaryLines { print(line) }
        if loaded.architecture.isClassifier || loaded.outputSpecs.contains(where: { $0.name == "label" }) {
            print("labels:       \(c.numLabels) (\(c.labels.prefix(5).joined(separator: ", "))\(c.numLabels > 5 ? ", ..." : ""))")
        }
        print("inputs:")
        for spec in loaded.inputSpecs { print("  " + describe(spec)) }
        print("outputs:")
        for spec in loaded.outputSpecs { print("  " + describe(spec)) }
        print("onednn:       \(DNNLInfo.version), isa \(DNNLInfo.isa)")
        print("bf16:         \(BF16Support.current.summary)")
        print("cpu:          \(DNNLInfo.cpuModel)")
    }

    private func describe(_ spec: TensorSpec) -> String {
        let shape = "(" + spec.shape.map { $0 < 0 ? "-1" : String($0) }.joined(separator: ", ") + ")"
        let name = spec.name.padding(toLength: max(18, spec.name.count), withPad: " ", startingAt: 0)
        return "\(name) \(spec.datatypes.joined(separator: "|")) \(shape)\(spec.isOptional ? " optional" : "")"
    }
}

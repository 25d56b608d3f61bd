import ArgumentParser
import Foundation
import ModelServer
import PerceiverEngine

/// `perceiverd predict`: run a model once from the command line.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Run a model once: fill-mask or classify --text, classify an --image, compute optical flow between "
            + "two --frames, or answer a KServe V2 request from --input.",
        discussion: """
        --text "The capital of France is [MASK][MASK][MASK][MASK][MASK]." prints the filled text and the top-k \
        bytes per [MASK] (masked LM), or the top labels (text classifier).
        --image photo.jpg (a PNG or JPEG file, told apart by its first bytes) prints the top labels of an image \
        classifier (Learned, Fourier, ConvProcessing), one "label<TAB>score" line each. The image is center-cropped, \
        resized and normalized as transformers' PerceiverImageProcessor does, with the model directory's \
        preprocessor_config.json when it has one.
        --frames A.png B.png (PNG or JPEG files of one size, at least the model's train_size; larger frames are \
        tiled) prints the optical flow from A to B as JSON ({"shape":[1,H,W,2],"data":...}), or with --output FILE \
        writes it: FILE.png as the picture DeepMind's optical-flow colab draws, any other name as float32 \
        little-endian (H, W, 2).
        --input REQUEST.json reads a KServe V2 inference request body ({"inputs":[{"name","shape","datatype","data"}]}) \
        and prints the V2 response JSON. Inputs: input_ids (INT64/INT32) and attention_mask for text; \
        pixel_values (FP32, B x 3 x H x W) for images; inputs (FP32, B x 2 x 27 x H x W patches) or frames \
        (FP32, B x 2 x 3 x H x W) for optical flow; image (B x T x 3 x H x W), audio (B x S x 1) and optional \
        label for multimodal, with output_positions_image/_audio/_label (INT64, B x K) choosing output points; \
        optional output_positions (INT64, B x K) and queries (FP32, B x O x E) on the other models. \
        Outputs: logits (multimodal: audio, image, label). `perceiverd inspect` lists a model's own.
        """)

    @Option(help: "Model directory (config.json + model.safetensors).")
    var model: String

    @Option(help: "Text to fill ([MASK] marks a byte to predict) or to classify.")
    var text: String?

    @Option(help: "A KServe V2 inference request JSON file.")
    var input: String?

    @Option(help: "A PNG or JPEG file to classify (image classifiers).")
    var image: String?

    @Option(parsing: .upToNextOption, help: "Two PNG or JPEG frames to compute optical flow between (flow models).")
    var frames: [String] = []

    @Option(help: "With --frames: write the flow to this file, a picture if it ends in .png, else float32 values.")
    var output: String?

    @Option(name: .customLong("top-k"), help: "Candidates per masked position, or labels per item.")
    var topK: Int = 5

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        guard [text, input, image].compactMap({ $0 }).count + (frames.isEmpty ? 0 : 1) == 1 else {
            throw ValidationError("give exactly one of --text, --image, --frames or --input")
        }
        guard frames.isEmpty || frames.count == 2 else {
            throw ValidationError("--frames takes two files, the first frame and the second")
        }
        guard output == nil || !frames.isEmpty else { throw ValidationError("--output goes with --frames") }
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1") }
    }

    func run() throws {
        let loaded = try loadModelOrExit(model, engine)
        do {
            if let text {
                try predictText(text, loaded)
            } else if let input {
                try predictRequest(input, loaded)
            } else if let image {
                try predictImage(image, loaded)
            } else {
                try predictFlow(loaded)
            }
        } catch let error as RequestError {
            printError("perceiverd: \(error)")
            throw ExitCode.failure
        }
    }

    private func predictText(_ text: String, _ loaded: PerceiverModel) throws {
        switch loaded.architecture.task {
        case .fillMask:
            let result = try FillMask(model: loaded, text: text, topK: topK)
            print(result.filledText)
            for prediction in result.predictions {
                let candidates = prediction.candidates.map { "'\($0.token)' \(String(format: "%.4f", $0.score))" }
                print("  position \(prediction.position): " + candidates.joined(separator: ", "))
            }
        case .textClassification:
            let result = try Classification(model: loaded, text: text, topK: topK)
            for label in result.items[0] { print("\(label.label)\t\(String(format: "%.4f", label.score))") }
        default:
            printError("perceiverd: --text needs a text model; \(loaded.architecture.rawValue) takes pixel_values (use --input)")
            throw ExitCode.failure
        }
    }

    private func predictImage(_ path: String, _ loaded: PerceiverModel) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            printError("perceiverd: cannot read \(path)")
            throw ExitCode.failure
        }
        let name = URL(fileURLWithPath: model).lastPathComponent
        let result = try Classification(model: loaded, name: name, image: data, topK: topK)
        for label in result.items[0] { print("\(label.label)\t\(String(format: "%.4f", label.score))") }
    }

    private func predictFlow(_ loaded: PerceiverModel) throws {
        let files = try frames.map { path -> Data in
            guard let data = FileManager.default.contents(atPath: path) else {
                printError("perceiverd: cannot read \(path)")
                throw ExitCode.failure
            }
            return data
        }
        guard loaded.architecture.rawValue == "PerceiverForOpticalFlow" else {
            printError("perceiverd: --frames needs an optical-flow model; \(loaded.architecture.rawValue) is not one")
            throw ExitCode.failure
        }
        var inputs = ModelInputs()
        inputs.frames = try FlowFrames.tensor(files[0], files[1], maxPixels: .max)
        let logits: Tensor
        do { logits = try loaded.predict(inputs).logits } catch { throw RequestError.inference(error) }
        let (height, width) = (logits.shape[1], logits.shape[2])
        guard let output else {
            let shape = logits.shape.map(String.init).joined(separator: ",")
            print("{\"shape\":[\(shape)],\"data\":" + NestedArray.json(logits.scalars, shape: logits.shape) + "}")
            return
        }
        let bytes: [UInt8]
        if output.lowercased().hasSuffix(".png") {
            bytes = try FlowPicture.png(logits.scalars[...], height: height, width: width)
        } else {
            bytes = logits.scalars.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
        }
        guard FileManager.default.createFile(atPath: output, contents: Data(bytes)) else {
            printError("perceiverd: cannot write \(output)")
            throw ExitCode.failure
        }
        print("\(output): flow of \(height) x \(width) pixels, "
              + (output.lowercased().hasSuffix(".png") ? "as a picture" : "float32 (\(height), \(width), 2)"))
    }

    private func predictRequest(_ path: String, _ loaded: PerceiverModel) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            printError("perceiverd: cannot read \(path)")
            throw ExitCode.failure
        }
        let request = try V2InferenceRequest(json: data)
        let name = URL(fileURLWithPath: model).lastPathComponent
        let response = try V2Inference.run(request, model: loaded, modelName: name)
        FileHandle.standardOutput.write(response.jsonData())
        print()
    }
}

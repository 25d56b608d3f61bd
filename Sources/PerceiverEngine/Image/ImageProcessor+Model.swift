import Foundation

extension ImageProcessor {
    /// The file name transformers' `save_pretrained` gives an image processor's settings.
    public static let configFileName = "preprocessor_config.json"

    /// The processor an image classifier takes encoded images through, or nil for models that do not classify
    /// images. `json` is `preprocessor_config.json` when the model directory has one; without it the processor
    /// has `PerceiverImageProcessor`'s defaults, resizing to the model's own input size when that is fixed.
    /// - Throws: `ModelLoadError.invalidPreprocessorConfig` for a malformed file, or one whose output size is not
    ///   the fixed input size of the model.
    static func forModel(_ architecture: Architecture, config: PerceiverConfig,
                         json: Data?) throws(ModelLoadError) -> ImageProcessor? {
        guard let side = architecture.family.imageSide(config: config) else { return nil }
        let fixedSide: Int? = if case .fixed(let size) = side { size } else { nil }
        guard let json else {
            var defaults = ImageProcessorConfig()
            if let side = fixedSide { defaults.resizeTarget = .init(height: side, width: side) }
            return ImageProcessor(config: defaults)
        }
        let parsed = try ImageProcessorConfig(json: json)
        if let side = fixedSide, !parsed.doResize || parsed.size != .init(height: side, width: side) {
            let output = parsed.doResize ? "\(parsed.size.height)x\(parsed.size.width)" : "the image's own size"
            throw ModelLoadError.invalidPreprocessorConfig(
                key: parsed.doResize ? "size" : "do_resize",
                reason: "resizes to \(output), but the model takes \(side)x\(side) images (config.json image_size)")
        }
        return ImageProcessor(config: parsed)
    }
}

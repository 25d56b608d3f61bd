import Foundation
import JSONKit

/// The settings of transformers' `PerceiverImageProcessor` (PIL backend, `PerceiverImageProcessorPil`), read from a
/// model's `preprocessor_config.json`; a missing key takes the class default.
public struct ImageProcessorConfig: Sendable, Equatable {
    /// (height, width) in pixels.
    public struct Size: Sendable, Equatable {
        public var height: Int
        public var width: Int

        public init(height: Int, width: Int) {
            self.height = height
            self.width = width
        }
    }

    public var doCenterCrop = true
    /// With `size`, sets the Perceiver crop: (size / crop_size) x the shorter image side, per axis.
    public var cropSize = Size(height: 256, width: 256)
    public var doResize = true
    /// The crop's numerator, and the resize target unless `resizeTarget` overrides it.
    public var size = Size(height: 224, width: 224)
    public var resample = ResamplingFilter.bicubic
    public var doRescale = true
    public var rescaleFactor = 1.0 / 255
    public var doNormalize = true
    /// `IMAGENET_DEFAULT_MEAN` and `IMAGENET_DEFAULT_STD`, per RGB channel.
    public var imageMean: [Double] = [0.485, 0.456, 0.406]
    public var imageStd: [Double] = [0.229, 0.224, 0.225]
    /// The size the resize produces when it is not `size`: a model with a fixed input and no
    /// `preprocessor_config.json` keeps the default crop fraction (224 / 256) but resizes to its own input size.
    public var resizeTarget: Size?

    /// `PerceiverImageProcessor()`'s defaults.
    public init() {}

    /// The resize's output size.
    public var outputSize: Size { resizeTarget ?? size }
}

extension ImageProcessorConfig {
    /// Parses `preprocessor_config.json` bytes. Keys other than the processor's (e.g. `image_processor_type`) are
    /// ignored, as transformers ignores them.
    /// - Throws: `ModelLoadError.invalidPreprocessorConfig` naming the key at fault.
    public init(json data: Data) throws(ModelLoadError) {
        let r = try ConfigReader(json: data, file: .preprocessorConfig)
        doCenterCrop = try r.bool("do_center_crop", doCenterCrop)
        cropSize = try Self.size(r, "crop_size", cropSize)
        doResize = try r.bool("do_resize", doResize)
        size = try Self.size(r, "size", size)
        if let value = r.object.nonNull("resample") {
            guard let filter = value.integerValue.flatMap(ResamplingFilter.init(rawValue:)) else {
                throw r.invalid("resample", "\(value.summary) is not supported (2 bilinear or 3 bicubic)")
            }
            resample = filter
        }
        doRescale = try r.bool("do_rescale", doRescale)
        rescaleFactor = try r.number("rescale_factor", rescaleFactor)
        doNormalize = try r.bool("do_normalize", doNormalize)
        imageMean = try Self.perChannel(r, "image_mean", imageMean)
        imageStd = try Self.perChannel(r, "image_std", imageStd)
        guard !imageStd.contains(0) else { throw r.invalid("image_std", "must not contain 0") }
    }

    /// `{"height": H, "width": W}` (a bare integer means a square, as `get_size_dict` reads it).
    private static func size(_ r: ConfigReader, _ key: String, _ fallback: Size) throws(ModelLoadError) -> Size {
        guard let value = r.object.nonNull(key) else { return fallback }
        if value.numberValue != nil, let side = try r.optionalPositive(key) { return Size(height: side, width: side) }
        guard let object = JSONObjectReader(value, path: r.object.keyPath(key)), object.members.count == 2 else {
            throw r.invalid(key, "expected {\"height\": H, \"width\": W}")
        }
        let inner = ConfigReader(object, file: r.file)
        guard let height = try inner.optionalPositive("height"), let width = try inner.optionalPositive("width") else {
            throw r.invalid(key, "expected {\"height\": H, \"width\": W}")
        }
        return Size(height: height, width: width)
    }

    /// Three numbers, or one for every channel.
    private static func perChannel(_ r: ConfigReader, _ key: String, _ fallback: [Double]) throws(ModelLoadError)
        -> [Double] {
        guard let value = r.object.nonNull(key) else { return fallback }
        if value.numberValue != nil { return Array(repeating: try r.number(key, 0), count: 3) }
        let list = (value.arrayValue ?? []).compactMap(ConfigReader.finite)
        guard list.count == 3, value.arrayValue?.count == 3 else {
            throw r.invalid(key, "expected 3 numbers (R, G, B)")
        }
        return list
    }
}

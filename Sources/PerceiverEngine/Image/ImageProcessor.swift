import Foundation

/// transformers' `PerceiverImageProcessor.preprocess` (PIL backend) on one decoded RGB image: the Perceiver center
/// crop, Pillow's resize, rescale and normalize, channels first.
public struct ImageProcessor: Sendable {
    public let config: ImageProcessorConfig
    /// pixel_values of each 8-bit value per channel, (3, 256): rescale and normalize act on one element at a time.
    let values: [[Float]]

    public init(config: ImageProcessorConfig) {
        self.config = config
        values = (0..<3).map { channel in
            (0..<256).map { byte in
                // image_transforms.rescale: float64 multiply, then float32; normalize then runs in float32.
                var value = config.doRescale ? Float(Double(byte) * config.rescaleFactor) : Float(byte)
                if config.doNormalize {
                    value = (value - Float(config.imageMean[channel])) / Float(config.imageStd[channel])
                }
                return value
            }
        }
    }

    /// `pixel_values` (1, 3, H, W) for an RGB image given as (height, width, 3) bytes.
    /// - Throws: `InferenceError.badValue` on "image" when the crop leaves no pixels (an image a few pixels wide).
    public func pixelValues(rgb: [UInt8], width: Int, height: Int) throws(InferenceError) -> Tensor {
        let (pixels, outWidth, outHeight) = try resized(rgb: rgb, width: width, height: height)
        let plane = outWidth * outHeight
        var scalars = [Float](repeating: 0, count: 3 * plane)
        for i in 0..<plane {
            for c in 0..<3 { scalars[c * plane + i] = values[c][Int(pixels[i * 3 + c])] }
        }
        return Tensor(shape: [1, 3, outHeight, outWidth], scalars: scalars)
    }

    /// The 8-bit image after the crop and the resize, (height, width, 3), with its width and height.
    func resized(rgb: [UInt8], width: Int, height: Int) throws(InferenceError) -> ([UInt8], Int, Int) {
        var (pixels, w, h) = (rgb, width, height)
        if config.doCenterCrop {
            (pixels, w, h) = centerCrop(rgb, width: width, height: height)
        }
        guard w > 0, h > 0 else {
            throw InferenceError.badValue(tensor: "image", reason: "a \(width)x\(height) image is too small: "
                                          + "the center crop leaves \(w)x\(h) pixels")
        }
        guard config.doResize else { return (pixels, w, h) }
        let target = config.outputSize
        return (PillowResampler.resize(pixels, width: w, height: h, channels: 3, toWidth: target.width,
                                       height: target.height, filter: config.resample), target.width, target.height)
    }

    /// `PerceiverImageProcessor.center_crop`: the crop is (size / crop_size) x min(height, width) per axis, cut from
    /// the middle by `image_transforms.center_crop` (top = (height - crop) // 2), zeros where it reaches past the edge.
    func centerCrop(_ rgb: [UInt8], width: Int, height: Int) -> ([UInt8], Int, Int) {
        let shorter = Double(min(width, height))
        let cropHeight = Int(Double(config.size.height) / Double(config.cropSize.height) * shorter)
        let cropWidth = Int(Double(config.size.width) / Double(config.cropSize.width) * shorter)
        let top = Self.floorHalf(height - cropHeight), left = Self.floorHalf(width - cropWidth)
        var out = [UInt8](repeating: 0, count: cropHeight * cropWidth * 3)
        for y in 0..<cropHeight where (0..<height).contains(y + top) {
            for x in 0..<cropWidth where (0..<width).contains(x + left) {
                let from = ((y + top) * width + x + left) * 3, to = (y * cropWidth + x) * 3
                out[to] = rgb[from]
                out[to + 1] = rgb[from + 1]
                out[to + 2] = rgb[from + 2]
            }
        }
        return (out, cropWidth, cropHeight)
    }

    /// Python's `n // 2` (floor, also for negative n).
    private static func floorHalf(_ n: Int) -> Int {
        n >= 0 ? n / 2 : -((1 - n) / 2)
    }
}

import Foundation
import Testing
@testable import PerceiverEngine

/// The image fixtures written by tools/fixtures/make_image_fixtures.py (Pillow 13.0.0, PerceiverImageProcessorPil).
enum ImageFixtures {
    struct Case: CustomTestStringConvertible, Sendable {
        var image: String
        var configName: String
        var width: Int
        var height: Int
        var resized: String
        var values: String
        var pixelValues: String?

        var testDescription: String { "\(image) \(configName)" }
    }

    static var directory: String { Fixtures.directory + "/images" }

    nonisolated(unsafe) static let manifest: [String: Any] = {
        let data = FileManager.default.contents(atPath: directory + "/manifest.json")!
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static let cases: [Case] = (manifest["cases"] as! [[String: Any]]).map {
        Case(image: $0["image"] as! String, configName: $0["config"] as! String, width: $0["width"] as! Int,
             height: $0["height"] as! Int, resized: $0["resized"] as! String, values: $0["values"] as! String,
             pixelValues: $0["pixel_values"] as? String)
    }

    /// PIL's decoded RGB pixels of `image` with its width and height.
    static func decoded(_ image: String) -> (pixels: [UInt8], width: Int, height: Int) {
        let entry = (manifest["images"] as! [[String: Any]]).first { $0["file"] as? String == image }!
        return (bytes(entry["decoded"] as! String), entry["width"] as! Int, entry["height"] as! Int)
    }

    /// The processor for a manifest config, built the way model loading builds it.
    static func processor(_ name: String) throws -> ImageProcessor {
        var object = (manifest["configs"] as! [String: [String: Any]])[name]!
        if let side = object.removeValue(forKey: "model_size") as? Int {
            var config = ImageProcessorConfig()
            config.resizeTarget = .init(height: side, width: side)
            return ImageProcessor(config: config)
        }
        return ImageProcessor(config: try ImageProcessorConfig(json: try JSONSerialization.data(withJSONObject: object)))
    }

    static func bytes(_ path: String) -> [UInt8] {
        [UInt8](FileManager.default.contents(atPath: directory + "/" + path)!)
    }

    static func floats(_ path: String) -> [Float] {
        let data = bytes(path)
        return (0..<data.count / 4).map { i in
            Float(bitPattern: UInt32(data[4 * i]) | UInt32(data[4 * i + 1]) << 8 | UInt32(data[4 * i + 2]) << 16
                  | UInt32(data[4 * i + 3]) << 24)
        }
    }
}

import Foundation

/// The image files and PIL's decoded pixels written by tools/fixtures/make_image_fixtures.py, in the engine
/// tests' fixtures.
enum ImageFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("PerceiverEngineTests/Fixtures/images").path

    struct Image: Sendable, CustomStringConvertible {
        var file: String
        var width: Int
        var height: Int
        var decoded: String
        var note: String?

        var description: String { file }
    }

    static let images: [Image] = {
        let data = FileManager.default.contents(atPath: directory + "/manifest.json") ?? Data()
        let manifest = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (manifest["images"] as? [[String: Any]] ?? []).map {
            Image(file: $0["file"] as? String ?? "", width: $0["width"] as? Int ?? 0, height: $0["height"] as? Int ?? 0,
                  decoded: $0["decoded"] as? String ?? "", note: $0["note"] as? String)
        }
    }()

    static func data(_ path: String) -> Data {
        FileManager.default.contents(atPath: directory + "/" + path) ?? Data()
    }
}

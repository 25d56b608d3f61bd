import Foundation

/// A fresh directory under the system temporary directory, removed when the object goes away.
final class TemporaryDirectory {
    /// Absolute path of the directory.
    let path: String

    /// Creates a uniquely named empty directory.
    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("perceiver-checkpoint-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        // Best effort: a leftover temp directory is not worth failing a test over.
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `bytes` to `name` inside the directory and returns the file's path.
    @discardableResult
    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let filePath = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: filePath))
        return filePath
    }

    /// Creates a subdirectory `name` and returns its path.
    @discardableResult
    func makeSubdirectory(_ name: String) throws -> String {
        let subdirectory = path + "/" + name
        try FileManager.default.createDirectory(atPath: subdirectory, withIntermediateDirectories: false)
        return subdirectory
    }

    /// Writes `text` as UTF-8 to `name` inside the directory and returns the file's path.
    @discardableResult
    func write(text: String, to name: String) throws -> String {
        try write(Array(text.utf8), to: name)
    }
}


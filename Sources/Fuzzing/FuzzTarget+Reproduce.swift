import Foundation

extension FuzzTarget {
    /// The main of a fuzz executable built without `-DFUZZING`: runs each file in `paths` (each file inside a
    /// folder) through the target and prints one line per file, so `swift run FuzzHTTPParser crash-...`
    /// reproduces a crash in a debug build, with the invariant's message. Exits 0 when every file passed,
    /// 64 without arguments, 66 when a path cannot be read; a broken invariant traps.
    public func reproduce(_ paths: some Collection<String>) -> Never {
        guard !paths.isEmpty else {
            FileHandle.standardError.write(Data("usage: \(CommandLine.arguments[0]) FILE|DIR...\n".utf8))
            exit(64)
        }
        for path in paths {
            guard let files = Self.files(at: path) else {
                FileHandle.standardError.write(Data("\(path): cannot read\n".utf8))
                exit(66)
            }
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("\(file): cannot read\n".utf8))
                    exit(66)
                }
                data.withUnsafeBytes { run($0) }
                print("\(rawValue): \(file): ok (\(data.count) bytes)")
            }
        }
        exit(0)
    }

    /// `path` itself if it is a file; the regular files directly inside it, sorted, if it is a folder; nil if
    /// it does not exist.
    public static func files(at path: String) -> [String]? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else { return [path] }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return nil }
        let url = URL(fileURLWithPath: path, isDirectory: true)
        return names.filter { !$0.hasPrefix(".") }.sorted().map { url.appendingPathComponent($0).path }.filter {
            FileManager.default.fileExists(atPath: $0, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
    }
}

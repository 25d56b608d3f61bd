import Foundation

/// Text files the kernel generates (`/proc`, `/sys/fs/cgroup`).
enum KernelFile {
    /// The file's text, trimmed; nil when it cannot be read. These files report a size of 0, so this reads
    /// until end of file rather than by size.
    static func text(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd() else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

import Foundation

/// The invariant checks of the fuzz targets. A broken invariant traps, so that libFuzzer keeps the input as a
/// crash and `swift test` fails when it replays it.
enum Invariant {
    /// Traps with `message` unless `condition` holds. The message goes to stderr first: optimized builds (the
    /// fuzz binaries) drop `preconditionFailure`'s message.
    static func require(_ condition: Bool, _ message: @autoclosure () -> String,
                        file: StaticString = #fileID, line: UInt = #line) {
        guard !condition else { return }
        let text = "fuzz invariant broken (\(file):\(line)): \(message())"
        FileHandle.standardError.write(Data((text + "\n").utf8))
        preconditionFailure(text, file: file, line: line)
    }
}

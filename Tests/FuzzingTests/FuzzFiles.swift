import Foundation
import Fuzzing

/// The committed inputs of each fuzz target: seeds in `Corpus/<target>`, crash reproducers in
/// `Regressions/<target>` (both copied into the test bundle).
enum FuzzFiles {
    /// The files of `target` in the bundle folder `kind` ("Corpus" or "Regressions"); none if it has no folder.
    static func paths(_ kind: String, _ target: FuzzTarget) -> [String] {
        guard let folder = Bundle.module.url(forResource: kind, withExtension: nil) else { return [] }
        return FuzzTarget.files(at: folder.appendingPathComponent(target.rawValue).path) ?? []
    }

    /// Every seed and reproducer of `target`, regressions first.
    static func all(_ target: FuzzTarget) -> [String] {
        paths("Regressions", target) + paths("Corpus", target)
    }
}

import Foundation
import Testing
import Fuzzing

/// Every committed seed and crash reproducer passes its target: a bug the fuzzer found stays fixed.
@Suite struct FuzzCorpusTests {
    @Test(arguments: FuzzTarget.allCases)
    func everyTargetHasAtLeastADozenSeeds(target: FuzzTarget) {
        #expect(FuzzFiles.paths("Corpus", target).count >= 12)
    }

    /// One child process per file: a broken invariant traps, which would otherwise end the whole test run, and
    /// the failing case names the file.
    @Test(arguments: FuzzTarget.allCases.flatMap { target in FuzzFiles.all(target).map { FuzzFile(target, $0) } })
    func committedInputPassesItsTarget(file: FuzzFile) async {
        await #expect(processExitsWith: .success) { [file] in
            file.target.run(Array(FileManager.default.contents(atPath: file.path) ?? Data()))
        }
    }
}

/// One committed input and the target it belongs to, named in test output by its folder and file name.
struct FuzzFile: Sendable, Codable, CustomTestStringConvertible {
    var target: FuzzTarget
    var path: String

    init(_ target: FuzzTarget, _ path: String) {
        self.target = target
        self.path = path
    }

    var testDescription: String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().deletingLastPathComponent().lastPathComponent + "/"
            + target.rawValue + "/" + url.lastPathComponent
    }
}

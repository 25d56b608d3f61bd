import ArgumentParser
import Foundation
import PerceiverEngine

/// Loads `directory` or exits with one line naming the problem (exit code 1). An explicit `--precision bf16`
/// that this CPU cannot run natively loads in f32 after one warning on stderr.
func loadModelOrExit(_ directory: String, _ options: EngineOptions) throws -> PerceiverModel {
    if let problem = DNNLInfo.dispatchFloorProblem() {
        printError("perceiverd: unsupported CPU: \(problem)")
        throw ExitCode.failure
    }
    var execution = ExecutionOptions()
    if let threads = options.threads { execution.threads = threads }
    let precision = options.precisionChoice
    if let why = precision.fallback { printError("perceiverd: warning: bf16 requested, running in f32: \(why)") }
    execution.precision = precision.effective
    do {
        return try PerceiverModel.load(directory: directory, options: execution)
    } catch {
        printError("perceiverd: cannot load model '\(directory)': \(error)")
        throw ExitCode.failure
    }
}

extension EngineOptions {
    /// `--precision` resolved on this CPU (validated by `validate()`).
    var precisionChoice: PrecisionChoice { (PrecisionSetting(rawValue: precision) ?? .f32).resolve() }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

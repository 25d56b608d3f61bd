import ArgumentParser
import Foundation
import PerceiverEngine

/// Loads `directory` or exits with one line naming the problem (exit code 1).
func loadModelOrExit(_ directory: String, _ options: EngineOptions) throws -> PerceiverModel {
    var execution = ExecutionOptions()
    if let threads = options.threads { execution.threads = threads }
    execution.precision = Precision(rawValue: options.precision) ?? .f32
    do {
        return try PerceiverModel.load(directory: directory, options: execution)
    } catch {
        printError("perceiverd: cannot load model '\(directory)': \(error)")
        throw ExitCode.failure
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

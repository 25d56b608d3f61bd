import ArgumentParser
import Foundation
import PerceiverEngine

/// Times V2 JSON request parsing (issue 18), old path (JSONSerialization + NSNumber) against new (JSONKit),
/// on a real optical-flow frame pair and on an attacker's 64 MiB of small numbers. Each (body, parser) runs in
/// a process of its own (this program, `json --child`) so that each peak RSS is its own.
struct JSONBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "json",
        abstract: "Time V2 JSON body parsing: JSONSerialization + NSNumber (old) against JSONKit (new).")

    @Option(name: .customLong("body"), help: "Bodies to parse: flow, attack (repeatable; default both).")
    var bodies: [String] = JSONBenchBody.allCases.map(\.rawValue)

    @Option(name: .customLong("parser"), help: "Parsers: old, new (repeatable; default both).")
    var parsers: [String] = ["old", "new"]

    @Option(help: "Timed runs of the new parser (the median is reported).")
    var runs: Int = 7

    @Option(help: "Timed runs of the old parser (slow on the attack body).")
    var oldRuns: Int = 3

    @Flag(help: .hidden)
    var child = false

    func validate() throws {
        guard runs >= 1, oldRuns >= 1 else { throw ValidationError("--runs and --old-runs must be at least 1") }
        guard bodies.allSatisfy({ JSONBenchBody(rawValue: $0) != nil }) else {
            throw ValidationError("--body must be flow or attack")
        }
        guard parsers.allSatisfy({ $0 == "old" || $0 == "new" }) else { throw ValidationError("--parser must be old or new") }
    }

    func run() throws {
        if child, let body = bodies.first.flatMap(JSONBenchBody.init), let parser = parsers.first {
            print(JSONBenchChild.measure(body, parser: parser, runs: parser == "old" ? oldRuns : runs).line)
            return
        }
        print("json: V2 JSON request bodies, parse + check + decode; cpu \(DNNLInfo.cpuModel), "
              + "\(ProcessInfo.processInfo.activeProcessorCount) cores; one process per row")
        print("body     MiB  numbers    parser  runs  median s     MiB/s    Mnum/s  peak RSS MiB (+parse)  outcome")
        for name in bodies {
            guard let body = JSONBenchBody(rawValue: name) else { continue }
            let (data, numbers) = body.make()
            for parser in parsers {
                let result = try Self.spawn(body: name, parser: parser, runs: runs, oldRuns: oldRuns)
                let mebibytes = Double(data.count) / 1_048_576
                print(String(format: "%-6@ %6.1f %9d  %-6@ %5d %9.3f %9.1f %9.2f %12d (+%d)  %@",
                             name, mebibytes, numbers, parser, parser == "old" ? oldRuns : runs, result.seconds,
                             mebibytes / result.seconds, Double(numbers) / result.seconds / 1e6, result.peakMiB,
                             result.peakMiB - result.baseMiB, String(result.outcome.prefix(90))))
            }
        }
    }

    /// Runs this program as a child for one row and reads its result line.
    static func spawn(body: String, parser: String, runs: Int, oldRuns: Int) throws -> JSONBenchChild.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["json", "--child", "--body", body, "--parser", parser, "--runs", "\(runs)", "--old-runs", "\(oldRuns)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: output, as: UTF8.self)
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("RESULT ") }),
              let result = JSONBenchChild.Result(line: line) else {
            throw ValidationError("the \(body)/\(parser) child printed no result (exit \(process.terminationStatus)): \(text)")
        }
        return result
    }
}

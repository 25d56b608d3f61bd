import Foundation
import ModelServer

/// One (body, parser) measurement, run in a process of its own so that its peak resident memory is its own.
enum JSONBenchChild {
    /// The line a child prints: median seconds, peak RSS MiB while parsing, RSS MiB before, outcome.
    struct Result {
        var seconds: Double
        var peakMiB: Int
        var baseMiB: Int
        var outcome: String

        var line: String { "RESULT \(seconds) \(peakMiB) \(baseMiB) \(outcome)" }

        init(seconds: Double, peakMiB: Int, baseMiB: Int, outcome: String) {
            self.seconds = seconds
            self.peakMiB = peakMiB
            self.baseMiB = baseMiB
            self.outcome = outcome
        }

        init?(line: Substring) {
            let parts = line.split(separator: " ", maxSplits: 4)
            guard parts.count == 5, parts[0] == "RESULT", let seconds = Double(parts[1]), let peak = Int(parts[2]),
                  let base = Int(parts[3]) else { return nil }
            self.init(seconds: seconds, peakMiB: peak, baseMiB: base, outcome: String(parts[4]))
        }
    }

    /// Builds `body`, resets the peak RSS, parses it `runs` times with `parser`; the median and the peak.
    static func measure(_ body: JSONBenchBody, parser: String, runs: Int) -> Result {
        let (data, _) = body.make()
        let base = FlowBench.megabytes("VmRSS")
        resetPeak()
        var times: [Double] = []
        var outcome = ""
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            outcome = parse(data, parser: parser)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        times.sort()
        return Result(seconds: times[times.count / 2], peakMiB: FlowBench.megabytes("VmHWM"), baseMiB: base, outcome: outcome)
    }

    /// Parses `data` with the old or the new path; what came of it, in a few words.
    private static func parse(_ data: Data, parser: String) -> String {
        if parser == "old" {
            do {
                let (values, shape) = try FoundationV2Parser.parse(data)
                // The old path left shapes to the engine, which refused this one only after the decode.
                let fits = shape.count == 5 && shape.dropFirst().elementsEqual(JSONBenchBody.frameShape.dropFirst())
                return "ok \(values.count) floats" + (fits ? "" : ", then refused by the engine: shape \(shape)")
            } catch {
                return "refused: \(error)"
            }
        }
        do throws(RequestError) {
            let request = try V2InferenceRequest(body: data, inferenceHeaderLength: nil, specs: JSONBenchBody.flowSpecs)
            return "ok \(request.inputs[0].data.count) floats"
        } catch {
            return "refused: \(error)"
        }
    }

    /// Resets `VmHWM` to the current RSS (Linux 4.0+: writing 5 to `/proc/self/clear_refs`).
    private static func resetPeak() {
        try? Data("5".utf8).write(to: URL(fileURLWithPath: "/proc/self/clear_refs"))
    }
}

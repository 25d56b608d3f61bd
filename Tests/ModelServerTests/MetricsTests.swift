import Foundation
import Testing
@testable import ModelServer

/// The value of the sample line that starts with `series` (`name{labels}` exactly as rendered), if any.
/// The value of the exposition line for `series` (name and labels exactly as rendered), nil if absent.
func metricValue(_ series: String, in text: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1))
    }
    return nil
}

/// Whether `actual` is within 1e-9 of `expected`.
private func isClose(_ actual: Double?, _ expected: Double) -> Bool {
    actual.map { abs($0 - expected) < 1e-9 } ?? false
}

@Suite struct MetricsRegistryTests {
    @Test func countsHTTPResponsesByStatusCode() {
        let registry = MetricsRegistry()
        registry.httpResponse(status: 200)
        registry.httpResponse(status: 200)
        registry.httpResponse(status: 404)
        let text = registry.render()
        #expect(metricValue(#"perceiverd_http_requests_total{code="200"}"#, in: text) == 2)
        #expect(metricValue(#"perceiverd_http_requests_total{code="404"}"#, in: text) == 1)
    }

    @Test func modelInfoNamesThePrecisionThatRunsAndTheOneAskedFor() {
        let registry = MetricsRegistry()
        registry.register(model: "words", info: MetricsRegistry.ModelInfo(
            version: "2", architecture: "PerceiverForMaskedLM", precision: "f32", requestedPrecision: "bf16"))
        registry.register(model: "plain")
        let text = registry.render()
        #expect(metricValue(#"perceiverd_model_info{model="words",version="2",architecture="PerceiverForMaskedLM","#
                            + #"precision="f32",requested_precision="bf16"}"#, in: text) == 1)
        #expect(text.contains("# TYPE perceiverd_model_info gauge"))
        #expect(!text.contains(#"perceiverd_model_info{model="plain""#), "no info without one")
    }

    @Test func registeredModelsAppearWithZerosBeforeTraffic() {
        let registry = MetricsRegistry()
        registry.register(model: "mlm")
        let text = registry.render()
        for series in [
            #"perceiverd_inference_requests_total{model="mlm",status="200"}"#,
            #"perceiverd_inference_executions_total{model="mlm"}"#,
            #"perceiverd_inference_rows_total{model="mlm"}"#,
            #"perceiverd_inference_in_flight{model="mlm"}"#,
            #"perceiverd_inference_queue_depth{model="mlm"}"#,
            #"perceiverd_inference_request_duration_seconds_count{model="mlm"}"#,
            #"perceiverd_inference_queue_duration_seconds_bucket{model="mlm",le="+Inf"}"#,
            #"perceiverd_inference_compute_duration_seconds_sum{model="mlm"}"#,
            #"perceiverd_inference_batch_size_bucket{model="mlm",le="256"}"#,
        ] {
            #expect(metricValue(series, in: text) == 0, "\(series)")
        }
        for reason in MetricsRegistry.FailureReason.allCases {
            #expect(metricValue(#"perceiverd_inference_failures_total{model="mlm",reason="\#(reason.rawValue)"}"#,
                          in: text) == 0)
        }
    }

    @Test func dropsUpdatesForUnregisteredModels() {
        let registry = MetricsRegistry()
        registry.inferenceFinished(model: "nope", status: 404, totalSeconds: 0.1)
        registry.inferenceFailed(model: "nope", reason: .invalid)
        registry.adjustInFlight(model: "nope", by: 1)
        #expect(!registry.render().contains("nope"))
    }

    @Test func countsFinishedAndFailedInferenceRequests() {
        let registry = MetricsRegistry()
        registry.register(model: "mlm")
        registry.inferenceFinished(model: "mlm", status: 200, totalSeconds: 0.02)
        registry.inferenceFinished(model: "mlm", status: 503, totalSeconds: 0.001)
        registry.inferenceFailed(model: "mlm", reason: .rejected)
        let text = registry.render()
        #expect(metricValue(#"perceiverd_inference_requests_total{model="mlm",status="200"}"#, in: text) == 1)
        #expect(metricValue(#"perceiverd_inference_requests_total{model="mlm",status="503"}"#, in: text) == 1)
        #expect(metricValue(#"perceiverd_inference_failures_total{model="mlm",reason="rejected"}"#, in: text) == 1)
        #expect(metricValue(#"perceiverd_inference_failures_total{model="mlm",reason="timeout"}"#, in: text) == 0)
        #expect(metricValue(#"perceiverd_inference_request_duration_seconds_count{model="mlm"}"#, in: text) == 2)
        #expect(isClose(metricValue(#"perceiverd_inference_request_duration_seconds_sum{model="mlm"}"#, in: text), 0.021))
    }

    @Test func histogramBucketsAreCumulativeWithCountAndSum() {
        let registry = MetricsRegistry(durationBuckets: [1, 0.1])
        registry.register(model: "m")
        for seconds in [0.05, 0.1, 0.5, 5] {
            registry.inferenceFinished(model: "m", status: 200, totalSeconds: seconds)
        }
        let text = registry.render()
        let name = "perceiverd_inference_request_duration_seconds"
        #expect(metricValue(#"\#(name)_bucket{model="m",le="0.1"}"#, in: text) == 2)
        #expect(metricValue(#"\#(name)_bucket{model="m",le="1"}"#, in: text) == 3)
        #expect(metricValue(#"\#(name)_bucket{model="m",le="+Inf"}"#, in: text) == 4)
        #expect(metricValue(#"\#(name)_count{model="m"}"#, in: text) == 4)
        #expect(isClose(metricValue(#"\#(name)_sum{model="m"}"#, in: text), 5.65))
        // Bounds render in ascending order.
        let bounds = text.split(separator: "\n").filter { $0.hasPrefix("\(name)_bucket") }
        #expect(bounds.map { $0.contains("le=\"0.1\"") } == [true, false, false])
    }

    @Test func recordsBatchesPerPassAndQueueWaitsPerRequest() {
        let registry = MetricsRegistry()
        registry.register(model: "mlm")
        registry.batchExecuted(model: "mlm", rows: 3, queueSeconds: [0.001, 0.2, 0.0003], computeSeconds: 0.03)
        registry.batchExecuted(model: "mlm", rows: 8, queueSeconds: [0.004], computeSeconds: 0.07)
        let text = registry.render()
        #expect(metricValue(#"perceiverd_inference_executions_total{model="mlm"}"#, in: text) == 2)
        #expect(metricValue(#"perceiverd_inference_rows_total{model="mlm"}"#, in: text) == 11)
        #expect(metricValue(#"perceiverd_inference_batch_size_bucket{model="mlm",le="2"}"#, in: text) == 0)
        #expect(metricValue(#"perceiverd_inference_batch_size_bucket{model="mlm",le="4"}"#, in: text) == 1)
        #expect(metricValue(#"perceiverd_inference_batch_size_bucket{model="mlm",le="8"}"#, in: text) == 2)
        #expect(metricValue(#"perceiverd_inference_queue_duration_seconds_count{model="mlm"}"#, in: text) == 4)
        #expect(metricValue(#"perceiverd_inference_queue_duration_seconds_bucket{model="mlm",le="0.0005"}"#, in: text) == 1)
        #expect(metricValue(#"perceiverd_inference_compute_duration_seconds_count{model="mlm"}"#, in: text) == 2)
        #expect(isClose(metricValue(#"perceiverd_inference_compute_duration_seconds_sum{model="mlm"}"#, in: text), 0.1))
    }

    @Test func gaugesFollowSetsAndAdjustments() {
        let registry = MetricsRegistry()
        registry.register(model: "mlm")
        registry.adjustInFlight(model: "mlm", by: 1)
        registry.adjustInFlight(model: "mlm", by: 2)
        registry.adjustInFlight(model: "mlm", by: -1)
        registry.setQueueDepth(model: "mlm", 5)
        registry.setQueueDepth(model: "mlm", 4)
        registry.setModelsReady(1)
        var text = registry.render()
        #expect(metricValue(#"perceiverd_inference_in_flight{model="mlm"}"#, in: text) == 2)
        #expect(metricValue(#"perceiverd_inference_queue_depth{model="mlm"}"#, in: text) == 4)
        #expect(metricValue("perceiverd_models_ready", in: text) == 1)
        registry.setInFlight(model: "mlm", 0)
        text = registry.render()
        #expect(metricValue(#"perceiverd_inference_in_flight{model="mlm"}"#, in: text) == 0)
    }

    @Test func escapesLabelValues() {
        let registry = MetricsRegistry()
        registry.register(model: "a\"b\\c\nd")
        #expect(registry.render().contains(#"perceiverd_inference_rows_total{model="a\"b\\c\nd"} 0"#))
        #expect(PrometheusText.escapeLabelValue("plain") == "plain")
        #expect(PrometheusText.escapeHelp("a\\b\nc \"q\"") == #"a\\b\nc "q""#)
    }

    @Test(arguments: [(0.0005, "0.0005"), (1, "1"), (2.5, "2.5"), (-3, "-3"), (Double.infinity, "+Inf"),
                      (-Double.infinity, "-Inf"), (Double.nan, "NaN"), (1e20, "1e+20")])
    func formatsValuesAsGoParsesThem(number: Double, text: String) {
        #expect(PrometheusText.format(number) == text)
    }

    @Test func rendersValidExpositionInSortedDeterministicOrder() throws {
        let registry = MetricsRegistry()
        for model in ["zeta", "alpha", "we\"ird"] { registry.register(model: model) }
        registry.httpResponse(status: 500)
        registry.httpResponse(status: 200)
        registry.batchExecuted(model: "zeta", rows: 2, queueSeconds: [0.01, 0.02], computeSeconds: 0.5)
        let text = registry.render()
        let families = try ExpositionChecker.check(text)
        #expect(families == families.sorted())
        #expect(families.contains("process_resident_memory_bytes") || !FileManager.default.fileExists(atPath: "/proc"))
        let withoutProcess = { (text: String) in text.split(separator: "\n").filter { !$0.contains("process_") } }
        #expect(withoutProcess(text) == withoutProcess(registry.render()))
        let rows = text.split(separator: "\n").filter { $0.hasPrefix("perceiverd_inference_rows_total{") }
        #expect(rows.map { $0.contains("alpha") } == [true, false, false])
    }

    #if os(Linux)
    @Test func readsProcessMetricsFromProc() throws {
        let text = MetricsRegistry().render()
        #expect(try #require(metricValue("process_resident_memory_bytes", in: text)) > 1_000_000)
        #expect(try #require(metricValue("process_open_fds", in: text)) >= 3)
        #expect(try #require(metricValue("process_cpu_seconds_total", in: text)) >= 0)
        let start = try #require(metricValue("process_start_time_seconds", in: text))
        let now = Date().timeIntervalSince1970
        #expect(start <= now + 1 && start > now - 86_400)
    }
    #endif

    @Test func concurrentUpdatesAddUpExactly() {
        let registry = MetricsRegistry()
        registry.register(model: "mlm")
        let threads = 16, perThread = 500
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0..<perThread {
                registry.httpResponse(status: 200)
                registry.adjustInFlight(model: "mlm", by: 1)
                registry.inferenceFinished(model: "mlm", status: 200, totalSeconds: 0.25)
                registry.batchExecuted(model: "mlm", rows: 2, queueSeconds: [0.001, 0.001], computeSeconds: 0.5)
                registry.adjustInFlight(model: "mlm", by: -1)
                if index % 100 == 0 { _ = registry.render() }
            }
            _ = thread
        }
        let total = Double(threads * perThread)
        let text = registry.render()
        #expect(metricValue(#"perceiverd_http_requests_total{code="200"}"#, in: text) == total)
        #expect(metricValue(#"perceiverd_inference_requests_total{model="mlm",status="200"}"#, in: text) == total)
        #expect(metricValue(#"perceiverd_inference_request_duration_seconds_sum{model="mlm"}"#, in: text) == total * 0.25)
        #expect(metricValue(#"perceiverd_inference_executions_total{model="mlm"}"#, in: text) == total)
        #expect(metricValue(#"perceiverd_inference_rows_total{model="mlm"}"#, in: text) == total * 2)
        #expect(metricValue(#"perceiverd_inference_queue_duration_seconds_count{model="mlm"}"#, in: text) == total * 2)
        #expect(metricValue(#"perceiverd_inference_in_flight{model="mlm"}"#, in: text) == 0)
    }
}

/// A small validator for text format 0.0.4: `# HELP`/`# TYPE` lines, then sample lines
/// `name{label="value",...} value` whose name belongs to the family last typed.
private enum ExpositionChecker {
    struct Failure: Error, CustomStringConvertible {
        let line: String
        let reason: String
        var description: String { "\(reason): \(line)" }
    }

    /// The family names in the order their `# TYPE` lines appear; throws at the first invalid line.
    static func check(_ text: String) throws -> [String] {
        guard text.hasSuffix("\n") else { throw Failure(line: "", reason: "no final newline") }
        var families: [String] = []
        var current: (name: String, type: String)?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) {
            if line.hasPrefix("# HELP ") {
                continue
            } else if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ").map(String.init)
                guard parts.count == 4, isMetricName(parts[2]),
                      ["counter", "gauge", "histogram"].contains(parts[3]) else {
                    throw Failure(line: line, reason: "bad TYPE")
                }
                current = (parts[2], parts[3])
                families.append(parts[2])
            } else {
                guard let current else { throw Failure(line: line, reason: "sample before TYPE") }
                try checkSample(line, family: current.name, type: current.type)
            }
        }
        return families
    }

    private static func checkSample(_ line: String, family: String, type: String) throws {
        var rest = Substring(line)
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
        rest = rest.dropFirst(name.count)
        let allowed = type == "histogram" ? ["_bucket", "_sum", "_count"].map { family + $0 } : [family]
        guard isMetricName(String(name)), allowed.contains(String(name)) else {
            throw Failure(line: line, reason: "name outside its family")
        }
        if rest.first == "{" {
            rest = try dropLabels(rest.dropFirst(), line: line)
        }
        guard rest.first == " ", isFloat(rest.dropFirst()) else { throw Failure(line: line, reason: "bad value") }
    }

    /// Consumes `a="x",b="y"}` and returns what follows.
    private static func dropLabels(_ text: Substring, line: String) throws -> Substring {
        var rest = text
        while true {
            let label = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            guard !label.isEmpty, label.first?.isNumber == false else { throw Failure(line: line, reason: "bad label") }
            rest = rest.dropFirst(label.count)
            guard rest.hasPrefix("=\"") else { throw Failure(line: line, reason: "bad label") }
            rest = rest.dropFirst(2)
            while let character = rest.first, character != "\"" {
                guard character != "\n" else { throw Failure(line: line, reason: "raw newline") }
                if character == "\\" {
                    guard let escaped = rest.dropFirst().first, "\\\"n".contains(escaped) else {
                        throw Failure(line: line, reason: "bad escape")
                    }
                    rest = rest.dropFirst(2)
                } else {
                    rest = rest.dropFirst()
                }
            }
            guard !rest.isEmpty else { throw Failure(line: line, reason: "unterminated label value") }
            rest = rest.dropFirst()
            if rest.first == "," { rest = rest.dropFirst(); continue }
            guard rest.first == "}" else { throw Failure(line: line, reason: "bad label set") }
            return rest.dropFirst()
        }
    }

    private static func isMetricName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == ":"
        }
    }

    private static func isFloat(_ text: Substring) -> Bool {
        ["+Inf", "-Inf", "NaN"].contains(text) || (Double(text) != nil && !text.contains(" "))
    }
}

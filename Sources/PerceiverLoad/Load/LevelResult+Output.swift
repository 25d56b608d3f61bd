import Foundation
import HTTPServer

/// The table row and the JSON line a level prints.
extension LevelResult {
    static let tableHeader = """
        | concurrency | requests | non-2xx | socket errors | req/s | p50 ms | p95 ms | p99 ms | max ms |
        |---|---|---|---|---|---|---|---|---|
        """

    /// `| 8 | 5123 | 0 | 0 | 1024.6 | 7.71 | 9.02 | 10.35 | 14.20 |`; non-2xx as `404:12 503:3`.
    var tableRow: String {
        let latencies = [percentile(50), percentile(95), percentile(99), maximum]
            .map { $0.map { String(format: "%.2f", $0) } ?? "-" }
        let cells = ["\(concurrency)", "\(requests)", nonSuccessText, "\(socketErrorCount)",
                     String(format: "%.1f", throughput)] + latencies
        return "| " + cells.joined(separator: " | ") + " |"
    }

    /// One line: `{"concurrency":8,"duration_s":10,"requests":5123,"non_2xx":{},"socket_errors":0,...}`.
    var jsonLine: String {
        func number(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "null" }
        let statuses = tally.nonSuccess.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }
        let errors = tally.socketErrors.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\($0.value)" }
        return "{\"concurrency\":\(concurrency),\"duration_s\":\(duration),\"requests\":\(requests),"
            + "\"non_2xx\":{\(statuses.joined(separator: ","))},\"socket_errors\":\(socketErrorCount),"
            + "\"socket_error_kinds\":{\(errors.joined(separator: ","))},"
            + "\"throughput_rps\":\(number(throughput)),\"latency_ms\":{\"p50\":\(number(percentile(50))),"
            + "\"p95\":\(number(percentile(95))),\"p99\":\(number(percentile(99))),\"max\":\(number(maximum))}}"
    }

    /// Socket errors by kind, one line each, for stderr (empty when there were none).
    var socketErrorLines: [String] {
        tally.socketErrors.sorted { $0.value > $1.value }
            .map { "PerceiverLoad: concurrency \(concurrency): \($0.value) x \($0.key)" }
    }

    private var nonSuccessText: String {
        tally.nonSuccess.isEmpty ? "0" : tally.nonSuccess.sorted { $0.key < $1.key }
            .map { "\($0.key):\($0.value)" }.joined(separator: " ")
    }

    /// `text` as a JSON string literal, with the server's own escaping.
    private func jsonString(_ text: String) -> String {
        jsonQuoted(text)
    }
}

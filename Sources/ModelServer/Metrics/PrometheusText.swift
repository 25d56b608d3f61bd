/// Prometheus text exposition format 0.0.4:
/// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
enum PrometheusText {
    /// The `Content-Type` of a rendered exposition.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// All families, sorted by name, each with its `# HELP` and `# TYPE` lines; ends in a newline.
    static func render(_ families: [any ExpositionFamily]) -> String {
        var text = ""
        for family in families.sorted(by: { $0.name < $1.name }) {
            text += "# HELP \(family.name) \(escapeHelp(family.help))\n"
            text += "# TYPE \(family.name) \(family.type.rawValue)\n"
            family.renderSamples(into: &text)
        }
        return text
    }

    /// One sample line: `name{a="x",b="y"} value`, or `name value` without labels.
    static func sample(_ name: String, labels: [(String, String)], value: String) -> String {
        guard !labels.isEmpty else { return "\(name) \(value)\n" }
        let pairs = labels.map { "\($0.0)=\"\(escapeLabelValue($0.1))\"" }.joined(separator: ",")
        return "\(name){\(pairs)} \(value)\n"
    }

    /// A label value with backslash, double quote and line feed escaped, as the format requires.
    static func escapeLabelValue(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// A `# HELP` docstring with backslash and line feed escaped (quotes stay as they are there).
    static func escapeHelp(_ help: String) -> String {
        help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// A sample value or `le` bound: integers without a fraction, `+Inf`, `-Inf`, `NaN`, otherwise Swift's
    /// shortest round-tripping form (`0.0005`, `1e-05`), which Go's `ParseFloat` accepts.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}

/// What `# TYPE` says a family is.
enum MetricType: String, Sendable {
    case counter, gauge, histogram
}

/// A metric family that can write its sample lines.
protocol ExpositionFamily: Sendable {
    /// The metric name, e.g. `perceiverd_http_requests_total`.
    var name: String { get }
    /// The `# HELP` text.
    var help: String { get }
    /// The `# TYPE` value.
    var type: MetricType { get }
    /// Appends every sample line, series in label order.
    func renderSamples(into text: inout String)
}

/// A counter or gauge family: one value per tuple of label values.
struct ScalarFamily: ExpositionFamily {
    let name: String
    let help: String
    let type: MetricType
    /// Label names, in the order values are given.
    let labelNames: [String]
    /// Value per tuple of label values (same order as `labelNames`).
    private(set) var values: [[String]: Double] = [:]

    init(_ name: String, _ type: MetricType, labels: [String] = [], help: String) {
        self.name = name
        self.help = help
        self.type = type
        self.labelNames = labels
    }

    /// Adds `delta` to a series, creating it at zero first.
    mutating func add(_ delta: Double, _ labels: [String]) {
        values[labels, default: 0] += delta
    }

    /// Sets a series (gauges).
    mutating func set(_ value: Double, _ labels: [String]) {
        values[labels] = value
    }

    /// Creates a series at zero if it does not exist, so it is exposed before anything happens.
    mutating func touch(_ labels: [String]) {
        add(0, labels)
    }

    /// Removes every series whose first label value is `first` (a model's info, before it is set anew).
    mutating func removeSeries(first: String) {
        values = values.filter { $0.key.first != first }
    }

    func renderSamples(into text: inout String) {
        for key in values.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let value = values[key] ?? 0
            text += PrometheusText.sample(name, labels: Array(zip(labelNames, key)), value: PrometheusText.format(value))
        }
    }
}

/// A histogram family: one `Histogram` per tuple of label values, all with the same bounds.
struct HistogramFamily: ExpositionFamily {
    let name: String
    let help: String
    var type: MetricType { .histogram }
    /// Label names, in the order values are given (`le` is added when rendering).
    let labelNames: [String]
    /// Finite bucket bounds shared by every series.
    let upperBounds: [Double]
    /// Histogram per tuple of label values.
    private(set) var series: [[String]: Histogram] = [:]

    init(_ name: String, labels: [String], buckets: [Double], help: String) {
        self.name = name
        self.help = help
        self.labelNames = labels
        self.upperBounds = buckets
    }

    /// Records `value` in a series, creating it first.
    mutating func observe(_ value: Double, _ labels: [String]) {
        series[labels, default: Histogram(upperBounds: upperBounds)].observe(value)
    }

    /// Creates an empty series if it does not exist.
    mutating func touch(_ labels: [String]) {
        if series[labels] == nil { series[labels] = Histogram(upperBounds: upperBounds) }
    }

    func renderSamples(into text: inout String) {
        for key in series.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard let histogram = series[key] else { continue }
            let labels = Array(zip(labelNames, key))
            for (bound, count) in zip(histogram.upperBounds, histogram.cumulativeCounts) {
                text += PrometheusText.sample("\(name)_bucket", labels: labels + [("le", PrometheusText.format(bound))],
                                              value: String(count))
            }
            text += PrometheusText.sample("\(name)_bucket", labels: labels + [("le", "+Inf")],
                                          value: String(histogram.count))
            text += PrometheusText.sample("\(name)_sum", labels: labels, value: PrometheusText.format(histogram.sum))
            text += PrometheusText.sample("\(name)_count", labels: labels, value: String(histogram.count))
        }
    }
}

import Foundation
import JSONKit

/// Typed look-ups into a model's `config.json` or `preprocessor_config.json`, as `transformers` reads them:
/// unknown keys are ignored (hub configs carry obsolete ones) and a `null` takes the default. Errors name the
/// key by its dotted path (`size.height`).
struct ConfigReader {
    /// Which file the object came from: it picks the error case, and so the file name in the message.
    enum File { case config, preprocessorConfig }

    let object: JSONObjectReader
    let file: File

    /// A reader of `object`, part of `file`.
    init(_ object: JSONObjectReader, file: File) {
        self.object = object
        self.file = file
    }

    /// Parses `data`, which must be one JSON object (RFC 8259: UTF-8, names unique).
    /// - Throws: the file's error for key `(root)` when it is not.
    init(json data: Data, file: File) throws(ModelLoadError) {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: data)
        } catch {
            throw Self.invalid(file, "(root)", "not valid JSON: \(error)")
        }
        guard let object = JSONObjectReader(value) else { throw Self.invalid(file, "(root)", "not a JSON object") }
        self.init(object, file: file)
    }

    func invalid(_ key: String, _ reason: String) -> ModelLoadError {
        Self.invalid(file, object.keyPath(key), reason)
    }

    private static func invalid(_ file: File, _ keyPath: String, _ reason: String) -> ModelLoadError {
        switch file {
        case .config: return .invalidConfig(key: keyPath, reason: reason)
        case .preprocessorConfig: return .invalidPreprocessorConfig(key: keyPath, reason: reason)
        }
    }

    func positive(_ key: String, _ fallback: Int) throws(ModelLoadError) -> Int {
        try optionalPositive(key) ?? fallback
    }

    /// A whole number in 1...2^31 (`4.0` counts, as Python's `int(4.0)`); nil when absent or null.
    func optionalPositive(_ key: String) throws(ModelLoadError) -> Int? {
        guard let value = object.nonNull(key) else { return nil }
        guard let int = Self.positive(value) else {
            throw invalid(key, "expected a positive integer, got \(Self.shown(value))")
        }
        return int
    }

    func positiveList(_ key: String, _ fallback: [Int]) throws(ModelLoadError) -> [Int] {
        guard let value = object.nonNull(key) else { return fallback }
        let list = value.arrayValue ?? []
        let integers = list.compactMap(Self.positive)
        guard !list.isEmpty, integers.count == list.count else {
            throw invalid(key, "expected a list of positive integers")
        }
        return integers
    }

    func string(_ key: String, _ fallback: String) throws(ModelLoadError) -> String {
        try optionalString(key) ?? fallback
    }

    func optionalString(_ key: String) throws(ModelLoadError) -> String? {
        guard let value = object.nonNull(key) else { return nil }
        guard let string = value.stringValue else { throw invalid(key, "expected a string") }
        return string
    }

    func number(_ key: String, _ fallback: Double) throws(ModelLoadError) -> Double {
        guard let value = object.nonNull(key) else { return fallback }
        guard let number = Self.finite(value) else {
            throw invalid(key, "expected a number, got \(Self.shown(value))")
        }
        return number
    }

    func bool(_ key: String, _ fallback: Bool) throws(ModelLoadError) -> Bool {
        guard let value = object.nonNull(key) else { return fallback }
        guard let bool = value.boolValue else { throw invalid(key, "expected true or false") }
        return bool
    }

    /// `id2label` as a dense list: keys must be exactly "0" ..< "n", every label a string.
    func labels() throws(ModelLoadError) -> [String]? {
        guard let value = object.nonNull("id2label") else { return nil }
        let members = value.members ?? []
        guard !members.isEmpty, members.allSatisfy({ $0.value.stringValue != nil }) else {
            throw invalid("id2label", "expected a non-empty object of id -> label")
        }
        // Names equal as Swift strings but not as bytes cannot both be ids: keep the first, then the count
        // check below refuses the object.
        let map = Dictionary(members.map { ($0.key, $0.value.stringValue ?? "") }, uniquingKeysWith: { a, _ in a })
        var labels: [String] = []
        for id in 0..<members.count {
            guard let label = map[String(id)] else {
                throw invalid("id2label", "ids must be 0..<\(members.count); \(id) is missing")
            }
            labels.append(label)
        }
        return labels
    }

    /// `value` as a whole number in 1...2^31, or nil.
    static func positive(_ value: JSONValue) -> Int? {
        guard let int = value.integerValue, int > 0, int <= 1 << 31 else { return nil }
        return int
    }

    /// `value` as a finite double, or nil for anything but a number within the double range.
    static func finite(_ value: JSONValue) -> Double? {
        guard let number = value.numberValue?.doubleValue, number.isFinite else { return nil }
        return number
    }

    /// `value` for a message: a string as its text (shortened), anything else as `JSONValue.summary`.
    static func shown(_ value: JSONValue) -> String {
        value.stringValue.map { JSONError.excerpt($0) } ?? value.summary
    }
}

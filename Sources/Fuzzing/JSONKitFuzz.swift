import Foundation
import JSONKit

/// The `jsonKit` target: JSONKit on any bytes, against itself and against Foundation's `JSONSerialization`.
///
/// Invariants: the three ways of reading (the value tree, the token stream, a skip) accept the same inputs
/// and refuse the others with the same error; a refused repeated name really is repeated (the tree read
/// with `allowsDuplicateKeys` has it at the error's path); typed reads of every array of numbers give
/// `Float(literal)` and the exact `Int64` of each literal; and whatever `JSONSerialization` accepts as an
/// object or array with unique keys, JSONKit accepts with the same values (`JSONKitFuzz+Foundation.swift`),
/// unless JSONKit refuses it for a documented strictness: invalid UTF-8 or another encoding, a lone
/// surrogate escape, a trailing comma, or nesting beyond its depth limit.
enum JSONKitFuzz {
    /// Deep enough for any input of `tools/qa/fuzz.sh`'s 8 KiB, shallow enough for the tree's recursion.
    static let options = JSONOptions(maxDepth: 512)

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let data = Data(bytes)
        let tree: Result<JSONValue, JSONError> = Result { () throws(JSONError) in
            try JSONValue(parsing: bytes, options: options)
        }
        checkReadersAgree(data, tree)
        switch tree {
        case .success(let value):
            checkTypedReads(value)
            checkAgainstFoundation(data, value)
        case .failure(let error):
            if case .duplicateKey(let key, let path) = error.reason { checkDuplicate(bytes, key: key, path: path) }
            checkFoundationRefusesToo(data, error)
        }
    }

    /// The token stream and a skip accept exactly what the tree accepts, and fail with the same error.
    static func checkReadersAgree(_ data: Data, _ tree: Result<JSONValue, JSONError>) {
        let tokens = Result { () throws(JSONError) -> Int in
            var scanner = JSONScanner(data, options: options)
            var count = 0
            while try scanner.nextToken() != nil { count += 1 }
            return count
        }
        let skip = Result { () throws(JSONError) -> Range<Int> in
            var scanner = JSONScanner(data, options: options)
            let range = try scanner.skipValue()
            try scanner.finish()
            return range
        }
        switch (tree, tokens, skip) {
        case (.success, .success, .success(let range)):
            let trimmed = data.subdata(in: range)
            Invariant.require((try? JSONValue(parsing: trimmed, options: options)) == (try? tree.get()),
                              "the skipped range \(range) is not the value")
        case (.failure(let a), .failure(let b), .failure(let c)):
            Invariant.require(a == b && b == c, "the readers refuse differently: tree \(a), tokens \(b), skip \(c)")
        default:
            Invariant.require(false, "the readers disagree: tree \(tree), tokens \(tokens), skip \(skip)")
        }
    }

    /// Every array in `value` whose leaves are all numbers reads as floats and integers the way each literal
    /// converts alone.
    static func checkTypedReads(_ value: JSONValue) {
        switch value {
        case .object(let members): members.forEach { checkTypedReads($0.value) }
        case .array(let elements):
            elements.forEach(checkTypedReads)
            var leaves: [JSONNumber] = []
            guard collectNumbers(value, into: &leaves) else { return }
            checkTypedRead(of: value, leaves: leaves)
        default: break
        }
    }

    /// The numbers of nested arrays, row-major; false when a leaf is not a number (or there is an object).
    static func collectNumbers(_ value: JSONValue, into leaves: inout [JSONNumber]) -> Bool {
        switch value {
        case .number(let number):
            leaves.append(number)
            return true
        case .array(let elements):
            return elements.allSatisfy { collectNumbers($0, into: &leaves) }
        default:
            return false
        }
    }

    private static func checkTypedRead(of value: JSONValue, leaves: [JSONNumber]) {
        let text = Data(render(value).utf8)
        var floatScanner = JSONScanner(text, options: options)
        let floats = Result { () throws(JSONError) in try floatScanner.readFloats(maxCount: leaves.count) }
        let expectedFloats = leaves.map { Float($0.literal) ?? .nan }
        if let overflow = expectedFloats.firstIndex(where: { !$0.isFinite }) {
            guard case .failure(let error) = floats, case .floatOutOfRange(_, let element) = error.reason else {
                return Invariant.require(false, "\(leaves[overflow]) read as a float: \(floats)")
            }
            Invariant.require(element == overflow, "float overflow reported at \(element), not \(overflow)")
        } else {
            let same = (try? floats.get()).map { zip($0, expectedFloats).allSatisfy { $0.bitPattern == $1.bitPattern } }
            Invariant.require(same == true, "floats of \(leaves.map(\.literal)) read as \(floats), not \(expectedFloats)")
        }
        var intScanner = JSONScanner(text, options: options)
        let integers = Result { () throws(JSONError) in try intScanner.readIntegers(maxCount: leaves.count) }
        let exact = leaves.map(\.int64Value)
        if exact.allSatisfy({ $0 != nil }) {
            Invariant.require((try? integers.get()) == exact.map { Int($0 ?? 0) },
                              "integers of \(leaves.map(\.literal)) read as \(integers)")
        } else {
            Invariant.require((try? integers.get()) == nil, "\(leaves.map(\.literal)) read as integers: \(integers)")
        }
    }

    /// `value` as compact JSON, for re-reading it alone.
    static func render(_ value: JSONValue) -> String {
        switch value {
        case .array(let elements): return "[" + elements.map(render).joined(separator: ",") + "]"
        case .number(let number): return number.literal
        default: return "null"
        }
    }

    /// A refused repeated name is repeated: read keeping every member, the object at `path` names `key` twice.
    static func checkDuplicate(_ bytes: UnsafeRawBufferPointer, key: String, path: String) {
        var lenient = options
        lenient.allowsDuplicateKeys = true
        guard let value = try? JSONValue(parsing: bytes, options: lenient) else {
            // A later error can hide behind the first: only a complete document shows the object.
            return
        }
        var repeated: [(path: String, key: String)] = []
        repeatedKeys(in: value, path: "", into: &repeated)
        // The error quotes both shortened.
        Invariant.require(repeated.contains {
            JSONError.excerpt($0.path, limit: 128) == path && JSONError.excerpt($0.key, limit: 64).utf8.elementsEqual(key.utf8)
        }, "duplicate key '\(key)' reported at '\(path)', where no object repeats it")
    }

    /// Every object of `value` that names a key twice (by bytes), with its path as `JSONScanner.path` writes it.
    static func repeatedKeys(in value: JSONValue, path: String, into repeated: inout [(path: String, key: String)]) {
        switch value {
        case .object(let members):
            for (index, member) in members.enumerated()
            where members[..<index].contains(where: { $0.key.utf8.elementsEqual(member.key.utf8) }) {
                repeated.append((path, member.key))
            }
            for member in members {
                repeatedKeys(in: member.value, path: path + (path.isEmpty ? "" : ".") + member.key, into: &repeated)
            }
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                repeatedKeys(in: element, path: path + "[\(index)]", into: &repeated)
            }
        default:
            break
        }
    }
}

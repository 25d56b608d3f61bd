import JSONKit

/// The validated header of a safetensors file.
///
/// Layout (https://github.com/huggingface/safetensors, "Format"):
/// - bytes 0..<8: `N`, the header length, as a little-endian UInt64;
/// - bytes 8..<8+N: a UTF-8 JSON object mapping each tensor name to
///   `{"dtype": ..., "shape": [...], "data_offsets": [begin, end]}`, plus an optional
///   `"__metadata__"` object of string to string;
/// - bytes 8+N..<end: the data section; `data_offsets` are relative to its start.
///
/// A pure function of the bytes it is given, so it can be fuzzed without touching the file
/// system. Every inconsistency is a ``ModelLoadError``; nothing in here traps on bad input.
struct SafeTensorsHeader {
    /// The reference implementation refuses headers above 100 MB; so do we, so a corrupt length
    /// prefix in a huge file cannot make us hand gigabytes to the JSON parser.
    static let maxHeaderLength = 100_000_000

    /// Tensors sorted by name.
    let entries: [TensorEntry]
    /// The `"__metadata__"` object, empty if absent.
    let metadata: [String: String]
    /// Offset of the data section from the start of the file (`8 + N`).
    let dataOffset: Int

    /// Parses and validates the header of the safetensors file whose complete contents are
    /// `bytes`. `path` is only used in error messages.
    init(bytes: UnsafeRawBufferPointer, path: String) throws(ModelLoadError) {
        let headerLength = try Self.headerLength(of: bytes, path: path)
        let members = try Self.jsonObject(
            UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerLength)]), path: path)
        dataOffset = 8 + headerLength
        let dataSize = bytes.count - dataOffset
        var entries: [TensorEntry] = []
        var metadata: [String: String] = [:]
        var names: Set<String> = []
        // Sorted so that, when several tensors are bad, the one reported does not depend on the
        // order of the file.
        for member in members.sorted(by: { $0.key < $1.key }) {
            let name = member.key
            // JSONKit refuses a name written twice; two names that differ in bytes but not as Swift
            // strings ("é" and "e\u0301") would still collide in every map keyed by tensor name.
            guard names.insert(name).inserted else {
                throw .invalidHeader(
                    path: path, reason: "tensor '\(name)' is named twice (as canonically equal strings)")
            }
            if name == "__metadata__" {
                guard let map = member.value.stringMap else {
                    throw .invalidHeader(
                        path: path, reason: "'__metadata__' must be an object of string values")
                }
                metadata = map
            } else {
                entries.append(
                    try Self.entry(name: name, value: member.value, dataSize: dataSize, path: path))
            }
        }
        try Self.checkNoOverlap(entries)
        self.entries = entries
        self.metadata = metadata
    }

    /// Reads `N` and checks that the header fits in the file.
    private static func headerLength(
        of bytes: UnsafeRawBufferPointer, path: String
    ) throws(ModelLoadError) -> Int {
        guard bytes.count >= 8 else {
            throw .truncated(path: path, size: bytes.count)
        }
        let raw = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        // Compare in UInt64 against the room left after the prefix: `8 + raw` could overflow
        // (raw may be 2^64 - 1), `bytes.count - 8` cannot (count >= 8 here).
        guard raw <= UInt64(bytes.count - 8) else {
            throw .headerLengthPastEnd(path: path, headerLength: raw, fileSize: bytes.count)
        }
        // raw <= count - 8 <= Int.max, so the conversion is exact.
        let length = Int(raw)
        guard length <= maxHeaderLength else {
            throw .invalidHeader(
                path: path,
                reason: "header length \(length) exceeds the \(maxHeaderLength)-byte limit")
        }
        return length
    }

    /// Decodes the header bytes as a JSON object: its members in file order.
    private static func jsonObject(
        _ header: UnsafeRawBufferPointer, path: String
    ) throws(ModelLoadError) -> [JSONMember] {
        // The reference implementation requires the header to start with '{'; trailing spaces
        // (padding to 8 bytes) are allowed, leading ones are not.
        guard header.first == UInt8(ascii: "{") else {
            throw .invalidHeader(path: path, reason: "header does not start with '{'")
        }
        do throws(CheckpointJSONError) {
            return try JSONValue.checkpointObject(header).members
        } catch {
            throw .invalidHeader(path: path, reason: "header JSON: \(error.reason)")
        }
    }

    /// Validates one tensor's description against the data section.
    private static func entry(
        name: String, value: JSONValue, dataSize: Int, path: String
    ) throws(ModelLoadError) -> TensorEntry {
        func invalid(_ problem: String) -> ModelLoadError {
            .invalidHeader(path: path, reason: "tensor '\(name)': \(problem)")
        }
        guard let fields = JSONObjectReader(value) else {
            throw invalid("description is not a JSON object")
        }
        guard let dtypeName = fields["dtype"]?.stringValue else {
            throw invalid("'dtype' is missing or not a string")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw .unsupportedDType(tensor: name, dtype: dtypeName)
        }
        guard let shape = fields["shape"]?.nonNegativeIntegerLiterals else {
            throw invalid("'shape' is missing or not an array of non-negative integers")
        }
        guard let offsets = fields["data_offsets"]?.nonNegativeIntegerLiterals,
            offsets.count == 2
        else {
            throw invalid("'data_offsets' is missing or not two non-negative integers")
        }
        guard let byteCount = byteCount(shape: shape, dtype: dtype) else {
            throw invalid("shape \(shape) is too large (element or byte count overflows)")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end, end <= dataSize else {
            throw .offsetsOutOfRange(tensor: name, begin: begin, end: end, dataSize: dataSize)
        }
        // Both are within 0...dataSize, so the subtraction cannot overflow.
        guard end - begin == byteCount else {
            throw .byteLengthMismatch(tensor: name, expected: byteCount, actual: end - begin)
        }
        return TensorEntry(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }

    /// `product(shape) * dtype.byteSize`, or nil on overflow.
    private static func byteCount(shape: [Int], dtype: DType) -> Int? {
        var product = dtype.byteSize
        for dimension in shape {
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                return nil
            }
            product = next
        }
        return product
    }

    /// Throws if two tensors with non-empty byte ranges share a byte.
    private static func checkNoOverlap(_ entries: [TensorEntry]) throws(ModelLoadError) {
        // Sorted by begin, pairwise-disjoint non-empty ranges have strictly increasing ends, so
        // if no neighbours overlap then no pair does: checking neighbours is complete.
        let sorted = entries.filter { !$0.byteRange.isEmpty }.sorted {
            ($0.byteRange.lowerBound, $0.name) < ($1.byteRange.lowerBound, $1.name)
        }
        for (previous, next) in zip(sorted, sorted.dropFirst())
        where next.byteRange.lowerBound < previous.byteRange.upperBound {
            throw .overlappingTensors(previous.name, next.name)
        }
    }
}

import Foundation

/// One tensor to put in a test safetensors file.
struct WrittenTensor {
    /// Header key.
    var name: String
    /// `"dtype"` string, written verbatim (so unknown dtypes can be tested).
    var dtype: String
    /// `"shape"`.
    var shape: [Int]
    /// Raw element bytes, little-endian.
    var bytes: [UInt8]
    /// `"data_offsets"` to write instead of the packed layout's, to build broken files.
    var offsets: (begin: Int, end: Int)?

    init(_ name: String, _ dtype: String, _ shape: [Int], _ bytes: [UInt8], offsets: (Int, Int)? = nil) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
        self.offsets = offsets.map { (begin: $0.0, end: $0.1) }
    }
}

/// Builds safetensors files byte by byte: `8-byte LE header length + header JSON + data`.
enum SafeTensorsWriter {
    /// A complete file holding `tensors` packed in order, with `metadata` if given.
    ///
    /// The header is padded with spaces (as Python's writer does) so that the data section
    /// starts at a file offset congruent to `dataAlignment` modulo 8; pass a value that is not a
    /// multiple of 4 to get unaligned F32 data.
    static func file(
        _ tensors: [WrittenTensor], metadata: [String: String]? = nil, dataAlignment: Int = 0
    ) -> [UInt8] {
        let (header, data) = layout(tensors, metadata: metadata)
        return file(header: header, data: data, dataAlignment: dataAlignment)
    }

    /// A file with an arbitrary header text; `headerLength` overrides the length prefix.
    static func file(
        header: String, data: [UInt8] = [], dataAlignment: Int = 0, headerLength: UInt64? = nil
    ) -> [UInt8] {
        var headerBytes = Array(header.utf8)
        while (8 + headerBytes.count) % 8 != dataAlignment % 8 {
            headerBytes.append(UInt8(ascii: " "))
        }
        return raw(headerBytes: headerBytes, data: data, headerLength: headerLength)
    }

    /// Exactly `length prefix + headerBytes + data`, with no padding.
    static func raw(headerBytes: [UInt8], data: [UInt8] = [], headerLength: UInt64? = nil) -> [UInt8] {
        let length = headerLength ?? UInt64(headerBytes.count)
        return littleEndianBytes([length]) + headerBytes + data
    }

    /// Header JSON and data section for `tensors` laid out back to back.
    static func layout(_ tensors: [WrittenTensor], metadata: [String: String]?) -> (String, [UInt8]) {
        var fields: [String] = []
        if let metadata {
            let pairs = metadata.keys.sorted().map { "\(quoted($0)):\(quoted(metadata[$0] ?? ""))" }
            fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var data: [UInt8] = []
        for tensor in tensors {
            let begin = tensor.offsets?.begin ?? data.count
            let end = tensor.offsets?.end ?? data.count + tensor.bytes.count
            data += tensor.bytes
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            fields.append(
                "\(quoted(tensor.name)):{\"dtype\":\(quoted(tensor.dtype)),"
                    + "\"shape\":[\(shape)],\"data_offsets\":[\(begin),\(end)]}")
        }
        return ("{" + fields.joined(separator: ",") + "}", data)
    }

    /// `text` as a JSON string literal (enough escaping for test names).
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

/// Little-endian bytes of `values`.
func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { value in
        (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}

/// Little-endian binary32 bytes of `values`.
func littleEndianBytes(_ values: [Float]) -> [UInt8] {
    littleEndianBytes(values.map(\.bitPattern))
}

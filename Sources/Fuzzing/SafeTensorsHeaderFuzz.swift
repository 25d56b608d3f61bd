@_spi(Fuzzing) import PerceiverEngine

/// The `safetensorsHeader` target: the input as a whole safetensors file through the engine's header parser
/// (`parseSafeTensorsHeader`, SPI).
///
/// Invariants: parsing is deterministic (same header or same error twice); an accepted header's data section
/// starts at `8 + N` inside the file; entries are sorted by name, unique, never `__metadata__`; each one's byte
/// range lies inside the data section and is exactly its element count times its dtype's size; no two
/// non-empty ranges share a byte.
enum SafeTensorsHeaderFuzz {
    static let path = "fuzz.safetensors"

    /// A parsed header: the tensors sorted by name, the metadata, the data section's offset.
    typealias Header = (entries: [TensorEntry], metadata: [String: String], dataOffset: Int)

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let first = parse(bytes)
        let second = parse(bytes)
        switch (first, second) {
        case (.success(let header), .success(let again)):
            Invariant.require(header.entries == again.entries && header.metadata == again.metadata
                              && header.dataOffset == again.dataOffset, "two parses of one file differ")
            check(header, fileSize: bytes.count, headerLength: bytes.loadUnaligned(as: UInt64.self))
        case (.failure(let error), .failure(let again)):
            Invariant.require(error == again, "two parses of one file threw \(error), then \(again)")
        default:
            Invariant.require(false, "two parses of one file gave \(first), then \(second)")
        }
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<Header, ModelLoadError> {
        Result { () throws(ModelLoadError) in try parseSafeTensorsHeader(bytes, path: path) }
    }

    /// The invariants of an accepted header of a `fileSize`-byte file whose prefix says `headerLength`.
    static func check(_ header: Header, fileSize: Int, headerLength: UInt64) {
        Invariant.require(UInt64(header.dataOffset) == 8 + UInt64(littleEndian: headerLength)
                          && header.dataOffset <= fileSize,
                          "data offset \(header.dataOffset) in a \(fileSize)-byte file, prefix \(headerLength)")
        let dataSize = fileSize - header.dataOffset
        for (previous, next) in zip(header.entries, header.entries.dropFirst()) {
            Invariant.require(previous.name < next.name, "entries \(previous.name), \(next.name) out of order")
        }
        for entry in header.entries {
            Invariant.require(entry.name != "__metadata__", "__metadata__ read as a tensor")
            Invariant.require(entry.shape.allSatisfy { $0 >= 0 }, "'\(entry.name)' has shape \(entry.shape)")
            Invariant.require(entry.byteRange.lowerBound >= 0 && entry.byteRange.upperBound <= dataSize,
                              "'\(entry.name)' at \(entry.byteRange) in a \(dataSize)-byte data section")
            let (bytes, overflow) = entry.elementCount.multipliedReportingOverflow(by: entry.dtype.byteSize)
            Invariant.require(!overflow && bytes == entry.byteRange.count,
                              "'\(entry.name)' \(entry.dtype) \(entry.shape) in \(entry.byteRange.count) bytes")
        }
        // Sorted by start, each non-empty range must start at or after the furthest end so far.
        var furthestEnd = 0
        let nonEmpty = header.entries.filter { !$0.byteRange.isEmpty }
        for entry in nonEmpty.sorted(by: { $0.byteRange.lowerBound < $1.byteRange.lowerBound }) {
            Invariant.require(entry.byteRange.lowerBound >= furthestEnd, "'\(entry.name)' overlaps another tensor")
            furthestEnd = max(furthestEnd, entry.byteRange.upperBound)
        }
    }
}

/// One loaded safetensors file together with its validated header.
///
/// Immutable after `init`; the bytes live as long as this object, so anything handing out
/// pointers into them (see ``WeightTensor``) must keep a reference.
final class SafeTensorsFile: @unchecked Sendable {
    /// The file's bytes, owned by the process.
    let contents: LoadedFile
    /// The parsed header.
    let header: SafeTensorsHeader

    /// The file's path.
    var path: String { contents.path }

    /// Maps `path` and validates its header.
    init(path: String) throws(ModelLoadError) {
        contents = try LoadedFile(path: path)
        header = try SafeTensorsHeader(bytes: contents.bytes, path: path)
    }

    /// The bytes of `entry`, which must come from this file's header.
    func bytes(of entry: TensorEntry) -> UnsafeRawBufferPointer {
        // The header validated dataOffset + byteRange.upperBound <= file size, so the slice is
        // in bounds (the subscript still traps rather than read past the mapping if an entry
        // from another file were passed by mistake).
        let start = header.dataOffset + entry.byteRange.lowerBound
        let end = header.dataOffset + entry.byteRange.upperBound
        return UnsafeRawBufferPointer(rebasing: contents.bytes[start..<end])
    }
}

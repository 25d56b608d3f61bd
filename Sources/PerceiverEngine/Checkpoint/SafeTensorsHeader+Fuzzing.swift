/// Parses the header of the safetensors file whose complete contents are `bytes`, as
/// ``SafeTensorsHeader`` does, for the fuzz target (issue 7). SPI, not public API; and the
/// header type itself stays internal, because SPI on it would hide it from the tests'
/// `@testable import`.
/// - Returns: the tensors sorted by name, the `"__metadata__"` object and the data section's
///   offset from the start of the file (`8 + N`).
/// - Throws: `ModelLoadError`, as `SafeTensorsHeader(bytes:path:)`.
@_spi(Fuzzing) public func parseSafeTensorsHeader(
    _ bytes: UnsafeRawBufferPointer, path: String
) throws(ModelLoadError) -> (entries: [TensorEntry], metadata: [String: String], dataOffset: Int) {
    let header = try SafeTensorsHeader(bytes: bytes, path: path)
    return (header.entries, header.metadata, header.dataOffset)
}

/// The fuzz targets (issue 7). Each runs one input through a parser or decoder a client or a checkpoint file
/// can reach, and checks invariants on the result.
///
/// `run(_:)` never traps on an input the code under test handles correctly, whatever the bytes; it traps
/// (`preconditionFailure`) when an invariant breaks, which libFuzzer records as a crash like any other. The raw
/// values name the corpus folders (`Tests/FuzzingTests/Corpus/<rawValue>`).
public enum FuzzTarget: String, CaseIterable, Sendable, Codable {
    /// `HTTPRequestParser` on any bytes: the same events whether the bytes come at once or in pieces.
    case httpParser
    /// `HTTPRequestParser` on a fixed chunked head followed by the input, checked against a reference decoder.
    case chunked
    /// `V2InferenceRequest(body:inferenceHeaderLength:specs:)`: JSON, JSON plus binary data, raw binary.
    case v2Request
    /// `SafeTensorsHeader(bytes:path:)` on the input as a whole safetensors file.
    case safetensorsHeader
    /// `Compression.decode` of the input as gzip and as deflate, with a 64 KiB limit.
    case inflate
    /// `DecodedImage(decoding:as:maxPixels:)` of the input as PNG and as JPEG, with a 1 Mi-pixel cap.
    case imageDecode
    /// JSONKit on any bytes: its readers agree with each other, typed reads with `Float(String)`, and what
    /// `JSONSerialization` accepts it reads to the same values.
    case jsonKit
    /// `MultipartFormData` on a Content-Type line and a body: deterministic, parts within the body and the
    /// limits, and the same parts after writing them out again.
    case multipart

    /// Runs `bytes` through the target and checks its invariants; traps when one breaks.
    public func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .httpParser: HTTPParserFuzz.run(bytes)
        case .chunked: ChunkedFuzz.run(bytes)
        case .v2Request: V2RequestFuzz.run(bytes)
        case .safetensorsHeader: SafeTensorsHeaderFuzz.run(bytes)
        case .inflate: InflateFuzz.run(bytes)
        case .imageDecode: ImageDecodeFuzz.run(bytes)
        case .jsonKit: JSONKitFuzz.run(bytes)
        case .multipart: MultipartFuzz.run(bytes)
        }
    }

    /// Runs `bytes` through the target (see `run(_:)`).
    public func run(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { run($0) }
    }
}

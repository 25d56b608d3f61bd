import Foundation

/// Decoding of request bodies and gzip encoding of responses (RFC 9110 section 8.4.1).
public enum Compression {
    /// Decodes `data`, which is in `coding`, into at most `limit` bytes.
    ///
    /// - gzip: RFC 1952. Concatenated members are accepted and their contents joined (RFC 1952 section 2.2,
    ///   as `gzip -d` does); anything else after a member is refused, trailing zero padding included.
    /// - deflate: HTTP's "deflate" is a zlib stream (RFC 1950, RFC 9110 section 8.4.1.2); raw deflate
    ///   (RFC 1951), which some clients send instead, is accepted when the zlib header is absent.
    /// - identity: `data` itself, if it fits.
    ///
    /// Output is produced in 64 KiB pieces, so at most `limit` bytes plus one piece are ever allocated.
    /// An empty `data` is not a valid gzip or deflate stream: skip decoding for empty bodies.
    /// - Throws: `.tooLarge` as soon as the output would pass `limit`; `.corrupt` for a bad header, a bad
    ///   checksum, truncated input, or bytes after the end of the stream; `.zlibFailure` if zlib cannot start.
    public static func decode(_ data: Data, coding: ContentCoding, limit: Int) throws(CompressionError) -> Data {
        let limit = max(0, limit)
        let result: Result<Data, CompressionError>
        switch coding {
        case .identity:
            guard data.count <= limit else { throw .tooLarge(limit: limit) }
            return data
        case .gzip:
            let inflater = try Inflater.make(format: .gzip)
            result = data.withUnsafeBytes { inflater.inflateAll($0, limit: limit) }
        case .deflate:
            let format: Inflater.Format = data.withUnsafeBytes { Inflater.hasZlibHeader($0) } ? .zlib : .raw
            let inflater = try Inflater.make(format: format)
            result = data.withUnsafeBytes { inflater.inflateAll($0, limit: limit) }
        }
        return try result.get()
    }

    /// gzip-encodes `data` as one RFC 1952 member at `level` (1 fastest ... 9 smallest; 6 is zlib's default).
    /// - Throws: `.invalidLevel` outside -1...9; `.zlibFailure` if zlib cannot start or fails.
    public static func gzip(_ data: Data, level: Int32 = 6) throws(CompressionError) -> Data {
        let deflater = try Deflater.gzip(level: level)
        return try data.withUnsafeBytes { deflater.deflateAll($0) }.get()
    }
}

import Foundation
import HTTPServer

/// The `inflate` target: the input as a request body in `Content-Encoding: gzip`, and in `deflate`, decoded
/// with a 64 KiB limit, so that small bombs reach the limit path.
///
/// Invariants: a failure is a client error (400 or 413), never a zlib failure (500); output never exceeds the
/// limit; the limit is exact (output of n bytes decodes with limit n and fails with `tooLarge` at n - 1); a
/// higher limit only changes a `tooLarge` outcome; the output gzip-encodes and decodes back to itself.
enum InflateFuzz {
    static let limit = 64 * 1024

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let data = Data(bytes)
        check(data, coding: .gzip)
        check(data, coding: .deflate)
    }

    static func decode(_ data: Data, _ coding: ContentCoding, limit: Int) -> Result<Data, CompressionError> {
        Result { () throws(CompressionError) in try Compression.decode(data, coding: coding, limit: limit) }
    }

    static func check(_ data: Data, coding: ContentCoding) {
        let outcome = decode(data, coding, limit: limit)
        let higher = decode(data, coding, limit: 4 * limit)
        switch outcome {
        case .success(let output):
            Invariant.require(output.count <= limit, "\(coding): \(output.count) bytes out, limit \(limit)")
            Invariant.require(higher == outcome, "\(coding): a higher limit gave \(higher)")
            checkExactLimit(data, coding: coding, output: output)
            checkRoundTrip(output)
        case .failure(.tooLarge(let reported)):
            Invariant.require(reported == limit, "\(coding): tooLarge reports limit \(reported), not \(limit)")
            switch higher {
            case .success(let output):
                Invariant.require(output.count > limit, "\(coding): \(output.count) bytes are not over \(limit)")
            case .failure(let error):
                Invariant.require(error.status == 400 || error == .tooLarge(limit: 4 * limit),
                                  "\(coding): a higher limit failed with \(error)")
            }
        case .failure(let error):
            Invariant.require(error.status == 400, "\(coding): client bytes failed with \(error) (\(error.status))")
            Invariant.require(higher == outcome, "\(coding): \(error), but a higher limit gave \(higher)")
        }
    }

    /// `output` is exactly the limit's worth: it decodes with limit `output.count`, not with one byte less.
    static func checkExactLimit(_ data: Data, coding: ContentCoding, output: Data) {
        let atLimit = decode(data, coding, limit: output.count)
        Invariant.require(atLimit == .success(output), "\(coding): limit \(output.count) gave \(atLimit)")
        guard !output.isEmpty else { return }
        let below = decode(data, coding, limit: output.count - 1)
        Invariant.require(below == .failure(.tooLarge(limit: output.count - 1)),
                          "\(coding): limit \(output.count - 1) for \(output.count) bytes gave \(below)")
    }

    /// Our own gzip encoding of `output` decodes back to it.
    static func checkRoundTrip(_ output: Data) {
        let encoded = Result { () throws(CompressionError) in try Compression.gzip(output, level: 1) }
        guard case .success(let gzip) = encoded else {
            return Invariant.require(false, "gzip of \(output.count) bytes failed: \(encoded)")
        }
        let decoded = decode(gzip, .gzip, limit: output.count)
        Invariant.require(decoded == .success(output), "gzip of \(output.count) bytes decoded as \(decoded)")
    }
}

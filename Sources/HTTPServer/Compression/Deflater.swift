import CZlib
import Foundation

/// One zlib deflate stream writing a gzip member (RFC 1952). Owns the `z_stream` (heap-allocated: zlib keeps
/// a pointer back to it) and ends it in `deinit`. Used by one thread at a time.
final class Deflater {
    private let stream: UnsafeMutablePointer<z_stream>

    private init(stream: UnsafeMutablePointer<z_stream>) {
        self.stream = stream
    }

    /// Starts a gzip deflate stream at `level` (0 none, 1 fastest ... 9 smallest, -1 zlib's default of 6).
    /// - Throws: `.invalidLevel` outside -1...9; `.zlibFailure` if zlib cannot start.
    static func gzip(level: Int32) throws(CompressionError) -> Deflater {
        guard (-1...9).contains(level) else { throw .invalidLevel(level) }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // deflateInit2 is a macro around deflateInit2_. windowBits 15 + 16 writes a gzip header and trailer;
        // memLevel 8 is zlib's default.
        let rc = deflateInit2_(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                               ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw .zlibFailure(function: "deflateInit2", code: rc)
        }
        return Deflater(stream: stream)
    }

    deinit {
        deflateEnd(stream)  // Returns Z_DATA_ERROR if the stream was not finished; the memory is freed anyway.
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Compresses all of `input` into one complete gzip member.
    func deflateAll(_ input: UnsafeRawBufferPointer) -> Result<Data, CompressionError> {
        let piece = UnsafeMutableRawBufferPointer.allocate(byteCount: Inflater.pieceSize, alignment: 1)
        defer { piece.deallocate() }
        guard let pieceBase = piece.baseAddress else { return .failure(.zlibFailure(function: "deflate", code: Z_MEM_ERROR)) }
        var output = Data()
        var consumed = 0
        while true {
            if stream.pointee.avail_in == 0, let base = input.baseAddress {
                // avail_in is 32-bit: huge inputs go in 4 GiB slices. zlib never writes through next_in.
                stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
                    + consumed
                stream.pointee.avail_in = UInt32(min(input.count - consumed, Int(UInt32.max)))
            }
            let isLastSlice = consumed + Int(stream.pointee.avail_in) == input.count
            stream.pointee.next_out = pieceBase.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = UInt32(Inflater.pieceSize)
            let inBefore = stream.pointee.avail_in
            let rc = deflate(stream, isLastSlice ? Z_FINISH : Z_NO_FLUSH)
            consumed += Int(inBefore - stream.pointee.avail_in)
            let produced = Inflater.pieceSize - Int(stream.pointee.avail_out)
            output.append(pieceBase.assumingMemoryBound(to: UInt8.self), count: produced)
            switch rc {
            case Z_STREAM_END:
                return .success(output)
            case Z_OK:
                continue
            case Z_BUF_ERROR where produced > 0 || inBefore != stream.pointee.avail_in:
                continue
            default:
                // Z_BUF_ERROR without progress cannot happen with a whole free piece; stop rather than spin.
                return .failure(.zlibFailure(function: "deflate", code: rc))
            }
        }
    }
}

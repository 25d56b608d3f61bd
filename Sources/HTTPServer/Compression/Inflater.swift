import CZlib
import Foundation

/// One zlib inflate stream. Owns the `z_stream` (heap-allocated: zlib keeps a pointer back to it, so it must
/// not move) and ends it in `deinit`. Used by one thread at a time.
final class Inflater {
    /// The framing around the deflate data, as zlib's `windowBits` selects it.
    enum Format {
        /// RFC 1952: header, deflate data, CRC-32 and length trailer.
        case gzip
        /// RFC 1950: two-byte header, deflate data, Adler-32 trailer.
        case zlib
        /// RFC 1951 with no framing and no checksum.
        case raw

        // 15 = the largest window; +16 = expect a gzip wrapper; negative = no wrapper (zlib manual, inflateInit2).
        var windowBits: Int32 {
            switch self {
            case .gzip: return 15 + 16
            case .zlib: return 15
            case .raw: return -15
            }
        }
    }

    /// Decoded bytes are produced in pieces of this size, so memory stays bounded by the limit plus one piece.
    static let pieceSize = 64 * 1024

    private let stream: UnsafeMutablePointer<z_stream>
    private let format: Format

    private init(stream: UnsafeMutablePointer<z_stream>, format: Format) {
        self.stream = stream
        self.format = format
    }

    /// Starts an inflate stream for `format`.
    /// - Throws: `CompressionError.zlibFailure` if zlib cannot start (out of memory).
    static func make(format: Format) throws(CompressionError) -> Inflater {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // inflateInit2 is a macro around inflateInit2_, which checks the header version and struct size.
        let rc = inflateInit2_(stream, format.windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw .zlibFailure(function: "inflateInit2", code: rc)
        }
        return Inflater(stream: stream, format: format)
    }

    deinit {
        inflateEnd(stream)  // Only fails for a stream zlib never started; nothing to do then.
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Decodes all of `input`, which must be exactly one stream (for gzip: one or more members, RFC 1952
    /// section 2.2), and fails with `.tooLarge` as soon as the output would pass `limit` bytes.
    func inflateAll(_ input: UnsafeRawBufferPointer, limit: Int) -> Result<Data, CompressionError> {
        let piece = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.pieceSize, alignment: 1)
        defer { piece.deallocate() }
        guard let pieceBase = piece.baseAddress else { return .failure(.zlibFailure(function: "inflate", code: Z_MEM_ERROR)) }
        var output = Data()
        var consumed = 0
        while true {
            feed(input, from: consumed)
            let room = limit - output.count
            // One byte more than the room left, so output past the limit shows up without allocating it.
            let capacity = room < Self.pieceSize ? room + 1 : Self.pieceSize
            stream.pointee.next_out = pieceBase.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = UInt32(capacity)
            let inBefore = stream.pointee.avail_in
            let rc = inflate(stream, Z_NO_FLUSH)
            consumed += Int(inBefore - stream.pointee.avail_in)
            let produced = capacity - Int(stream.pointee.avail_out)
            guard produced <= room else { return .failure(.tooLarge(limit: limit)) }
            output.append(pieceBase.assumingMemoryBound(to: UInt8.self), count: produced)
            switch rc {
            case Z_OK:
                continue
            case Z_STREAM_END:
                if consumed == input.count { return .success(output) }
                if let failure = startNextMember(input, at: consumed) { return .failure(failure) }
            case Z_BUF_ERROR where consumed == input.count:
                return .failure(.corrupt("truncated: the input ends inside the compressed stream"))
            case Z_NEED_DICT:
                return .failure(.corrupt("the stream needs a preset dictionary"))
            case Z_DATA_ERROR:
                return .failure(.corrupt(zlibMessage ?? "invalid compressed data"))
            default:
                return .failure(.zlibFailure(function: "inflate", code: rc))
            }
        }
    }

    /// Points the stream at the unread input; `avail_in` is 32-bit, so huge inputs go in 4 GiB slices.
    private func feed(_ input: UnsafeRawBufferPointer, from consumed: Int) {
        guard stream.pointee.avail_in == 0, let base = input.baseAddress else { return }
        let count = min(input.count - consumed, Int(UInt32.max))
        // zlib never writes through next_in; the field is only non-const because ZLIB_CONST is not defined.
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self)) + consumed
        stream.pointee.avail_in = UInt32(count)
    }

    /// After a stream end with input left: a further gzip member restarts the stream (nil); anything else is
    /// trailing garbage. Trailing zero padding is refused too, unlike `gzip -d`, which only warns about it.
    private func startNextMember(_ input: UnsafeRawBufferPointer, at offset: Int) -> CompressionError? {
        let left = input.count - offset
        guard format == .gzip, left >= 2, input[offset] == 0x1F, input[offset + 1] == 0x8B else {
            return .corrupt("\(left) bytes after the end of the compressed stream")
        }
        let rc = inflateReset(stream)
        return rc == Z_OK ? nil : .zlibFailure(function: "inflateReset", code: rc)
    }

    private var zlibMessage: String? {
        stream.pointee.msg.map { String(cString: $0) }
    }

    /// Whether `bytes` start with a valid RFC 1950 header: CM 8 (deflate), CINFO at most 7 (32 KiB window),
    /// and CMF·256 + FLG a multiple of 31. Raw deflate data from real encoders never starts this way: CM 8
    /// would be a non-final "stored" block with a 1 in its padding bits, which encoders write as zeros.
    static func hasZlibHeader(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 2 else { return false }
        let cmf = bytes[0], flg = bytes[1]
        return cmf & 0x0F == 8 && cmf >> 4 <= 7 && (UInt16(cmf) << 8 | UInt16(flg)) % 31 == 0
    }
}

import COpenSSL

/// SHA-256 through OpenSSL's EVP interface (the one-shot `SHA256()` is deprecated in OpenSSL 3): a digest of
/// some bytes, or an incremental hasher for inputs too large to copy into one buffer.
public enum SHA256 {
    static let byteCount = 32

    /// The 32-byte digest of `bytes`, or nil when OpenSSL fails (callers treat that as "no match").
    public static func digest(_ bytes: some Collection<UInt8>) -> [UInt8]? {
        var hasher = Hasher()
        Array(bytes).withUnsafeBytes { hasher.update($0) }
        return hasher.finalize()
    }

    /// Whether two digests are equal, in time independent of where they differ (`CRYPTO_memcmp`).
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == byteCount, b.count == byteCount else { return false }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, byteCount) } } == 0
    }

    /// Lowercase hex of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A SHA-256 fed piece by piece. A value that owns an OpenSSL context: use it once, then `finalize()`.
    public struct Hasher: ~Copyable {
        private let context: OpaquePointer?
        private var failed: Bool

        public init() {
            context = EVP_MD_CTX_new()
            failed = context == nil || EVP_DigestInit_ex(context, EVP_sha256(), nil) != 1
        }

        deinit { EVP_MD_CTX_free(context) }

        /// Adds `bytes`.
        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard !failed, bytes.count > 0 else { return }
            failed = EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) != 1
        }

        /// Adds `value`'s bytes in little-endian order.
        public mutating func update(_ value: Int) {
            withUnsafeBytes(of: Int64(value).littleEndian) { update($0) }
        }

        /// Adds `text`'s UTF-8 bytes, then a 0 byte (so that two strings cannot run into each other).
        public mutating func update(_ text: String) {
            var bytes = Array(text.utf8)
            bytes.append(0)
            bytes.withUnsafeBytes { update($0) }
        }

        /// The digest of everything added, or nil when OpenSSL failed.
        public consuming func finalize() -> [UInt8]? {
            guard !failed else { return nil }
            var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            guard EVP_DigestFinal_ex(context, &output, &length) == 1, Int(length) == SHA256.byteCount else { return nil }
            return Array(output.prefix(SHA256.byteCount))
        }
    }
}

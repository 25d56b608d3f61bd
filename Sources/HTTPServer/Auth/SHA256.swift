import COpenSSL

/// SHA-256 through OpenSSL's EVP interface (the one-shot `SHA256()` is deprecated in OpenSSL 3).
enum SHA256 {
    static let byteCount = 32

    /// The 32-byte digest of `bytes`, or nil when OpenSSL fails (callers treat that as "no match").
    static func digest(_ bytes: some Collection<UInt8>) -> [UInt8]? {
        let input = Array(bytes)
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let status = input.withUnsafeBufferPointer { data in
            EVP_Digest(data.baseAddress, data.count, &output, &length, EVP_sha256(), nil)
        }
        guard status == 1, Int(length) == byteCount else { return nil }
        return Array(output.prefix(byteCount))
    }

    /// Whether two digests are equal, in time independent of where they differ (`CRYPTO_memcmp`).
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == byteCount, b.count == byteCount else { return false }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, byteCount) } } == 0
    }
}

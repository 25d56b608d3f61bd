/// Why TLS could not be set up. OpenSSL's reasons are its error strings (`ERR_error_string_n`), joined by "; ".
public enum TLSError: Error, Equatable, Sendable {
    /// `SSL_CTX_new` or one of the context settings failed.
    case contextSetup(step: String, reason: String)
    /// The certificate chain file is missing, unreadable or not PEM certificates.
    case certificate(path: String, reason: String)
    /// The private key file is missing, unreadable, not a PEM key, or does not belong to the certificate.
    case privateKey(path: String, reason: String)
    /// The private key loaded but does not match the certificate (`SSL_CTX_check_private_key`).
    case keyMismatch(certificatePath: String, keyPath: String, reason: String)
    /// `SSL_new` or `SSL_set_fd` failed for one connection.
    case connectionSetup(fd: Int32, reason: String)
}

extension TLSError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .contextSetup(let step, let reason):
            return "TLS setup failed at \(step): \(reason)"
        case .certificate(let path, let reason):
            return "cannot load TLS certificate chain '\(path)': \(reason)"
        case .privateKey(let path, let reason):
            return "cannot load TLS private key '\(path)': \(reason)"
        case .keyMismatch(let certificatePath, let keyPath, let reason):
            return "TLS private key '\(keyPath)' does not match certificate '\(certificatePath)': \(reason)"
        case .connectionSetup(let fd, let reason):
            return "cannot start TLS on socket \(fd): \(reason)"
        }
    }
}

import COpenSSL

/// Server-side TLS configuration: one `SSL_CTX` with TLS 1.2 as the minimum version, loaded from a PEM
/// certificate chain (leaf first) and a PEM private key.
///
/// `@unchecked Sendable`: the context is configured completely in `init` and never mutated afterwards;
/// OpenSSL documents an `SSL_CTX` as safe to share between threads for creating `SSL` objects, and its
/// session cache has its own lock.
///
/// Writes through OpenSSL use `write(2)`, which raises SIGPIPE on a closed peer: the server ignores SIGPIPE
/// process-wide (`signal(SIGPIPE, SIG_IGN)`) before serving TLS.
public final class TLSContext: @unchecked Sendable {
    /// The `SSL_CTX *`; freed in `deinit`. Each `SSL` made from it holds its own reference as well.
    let handle: OpaquePointer

    /// Loads `certificatePath` and `keyPath` and checks that the key belongs to the certificate.
    /// - Throws: `TLSError.certificate` / `.privateKey` naming the file that failed to load, `.keyMismatch`,
    ///   or `.contextSetup`; each carries OpenSSL's error string.
    public init(certificatePath: String, keyPath: String) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        guard let method = TLS_server_method(), let handle = SSL_CTX_new(method) else {
            throw .contextSetup(step: "SSL_CTX_new", reason: OpenSSLErrorQueue.drain())
        }
        self.handle = handle  // From here on a throw runs deinit, which frees the context.
        try configure()
        guard SSL_CTX_use_certificate_chain_file(handle, certificatePath) == 1 else {
            throw .certificate(path: certificatePath, reason: OpenSSLErrorQueue.drain())
        }
        // OpenSSL 3 already refuses here a key whose public half differs from the certificate's
        // ("key values mismatch"); the explicit check below also covers a key of another type.
        guard SSL_CTX_use_PrivateKey_file(handle, keyPath, SSL_FILETYPE_PEM) == 1 else {
            throw .privateKey(path: keyPath, reason: OpenSSLErrorQueue.drain())
        }
        guard SSL_CTX_check_private_key(handle) == 1 else {
            throw .keyMismatch(certificatePath: certificatePath, keyPath: keyPath, reason: OpenSSLErrorQueue.drain())
        }
    }

    deinit {
        SSL_CTX_free(handle)
    }

    /// Protocol floor, options and modes. `SSL_CTX_set_min_proto_version`, `SSL_CTX_set_mode` and
    /// `SSL_CTX_set_session_cache_mode` are macros over `SSL_CTX_ctrl`, which Swift does not import.
    private func configure() throws(TLSError) {
        // TLS 1.0 and 1.1 are deprecated (RFC 8996).
        guard SSL_CTX_ctrl(handle, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil) == 1 else {
            throw .contextSetup(step: "minimum protocol TLS 1.2", reason: OpenSSLErrorQueue.drain())
        }
        // No TLS compression (CRIME) and no client-initiated renegotiation (a CPU-exhaustion vector; TLS 1.3
        // has none anyway). SSL_CTX_set_options returns the new option set; it cannot fail.
        SSL_CTX_set_options(handle, PERCEIVERD_SSL_OP_NO_COMPRESSION | PERCEIVERD_SSL_OP_NO_RENEGOTIATION
                                | PERCEIVERD_SSL_OP_CIPHER_SERVER_PREFERENCE)
        // Non-blocking writes: SSL_write may report fewer bytes than asked (partial write), and the retry after
        // WANT_WRITE may come from a different address when the caller's buffer moved. Returns the new mode.
        let mode = Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER)
        guard SSL_CTX_ctrl(handle, SSL_CTRL_MODE, mode, nil) & mode == mode else {
            throw .contextSetup(step: "SSL mode", reason: OpenSSLErrorQueue.drain())
        }
        // Server-side session cache (the default, made explicit); returns the previous mode.
        SSL_CTX_ctrl(handle, SSL_CTRL_SET_SESS_CACHE_MODE, Int(SSL_SESS_CACHE_SERVER), nil)
    }
}

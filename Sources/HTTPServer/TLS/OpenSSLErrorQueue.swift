import COpenSSL

/// OpenSSL's error queue, which is per thread. Connections hop between Dispatch threads, so every SSL call
/// is preceded by `clear()`: a stale entry left by another connection on this thread would otherwise make
/// `SSL_get_error` misreport the call.
enum OpenSSLErrorQueue {
    /// Empties this thread's queue.
    static func clear() {
        ERR_clear_error()
    }

    /// The queued errors, oldest first, as OpenSSL's strings joined by "; "; empties the queue.
    /// `fallback` when the queue is empty.
    static func drain(fallback: String = "no OpenSSL error reported") -> String {
        var messages: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while case let code = ERR_get_error(), code != 0 {
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? fallback : messages.joined(separator: "; ")
    }

    /// The reason code of the oldest queued error (`ERR_GET_REASON`), without removing it; 0 if none.
    static func firstReason() -> Int32 {
        ERR_GET_REASON(ERR_peek_error())
    }
}

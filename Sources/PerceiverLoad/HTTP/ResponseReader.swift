/// What the client keeps of one response: the status, and whether the connection may carry the next request.
struct ResponseSummary: Equatable, Sendable {
    var status: Int
    var keepsAlive: Bool
}

/// Reads HTTP/1.1 responses (RFC 9112) from one connection and discards their bodies.
/// Owned by one client thread; `reset()` after reconnecting.
final class ResponseReader {
    /// Bytes `start..<end` are received but not yet consumed.
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0

    /// `capacity` also bounds the response head and any one chunk-size or trailer line.
    init(capacity: Int = 64 * 1024) {
        buffer = .allocate(byteCount: capacity, alignment: 8)
    }

    deinit { buffer.deallocate() }

    /// Forgets buffered bytes (a new connection).
    func reset() {
        start = 0
        end = 0
    }

    /// Reads one complete response, skipping interim 1xx responses (RFC 9110 section 15.2).
    /// - Throws: `ClientError` for socket failures, early close and malformed responses.
    func read(from socket: ClientSocket) throws(ClientError) -> ResponseSummary {
        while true {
            let head = try ResponseHead(try readHead(from: socket))
            if (100..<200).contains(head.status) && head.status != 101 { continue }
            switch head.framing {
            case .none: break
            case .length(let count): try skip(count, from: socket)
            case .chunked: try skipChunked(from: socket)
            case .untilClose:
                try drain(socket)
                return ResponseSummary(status: head.status, keepsAlive: false)
            }
            return ResponseSummary(status: head.status, keepsAlive: head.keepsAlive)
        }
    }

    /// The head up to and excluding the blank line, consumed from the buffer.
    private func readHead(from socket: ClientSocket) throws(ClientError) -> String {
        var scanned = start
        while true {
            if let blank = find([13, 10, 13, 10], from: scanned) {
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[start..<blank]), as: UTF8.self)
                start = blank + 4
                return text
            }
            // Everything before the last 3 bytes has been searched; keep that across compaction.
            let searched = max(0, end - 3 - start)
            try fill(from: socket)
            scanned = start + searched
        }
    }

    /// One line without its CRLF, consumed from the buffer (chunk sizes and trailers).
    private func readLine(from socket: ClientSocket) throws(ClientError) -> String {
        while true {
            if let crlf = find([13, 10], from: start) {
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[start..<crlf]), as: UTF8.self)
                start = crlf + 2
                return text
            }
            try fill(from: socket)
        }
    }

    /// RFC 9112 section 7.1: size lines (extensions after `;` ignored), data, CRLF; a zero size, then trailers.
    private func skipChunked(from socket: ClientSocket) throws(ClientError) {
        while true {
            let line = try readLine(from: socket)
            let digits = line.prefix { $0 != ";" }.trimmingSpaces
            guard !digits.isEmpty, let size = Int(digits, radix: 16), size >= 0 else { throw .badChunk }
            if size == 0 { break }
            try skip(size, from: socket)
            guard try readLine(from: socket).isEmpty else { throw .badChunk }
        }
        while try !readLine(from: socket).isEmpty {}
    }

    /// Consumes `count` body bytes, buffered first.
    private func skip(_ count: Int, from socket: ClientSocket) throws(ClientError) {
        var remaining = count
        while remaining > 0 {
            if start == end { try fill(from: socket) }
            let taken = min(remaining, end - start)
            start += taken
            remaining -= taken
        }
    }

    /// A body delimited by the end of the connection (RFC 9112 section 6.3, rule 8).
    private func drain(_ socket: ClientSocket) throws(ClientError) {
        reset()
        while try socket.receive(into: buffer) > 0 {}
    }

    /// Receives more bytes after `end`, moving unconsumed bytes to the front when the buffer is full.
    private func fill(from socket: ClientSocket) throws(ClientError) {
        if start == end {
            reset()
        } else if end == buffer.count {
            guard start > 0, let base = buffer.baseAddress else { throw .headTooLarge(limit: buffer.count) }
            let pending = end - start
            base.copyMemory(from: base + start, byteCount: pending)
            start = 0
            end = pending
        }
        let count = try socket.receive(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
        guard count > 0 else { throw .closedEarly }
        end += count
    }

    /// The index of the first `pattern` in `from..<end`.
    private func find(_ pattern: [UInt8], from: Int) -> Int? {
        var index = max(from, start)
        while index + pattern.count <= end {
            if buffer[index] == pattern[0], pattern.indices.allSatisfy({ buffer[index + $0] == pattern[$0] }) {
                return index
            }
            index += 1
        }
        return nil
    }
}

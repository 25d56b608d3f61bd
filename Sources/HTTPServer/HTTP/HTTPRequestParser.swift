import Foundation

/// An incremental HTTP/1.1 request parser (RFC 9112): bytes go in with `append`, events come out of `next()`.
///
/// For each request `next()` returns `.head` once, as soon as the header section is complete, then `.request`
/// once the body is. Bytes after a request stay buffered for the next one (pipelining, RFC 9112 section 9.3.2).
/// Parsing is strict wherever leniency could let two parsers disagree on framing (request smuggling):
/// every line must end in CRLF, obs-fold is refused, and `Transfer-Encoding` beside `Content-Length` is refused.
/// A value type: it belongs to whichever queue owns the connection.
public struct HTTPRequestParser: Sendable {
    /// Where the parser is inside the current request.
    enum Phase: Sendable, Equatable {
        /// Waiting for the request line; empty lines before it are skipped (RFC 9112 section 2.2).
        case requestLine
        /// Inside the header section (RFC 9112 section 5).
        case headerFields
        /// `.head` returned; `remaining` bytes of a Content-Length body still to come (0: no body).
        case fixedBody(remaining: Int)
        /// Waiting for a chunk-size line (RFC 9112 section 7.1).
        case chunkSize
        /// Inside a chunk's data, `remaining` bytes still to come.
        case chunkData(remaining: Int)
        /// Waiting for the CRLF that ends a chunk's data.
        case chunkDataEnd
        /// Inside the trailer section after the last chunk (RFC 9112 section 7.1.2).
        case trailerFields
        /// `next()` threw this error; it throws it again and `append` drops its bytes.
        case failed(HTTPParseError)
    }

    /// What one parsing step achieved.
    enum Progress {
        /// The buffered bytes end inside the current element.
        case needsMoreBytes
        /// An element was consumed; keep going.
        case advanced
        /// An element completed an event.
        case event(HTTPParserEvent)
    }

    /// A buffer this much larger than its content is released once empty, so that an idle connection does not
    /// keep the capacity a large chunked body needed.
    static let retainedCapacity = 1 << 20
    /// Consumed bytes are moved out of the buffer once there are this many and they are at least half of it,
    /// which keeps compaction amortized linear.
    static let compactionThreshold = 4096

    let limits: HTTPParserLimits
    /// Received bytes; the ones before `readIndex` are consumed and dropped by a later `append`.
    var buffer: [UInt8] = []
    /// The first unconsumed byte of `buffer`.
    var readIndex = 0
    /// Where the search for the current line's LF resumes, so that no byte is scanned twice.
    var scanIndex = 0
    var phase = Phase.requestLine
    /// The request being parsed: set by the request line, completed by the field lines.
    var head = HTTPRequestHead(method: "", target: "", version: .http1_1, headers: HTTPHeaders())
    /// The de-framed body received so far.
    var body = Data()
    /// Bytes (CRLFs included) of the current header or trailer section's field lines, for `maxHeaderBytes`.
    var sectionBytes = 0
    /// Field lines of the current header or trailer section, for `maxHeaderCount`.
    var sectionFields = 0

    /// A parser enforcing `limits` on every request of one connection.
    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        self.limits = limits
    }

    /// Appends bytes read from the connection.
    ///
    /// Bytes of a Content-Length body that arrive while nothing else is buffered go straight into the body,
    /// so a large upload is copied once.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if case .failed = phase { return }
        var rest = bytes
        if case .fixedBody(let remaining) = phase, remaining > 0, readIndex == buffer.count {
            let taken = min(remaining, rest.count)
            body.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[..<taken]))
            phase = .fixedBody(remaining: remaining - taken)
            rest = UnsafeRawBufferPointer(rebasing: rest[taken...])
        }
        guard !rest.isEmpty else { return }
        compact()
        buffer.append(contentsOf: rest)
    }

    /// Appends bytes read from the connection (a convenience for tests and small writes).
    public mutating func append(_ bytes: some Collection<UInt8>) {
        let appended = bytes.withContiguousStorageIfAvailable { storage -> Bool in
            append(UnsafeRawBufferPointer(storage))
            return true
        }
        if appended == nil {
            Array(bytes).withUnsafeBytes { append($0) }
        }
    }

    /// The next event the buffered bytes complete, or nil when more bytes are needed.
    ///
    /// After it throws, the parser is unusable (the connection answers `error.status` and closes): later calls
    /// throw the same error.
    /// - Throws: `HTTPParseError` when the bytes are not an acceptable request or exceed `limits`.
    public mutating func next() throws(HTTPParseError) -> HTTPParserEvent? {
        do throws(HTTPParseError) {
            while true {
                switch try step() {
                case .needsMoreBytes: return nil
                case .advanced: continue
                case .event(let event): return event
                }
            }
        } catch {
            phase = .failed(error)
            buffer = []
            readIndex = 0
            scanIndex = 0
            body = Data()
            throw error
        }
    }

    /// The body bytes the current request's head declared and that have not arrived yet: its `Content-Length`
    /// right after `.head`; 0 for a chunked body (whose size is unknown) or no body.
    public var declaredBodyBytes: Int {
        if case .fixedBody(let remaining) = phase { return remaining + body.count }
        return 0
    }

    /// Body bytes of the current request received so far (de-framed).
    public var bufferedBodyBytes: Int { body.count }

    /// True when bytes of an unfinished request are buffered (the connection uses it to choose between the
    /// read timeout and the idle timeout).
    public var isMidRequest: Bool {
        switch phase {
        case .requestLine: return readIndex < buffer.count
        case .failed: return false
        default: return true
        }
    }

    /// Parses one element of the current phase.
    mutating func step() throws(HTTPParseError) -> Progress {
        switch phase {
        case .requestLine: return try readRequestLine()
        case .headerFields: return try readHeaderField()
        case .fixedBody(let remaining): return readFixedBody(remaining: remaining)
        case .chunkSize: return try readChunkSize()
        case .chunkData(let remaining): return readChunkData(remaining: remaining)
        case .chunkDataEnd: return try readChunkDataEnd()
        case .trailerFields: return try readTrailerField()
        case .failed(let error): throw error
        }
    }

    /// Moves what has arrived of a Content-Length body into `body`; the request once all of it has.
    mutating func readFixedBody(remaining: Int) -> Progress {
        let left = remaining - moveToBody(upTo: remaining)
        guard left == 0 else {
            phase = .fixedBody(remaining: left)
            return .needsMoreBytes
        }
        return .event(.request(finishRequest()))
    }

    /// Moves up to `limit` buffered bytes into `body` in one copy; returns how many it moved.
    mutating func moveToBody(upTo limit: Int) -> Int {
        let count = min(limit, buffer.count - readIndex)
        guard count > 0 else { return 0 }
        let range = readIndex..<readIndex + count
        buffer.withUnsafeBytes { body.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[range])) }
        readIndex += count
        scanIndex = readIndex
        return count
    }

    /// The completed request; the parser is ready for the next one.
    mutating func finishRequest() -> HTTPRequest {
        let request = HTTPRequest(head: head, body: body)
        body = Data()
        phase = .requestLine
        compact()
        return request
    }

    /// Drops consumed bytes from the front of the buffer when that is cheap enough to stay amortized linear.
    /// Invalidates line ranges, so it runs only between elements: on `append` and at the end of a request.
    mutating func compact() {
        if readIndex == buffer.count {
            if buffer.capacity > Self.retainedCapacity {
                buffer = []
            } else {
                buffer.removeAll(keepingCapacity: true)
            }
        } else if readIndex >= Self.compactionThreshold && readIndex >= buffer.count / 2 {
            buffer.removeSubrange(..<readIndex)
        } else {
            return
        }
        scanIndex -= readIndex
        readIndex = 0
    }
}

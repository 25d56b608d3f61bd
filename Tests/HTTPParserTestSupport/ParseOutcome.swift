import HTTPServer

/// Everything an `HTTPRequestParser` gave for one way of feeding it bytes: its events in order, the error that
/// ended them, if any, and whether it was inside a request after the last byte. The parser tests compare the
/// outcomes of one input split in different places; the `httpParser` and `chunked` fuzz targets check their
/// invariants on them.
public struct ParseOutcome: Equatable, CustomStringConvertible {
    /// The events, in the order `next()` gave them.
    public var events: [HTTPParserEvent] = []
    /// The error that ended the events, if any.
    public var error: HTTPParseError?
    /// Whether the parser was inside a request after the last byte (false after an error).
    public var isMidRequest = false

    /// An outcome stated directly, for comparing with one that was run.
    public init(events: [HTTPParserEvent], error: HTTPParseError? = nil, isMidRequest: Bool = false) {
        self.events = events
        self.error = error
        self.isMidRequest = isMidRequest
    }

    /// Feeds `bytes` to a fresh parser in pieces ending at each of `cuts` (ascending offsets) and at the end,
    /// draining `next()` after each append as a connection does. After an error, `afterError` is given the
    /// failed parser and the error (the fuzz targets check that the parser stays failed).
    public init(feeding bytes: UnsafeRawBufferPointer, cuts: [Int] = [], limits: HTTPParserLimits,
                afterError: (inout HTTPRequestParser, HTTPParseError) -> Void = { _, _ in }) {
        var parser = HTTPRequestParser(limits: limits)
        var start = 0
        for end in cuts + [bytes.count] where end >= start {
            parser.append(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
            start = end
            do throws(HTTPParseError) {
                while let event = try parser.next() { events.append(event) }
            } catch {
                self.error = error
                afterError(&parser, error)
                return
            }
        }
        isMidRequest = parser.isMidRequest
    }

    /// `init(feeding:cuts:limits:afterError:)` over an array's bytes.
    public init(feeding bytes: [UInt8], cuts: [Int] = [], limits: HTTPParserLimits) {
        self = bytes.withUnsafeBytes { ParseOutcome(feeding: $0, cuts: cuts, limits: limits) }
    }

    /// The events in short (`head(GET /)`, `request(POST /x, 12 B)`), the error and the final state.
    public var description: String {
        let events = events.map { event -> String in
            switch event {
            case .head(let head): return "head(\(head.method) \(head.target))"
            case .request(let request):
                return "request(\(request.method) \(request.head.target), \(request.body.count) B)"
            }
        }
        return "\(events) error: \(error.map { "\($0)" } ?? "none") midRequest: \(isMidRequest)"
    }
}

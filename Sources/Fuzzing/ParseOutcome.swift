import HTTPServer

/// Everything an `HTTPRequestParser` gave for one way of feeding it bytes: its events in order, the error that
/// ended them, if any, and whether it was inside a request after the last byte.
struct ParseOutcome: Equatable, CustomStringConvertible {
    var events: [HTTPParserEvent] = []
    var error: HTTPParseError?
    var isMidRequest = false

    /// An outcome stated directly (for the checks' own tests).
    init(events: [HTTPParserEvent], error: HTTPParseError? = nil, isMidRequest: Bool = false) {
        self.events = events
        self.error = error
        self.isMidRequest = isMidRequest
    }

    /// Feeds `bytes` to a fresh parser in pieces ending at each of `cuts` (ascending offsets) and at the end,
    /// draining `next()` after each append as a connection does.
    init(feeding bytes: UnsafeRawBufferPointer, cuts: [Int] = [], limits: HTTPParserLimits) {
        var parser = HTTPRequestParser(limits: limits)
        var start = 0
        for end in cuts + [bytes.count] where end >= start {
            parser.append(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
            start = end
            do throws(HTTPParseError) {
                while let event = try parser.next() { events.append(event) }
            } catch {
                self.error = error
                Self.checkStaysFailed(&parser, with: error)
                return
            }
        }
        isMidRequest = parser.isMidRequest
    }

    /// After an error the parser is unusable: it drops appended bytes and throws the same error again.
    private static func checkStaysFailed(_ parser: inout HTTPRequestParser, with error: HTTPParseError) {
        Invariant.require(!parser.isMidRequest, "a failed parser reports being inside a request")
        parser.append("GET / HTTP/1.1\r\n\r\n".utf8)
        do throws(HTTPParseError) {
            let event = try parser.next()
            Invariant.require(false, "a failed parser gave \(String(describing: event)) after \(error)")
        } catch let again {
            Invariant.require(again == error, "a failed parser threw \(error), then \(again)")
        }
    }

    var description: String {
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

import Foundation
import Testing
@testable import HTTPServer
import Support

/// Which `HTTPParseError` case, without its message: what the case table states.
enum ParseErrorKind: Sendable, Equatable {
    case badRequestLine, requestLineTooLong, badHeader, headersTooLarge, badContentLength, bodyTooLarge
    case conflictingFraming, unsupportedTransferEncoding, badChunk, unsupportedVersion

    init(_ error: HTTPParseError) {
        switch error {
        case .badRequestLine: self = .badRequestLine
        case .requestLineTooLong: self = .requestLineTooLong
        case .badHeader: self = .badHeader
        case .headersTooLarge: self = .headersTooLarge
        case .badContentLength: self = .badContentLength
        case .bodyTooLarge: self = .bodyTooLarge
        case .conflictingFraming: self = .conflictingFraming
        case .unsupportedTransferEncoding: self = .unsupportedTransferEncoding
        case .badChunk: self = .badChunk
        case .unsupportedVersion: self = .unsupportedVersion
        }
    }
}

/// One row of the parser table: raw bytes, the events they give and the error that ends them, if any.
struct ParserCase: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let events: [HTTPParserEvent]
    let error: ParseErrorKind?
    let limits: HTTPParserLimits

    var testDescription: String { name }

    /// Bytes that parse into `requests`, each as `.head` then `.request`.
    static func accepts(_ name: String, _ raw: String, _ requests: HTTPRequest...,
                        limits: HTTPParserLimits = HTTPParserLimits()) -> ParserCase {
        accepts(name, Array(raw.utf8), requests, limits: limits)
    }

    static func accepts(_ name: String, _ bytes: [UInt8], _ requests: [HTTPRequest],
                        limits: HTTPParserLimits = HTTPParserLimits()) -> ParserCase {
        ParserCase(name: name, bytes: bytes, events: requests.flatMap(events(of:)), error: nil, limits: limits)
    }

    /// Bytes that fail with `kind`, after giving `events` (by default none).
    static func rejects(_ name: String, _ raw: String, _ kind: ParseErrorKind, after events: [HTTPParserEvent] = [],
                        limits: HTTPParserLimits = HTTPParserLimits()) -> ParserCase {
        rejects(name, Array(raw.utf8), kind, after: events, limits: limits)
    }

    static func rejects(_ name: String, _ bytes: [UInt8], _ kind: ParseErrorKind,
                        after events: [HTTPParserEvent] = [],
                        limits: HTTPParserLimits = HTTPParserLimits()) -> ParserCase {
        ParserCase(name: name, bytes: bytes, events: events, error: kind, limits: limits)
    }

    /// The events a complete request gives.
    static func events(of request: HTTPRequest) -> [HTTPParserEvent] {
        [.head(request.head), .request(request)]
    }
}

/// A request head as the parser should build it.
func parsedHead(_ method: String, _ target: String, _ headers: [(String, String)] = [],
                version: HTTPVersion = .http1_1) -> HTTPRequestHead {
    HTTPRequestHead(method: method, target: target, version: version, headers: HTTPHeaders(headers))
}

/// A request as the parser should build it.
func parsedRequest(_ method: String, _ target: String, _ headers: [(String, String)] = [], body: String = "",
                   version: HTTPVersion = .http1_1) -> HTTPRequest {
    HTTPRequest(head: parsedHead(method, target, headers, version: version), body: Data(body.utf8))
}

/// `count` bytes of a fixed pseudo-random pattern, for bodies whose every byte is checked.
func pseudoRandomBytes(_ count: Int) -> [UInt8] {
    var generator = SplitMix64(seed: 2_463_534_242)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
}

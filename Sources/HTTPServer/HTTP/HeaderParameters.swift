/// A header value of the form `head *( OWS ";" OWS [ name "=" value ] )`, where the head is a media type
/// (`multipart/form-data`) or a disposition type (`form-data`) and each value is a token or a quoted-string
/// (RFC 9110 sections 5.6.6 and 8.3.1, RFC 6266 section 4.1). Strict: no whitespace around `=`, every quoted
/// string closed, no control byte but HTAB inside one, no parameter named twice.
struct HeaderParameters {
    /// Why a value does not parse, for the caller's error.
    struct Malformed: Error {
        var reason: String
    }

    /// The head as sent: one or more token bytes or `/`.
    var head: ArraySlice<UInt8>
    /// The parameters in order, names lower-cased (they are case-insensitive), values with quoted-string
    /// escapes removed.
    var parameters: [(name: String, value: [UInt8])] = []
    /// The names in `parameters`, so that finding a repeated one costs the same however many there are (a
    /// part's 8 KiB header line holds up to 2,000 parameters).
    private var names: Set<String> = []

    /// - Throws: `Malformed` saying what is wrong.
    init(_ bytes: ArraySlice<UInt8>) throws(Malformed) {
        var index = bytes.startIndex
        while index < bytes.endIndex, HTTPSyntax.isTokenByte(bytes[index]) || bytes[index] == UInt8(ascii: "/") {
            index += 1
        }
        head = bytes[bytes.startIndex..<index]
        guard !head.isEmpty else { throw Malformed(reason: "expected a type before the parameters") }
        while true {
            index = Self.skippingWhitespace(bytes, from: index)
            guard index < bytes.endIndex else { return }
            guard bytes[index] == HTTPSyntax.semicolon else {
                throw Malformed(reason: "expected ';' at byte \(index - bytes.startIndex)")
            }
            index = Self.skippingWhitespace(bytes, from: index + 1)
            // RFC 9110 section 5.6.6 lets a parameter be empty (`a;;b=c`, a trailing `;`).
            guard index < bytes.endIndex, bytes[index] != HTTPSyntax.semicolon else { continue }
            index = try parseParameter(bytes, from: index)
        }
    }

    /// The value of the parameter `name` (lower case), or nil.
    func value(_ name: String) -> [UInt8]? {
        parameters.first { $0.name == name }?.value
    }

    /// Reads `name "=" value` at `start` into `parameters`; returns the index after it.
    private mutating func parseParameter(_ bytes: ArraySlice<UInt8>, from start: Int) throws(Malformed) -> Int {
        var index = start
        while index < bytes.endIndex, HTTPSyntax.isTokenByte(bytes[index]) { index += 1 }
        guard index > start else {
            throw Malformed(reason: "expected a parameter name at byte \(start - bytes.startIndex)")
        }
        let name = String(decoding: bytes[start..<index], as: UTF8.self).lowercased()
        guard index < bytes.endIndex, bytes[index] == HTTPSyntax.equals else {
            throw Malformed(reason: "parameter '\(name)' has no '=' right after its name")
        }
        guard names.insert(name).inserted else { throw Malformed(reason: "parameter '\(name)' given twice") }
        index += 1
        let value: [UInt8]
        if index < bytes.endIndex, bytes[index] == HTTPSyntax.quote {
            (value, index) = try Self.quotedString(bytes, from: index, parameter: name)
        } else {
            let valueStart = index
            while index < bytes.endIndex, HTTPSyntax.isTokenByte(bytes[index]) { index += 1 }
            guard index > valueStart else { throw Malformed(reason: "parameter '\(name)' has no value") }
            value = Array(bytes[valueStart..<index])
        }
        parameters.append((name, value))
        return index
    }

    /// The content of the quoted-string at `start` (a DQUOTE) with each quoted-pair replaced by its byte, and
    /// the index after the closing DQUOTE (RFC 9110 section 5.6.4).
    private static func quotedString(_ bytes: ArraySlice<UInt8>, from start: Int,
                                     parameter: String) throws(Malformed) -> ([UInt8], Int) {
        var value: [UInt8] = []
        var index = start + 1
        while index < bytes.endIndex {
            var byte = bytes[index]
            if byte == HTTPSyntax.quote { return (value, index + 1) }
            if byte == HTTPSyntax.backslash {
                index += 1
                guard index < bytes.endIndex else { break }
                byte = bytes[index]
            }
            // qdtext and quoted-pair allow HTAB, SP, visible ASCII and obs-text: no other control byte.
            guard byte == HTTPSyntax.htab || (byte >= 0x20 && byte != 0x7F) else {
                throw Malformed(reason: "control byte in the value of '\(parameter)'")
            }
            value.append(byte)
            index += 1
        }
        throw Malformed(reason: "unterminated quoted string in '\(parameter)'")
    }

    private static func skippingWhitespace(_ bytes: ArraySlice<UInt8>, from start: Int) -> Int {
        var index = start
        while index < bytes.endIndex, HTTPSyntax.isWhitespace(bytes[index]) { index += 1 }
        return index
    }
}

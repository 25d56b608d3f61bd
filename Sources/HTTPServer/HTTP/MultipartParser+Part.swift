import Foundation

extension MultipartParser {
    /// A part's field lines, split into name and value, as sent.
    typealias Fields = [(name: ArraySlice<UInt8>, value: ArraySlice<UInt8>)]

    /// Reads the header section starting at `start` up to and including its empty line, counting it against
    /// `maxHeaderBytes` (field lines with their CRLFs, as the request parser counts) and `maxHeaderLines`.
    /// Each line is searched for only as far as the byte budget reaches, so a long line costs no more than it.
    /// - Returns: the field lines, and the offset of the content after the empty line.
    /// - Throws: `.partHeadersTooLarge`, `.tooManyPartHeaderLines`, `.bareLineFeed`, `.malformedPartHeader`, or
    ///   `.missingClosingDelimiter` when the body ends inside the section.
    func headerSection(from start: Int, part: Int) throws(MultipartError) -> (fields: Fields, contentStart: Int) {
        var fields: Fields = []
        var sectionBytes = 0
        var index = start
        while true {
            // A field line of L bytes costs L + 2; the empty line is free, so its LF may always be at index + 1.
            let longest = max(limits.maxHeaderBytes - sectionBytes - 2, 0)
            let searchEnd = min(bytes.count, index + longest + 2)
            guard let lf = bytes[index..<searchEnd].firstIndex(of: HTTPSyntax.lf) else {
                if searchEnd == bytes.count { throw .missingClosingDelimiter }
                throw .partHeadersTooLarge(part: part, limit: limits.maxHeaderBytes)
            }
            guard lf > index && bytes[lf - 1] == HTTPSyntax.cr else { throw .bareLineFeed(part: part) }
            let line = index..<(lf - 1)
            index = lf + 1
            if line.isEmpty { return (fields, index) }
            sectionBytes += line.count + 2
            guard fields.count < limits.maxHeaderLines else {
                throw .tooManyPartHeaderLines(part: part, limit: limits.maxHeaderLines)
            }
            do {
                fields.append(try HTTPSyntax.parseFieldLine(Array(bytes[line])[...]))
            } catch {
                guard case .badHeader(let why) = error else { throw .malformedPartHeader(part: part, "\(error)") }
                throw .malformedPartHeader(part: part, why)
            }
        }
    }

    /// The part that `fields` describe (RFC 7578 section 4): exactly one `Content-Disposition: form-data` with a
    /// non-empty `name` and an optional `filename`, at most one `Content-Type`, at most one
    /// `Content-Transfer-Encoding` and only an identity one; other fields kept but ignored (section 4.8).
    /// - Throws: `.repeatedPartHeader`, `.unsupportedTransferEncoding`, `.missingContentDisposition`,
    ///   `.malformedDisposition`, `.notFormDataPart`, `.extendedParameter`, `.missingName` or `.nameTooLong`.
    static func part(_ fields: Fields, range: Range<Int>, number: Int,
                     limits: MultipartLimits) throws(MultipartError) -> MultipartPart {
        var headers = HTTPHeaders()
        var disposition: ArraySlice<UInt8>?
        var contentType: String?
        for (rawName, rawValue) in fields {
            let name = String(decoding: rawName, as: UTF8.self), value = String(decoding: rawValue, as: UTF8.self)
            if name.caseInsensitiveEquals("Content-Disposition") {
                guard disposition == nil else { throw .repeatedPartHeader(part: number, name: name) }
                disposition = rawValue
            } else if name.caseInsensitiveEquals("Content-Type") {
                guard contentType == nil else { throw .repeatedPartHeader(part: number, name: name) }
                contentType = value
            } else if name.caseInsensitiveEquals("Content-Transfer-Encoding") {
                // RFC 7578 section 4.7 deprecates the field; binary, 8bit and 7bit leave the content as sent.
                guard headers[name] == nil else { throw .repeatedPartHeader(part: number, name: name) }
                guard ["binary", "8bit", "7bit"].contains(where: { value.caseInsensitiveEquals($0) }) else {
                    throw .unsupportedTransferEncoding(part: number, encoding: value)
                }
            }
            headers.add(name: name, value: value)
        }
        guard let disposition else { throw .missingContentDisposition(part: number) }
        let (name, filename) = try names(disposition, part: number, limits: limits)
        return MultipartPart(name: name, filename: filename, contentType: contentType, headers: headers, range: range)
    }

    /// The `name` and `filename` of a `Content-Disposition` value (RFC 7578 section 4.2): quoted-string escapes
    /// removed and nothing else decoded (a percent-encoding stays as sent); no control byte, valid UTF-8.
    static func names(_ disposition: ArraySlice<UInt8>, part: Int,
                      limits: MultipartLimits) throws(MultipartError) -> (name: String, filename: String?) {
        let parameters: HeaderParameters
        do {
            parameters = try HeaderParameters(disposition)
        } catch {
            throw .malformedDisposition(part: part, error.reason)
        }
        let type = String(decoding: parameters.head, as: UTF8.self)
        guard type.caseInsensitiveEquals("form-data") else { throw .notFormDataPart(part: part, disposition: type) }
        for extended in ["name*", "filename*"] where parameters.value(extended) != nil {
            throw .extendedParameter(part: part, name: extended)
        }
        guard let name = parameters.value("name"), !name.isEmpty else { throw .missingName(part: part) }
        let filename = parameters.value("filename")
        for value in [name, filename ?? []] {
            guard value.count <= limits.maxNameBytes else { throw .nameTooLong(part: part, limit: limits.maxNameBytes) }
        }
        return (try decoded(name, "name", part: part), try filename.map { value throws(MultipartError) in
            try decoded(value, "filename", part: part)
        })
    }

    /// `bytes` as a String, refusing control bytes (HTAB and DEL included) and invalid UTF-8.
    static func decoded(_ bytes: [UInt8], _ parameter: String, part: Int) throws(MultipartError) -> String {
        guard bytes.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else {
            throw .malformedDisposition(part: part, "control byte in \(parameter)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .malformedDisposition(part: part, "\(parameter) is not UTF-8")
        }
        return text
    }
}

extension Compression {
    /// Chooses the response coding for an `Accept-Encoding` value (RFC 9110 section 12.5.3): `.gzip` when gzip
    /// is acceptable (q > 0, named or through `*`) and an explicit `identity` entry does not rank higher;
    /// otherwise `.identity`, also when the header is absent.
    ///
    /// A named coding overrides `*` (`gzip;q=0, *` is identity). `x-gzip` counts as gzip. An entry with a
    /// malformed q-value is ignored; if gzip is listed twice, the lower q wins, so an exclusion is never lost.
    /// When even identity is excluded (`*;q=0`) the answer is still `.identity`: sending it uncoded beats a
    /// 406 (RFC 9110 section 12.5.3 allows either).
    public static func preferredCoding(acceptEncoding: String?) -> ContentCoding {
        guard let acceptEncoding else { return .identity }
        var gzipQ: Int?, identityQ: Int?, wildcardQ: Int?
        for element in acceptEncoding.split(separator: ",") {
            guard let (coding, q) = parseElement(element) else { continue }
            if coding.caseInsensitiveEquals("gzip") || coding.caseInsensitiveEquals("x-gzip") {
                gzipQ = min(gzipQ ?? q, q)
            } else if coding.caseInsensitiveEquals("identity") {
                identityQ = min(identityQ ?? q, q)
            } else if coding == "*" {
                wildcardQ = min(wildcardQ ?? q, q)
            }
        }
        let gzip = gzipQ ?? wildcardQ ?? 0
        guard gzip > 0 else { return .identity }
        if let identityQ, identityQ > gzip { return .identity }
        return .gzip
    }

    /// `codings *( OWS ";" OWS name "=" value )` → the coding and its q in thousandths (1000 without `q`);
    /// nil for an empty element or a malformed q-value.
    private static func parseElement(_ element: Substring) -> (Substring, Int)? {
        let parts = element.split(separator: ";", omittingEmptySubsequences: false)
        guard let first = parts.first else { return nil }
        let coding = first.trimmingSpaces()
        guard !coding.isEmpty else { return nil }
        var q = 1000
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, pair[0].trimmingSpaces().caseInsensitiveEquals("q") else { continue }
            guard let value = parseQValue(pair[1].trimmingSpaces()) else { return nil }
            q = value
        }
        return (coding, q)
    }

    /// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` (RFC 9110 section 12.4.2), in thousandths.
    static func parseQValue(_ text: Substring) -> Int? {
        let bytes = Array(text.utf8)
        guard let whole = bytes.first, whole == UInt8(ascii: "0") || whole == UInt8(ascii: "1") else { return nil }
        var value = Int(whole - UInt8(ascii: "0")) * 1000
        guard bytes.count > 1 else { return value }
        let fraction = bytes.dropFirst(2)
        guard bytes[1] == UInt8(ascii: "."), fraction.count <= 3,
              fraction.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        var scale = 100
        for digit in fraction {
            value += Int(digit - UInt8(ascii: "0")) * scale
            scale /= 10
        }
        return value <= 1000 ? value : nil
    }
}

import Foundation
import HTTPServer

/// The hostile-input catalog: each case is sent on its own connection to `HostileDaemon` (limits in
/// `HostileDaemon.configuration`), and after each the daemon must still serve another client.
/// Framing decisions (docs/security.md "Hostile input"): Content-Length beside Transfer-Encoding, differing
/// Content-Lengths, any coding but a lone `chunked`, obs-fold and bare LF or CR are all refused with 400 (501
/// for unknown codings) and the connection closed; identical repeated Content-Lengths are accepted
/// (RFC 9110 section 8.6).
enum HostileCatalog {
    typealias C = HostileCase
    static let ok = #"{"inputs":[{"name":"input_ids","shape":[1,3],"datatype":"INT64","data":[4,50,5]}]}"#
    static let okHead = "POST /v2/models/seqcls/infer HTTP/1.1\r\n" + C.host

    static let cases: [HostileCase] = smuggling + chunks + headers + bodies + tensors + binary + compression

    static let smuggling: [HostileCase] = [
        C.raw("CL with TE", okHead + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
              "both Content-Length and Transfer-Encoding"),
        C.raw("TE with CL", okHead + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n", 400,
              "both Content-Length and Transfer-Encoding"),
        C.raw("two different Content-Lengths", okHead + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400,
              "differing values"),
        C.raw("Content-Length list that disagrees", okHead + "Content-Length: 4, 5\r\n\r\nabcd", 400, "differing values"),
        C.raw("Content-Length with a sign", okHead + "Content-Length: +4\r\n\r\nabcd", 400, "not a decimal number"),
        C.raw("Content-Length in hex", okHead + "Content-Length: 0x4\r\n\r\nabcd", 400, "not a decimal number"),
        C.raw("negative Content-Length", okHead + "Content-Length: -1\r\n\r\n", 400, "not a decimal number"),
        C.raw("Content-Length beyond 64 bits", okHead + "Content-Length: 123456789012345678901234567890\r\n\r\n", 413,
              "larger than the limit"),
        C.raw("chunked not last", okHead + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 501,
              "unsupported Transfer-Encoding"),
        C.raw("gzip transfer coding", okHead + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501,
              "unsupported Transfer-Encoding"),
        C.raw("chunked twice", okHead + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501,
              "unsupported Transfer-Encoding"),
        C.raw("Transfer-Encoding in HTTP/1.0", "POST /v2/models/seqcls/infer HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
              + "0\r\n\r\n", 400, "Transfer-Encoding in an HTTP/1.0 request"),
        C.raw("obs-fold", okHead + "X-A: 1\r\n  folded\r\nContent-Length: 0\r\n\r\n", 400, "obs-fold"),
        C.raw("bare LF line ends", "POST /v2/models/seqcls/infer HTTP/1.1\nHost: x\nContent-Length: 0\n\n", 400,
              "LF without CR"),
        C.raw("bare CR in a value", okHead + "X-A: a\rb\r\nContent-Length: 0\r\n\r\n", 400, "CR without LF"),
        C.raw("space before the colon", okHead + "Content-Length : 0\r\n\r\n", 400, "whitespace before the colon"),
        C.raw("NUL in a value", okHead + "X-A: a\u{0}b\r\nContent-Length: 0\r\n\r\n", 400, "NUL"),
    ]

    static let chunks: [HostileCase] = [
        C.raw("chunk size not hex", okHead + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "not hexadecimal"),
        C.raw("negative chunk size", okHead + "Transfer-Encoding: chunked\r\n\r\n-1\r\n", 400, "not hexadecimal"),
        C.raw("chunk size overflowing 64 bits", okHead + "Transfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n", 400,
              "longer than 16 hex digits"),
        C.raw("chunk size at 2^64-1", okHead + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n", 413,
              "larger than the limit"),
        C.raw("chunks adding up past the limit", okHead + "Transfer-Encoding: chunked\r\n\r\n80000\r\n"
              + String(repeating: "a", count: 0x80000) + "\r\n80001\r\n", 413, "larger than the limit"),
        C.raw("chunk data without CRLF", okHead + "Transfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n", 400,
              "not followed by CRLF"),
        C.raw("chunk extension with a bad quote", okHead + "Transfer-Encoding: chunked\r\n\r\n2;a=\"b\r\nab\r\n", 400,
              "malformed chunked body"),
        C.raw("chunk-size line flood", okHead + "Transfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "a", count: 5000),
              400, "chunk-size line longer than 4096 bytes"),
    ]

    static let headers: [HostileCase] = [
        C.raw("header count flood", okHead + (0..<60).map { "X-F\($0): v\r\n" }.joined() + "\r\n", 431,
              "header section over its limit"),
        C.raw("one huge header", okHead + "X-Big: " + String(repeating: "b", count: 9000) + "\r\n\r\n", 431,
              "header section over its limit"),
        C.raw("request line flood", "GET /" + String(repeating: "a", count: 5000) + " HTTP/1.1\r\n\r\n", 414,
              "request line longer than 4096 bytes"),
        C.raw("method is not a token", "G(T / HTTP/1.1\r\n" + C.host + "\r\n", 400, "malformed request line"),
        C.raw("HTTP/2.0 on HTTP/1.1 framing", "GET / HTTP/2.0\r\n" + C.host + "\r\n", 505, "unsupported HTTP version"),
        C.raw("garbage instead of a request", "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\u{00}\u{01}\u{fc}\u{03}\u{03}\r\n\r\n",
              400, "malformed request line"),
    ]

    static let bodies: [HostileCase] = [
        C.v2("not JSON", "{not json", "not valid JSON"),
        C.v2("JSON nested 100000 deep", String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000),
             "not valid JSON"),
        C.v2("JSON array instead of an object", "[1,2,3]", "expected a JSON object"),
        C.post("invalid UTF-8 in a V2 body", "/v2/models/seqcls/infer",
               body: Data(#"{"id":""#.utf8) + Data([0xC3, 0x28, 0xFF]) + Data(#"","inputs":[]}"#.utf8), 400, "not valid JSON"),
        C.post("invalid UTF-8 in /infer text", "/infer",
               body: Data(#"{"model":"mlm","text":"a "#.utf8) + Data([0xED, 0xA0, 0x80]) + Data(#" [MASK]"}"#.utf8), 400,
               "expected a JSON object"),
        C.post("/infer text without a mask", "/infer", body: Data(#"{"model":"mlm","text":"plain"}"#.utf8), 400, "[MASK]"),
        C.post("body over the limit", "/v2/models/seqcls/infer", body: Data(count: 1_048_577), 413, "larger than the limit",
               closes: true),
        C.raw("path traversal", "GET /v2/models/../../../etc/passwd HTTP/1.1\r\n" + C.host + "\r\n", 404, "no route",
              closes: false),
        C.raw("wrong method", "DELETE /v2/models/seqcls HTTP/1.1\r\n" + C.host + "\r\n", 405, "not allowed", closes: false),
        // RFC 9112 section 3.2: exactly one valid Host, else 400 (a front end and we could disagree on it).
        C.raw("no Host", "GET /v2/models/seqcls HTTP/1.1\r\n\r\n", 400, "needs a Host header"),
        C.raw("two Hosts", "GET /v2/models/seqcls HTTP/1.1\r\n" + C.host + "Host: other\r\n\r\n", 400,
              "more than one Host header"),
        C.raw("invalid Host", "GET /v2/models/seqcls HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "not a valid host"),
        // RFC 3986 section 2.1: a path with a broken percent-encoding is refused, not routed as text.
        C.raw("broken percent-encoding", "GET /v2/models/seq%zzcls HTTP/1.1\r\n" + C.host + "\r\n", 400,
              "not valid percent-encoding"),
    ]

    static let tensors: [HostileCase] = [
        C.v2("shape product overflows Int64",
             #"{"inputs":[{"name":"input_ids","shape":[4611686018427387904,4],"datatype":"INT64","data":[1]}]}"#,
             "is too large"),
        C.v2("shape beyond 2^31 elements, tiny data",
             #"{"inputs":[{"name":"input_ids","shape":[65536,65536],"datatype":"INT64","data":[1]}]}"#, "is too large"),
        C.v2("shape larger than its data",
             #"{"inputs":[{"name":"input_ids","shape":[1000,1000],"datatype":"INT64","data":[1,2]}]}"#,
             "needs 1000000 values, data has 2"),
        C.v2("negative dimension",
             #"{"inputs":[{"name":"input_ids","shape":[1,-3],"datatype":"INT64","data":[1,2,3]}]}"#,
             "shape must hold non-negative integers"),
        C.v2("wrong datatype",
             #"{"inputs":[{"name":"input_ids","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}"#, "datatype FP32"),
        C.v2("unknown datatype",
             #"{"inputs":[{"name":"input_ids","shape":[1,3],"datatype":"FP8","data":[1,2,3]}]}"#, "unsupported datatype FP8"),
        C.v2("BYTES tensor as input_ids", #"{"inputs":[{"name":"input_ids","shape":[1],"datatype":"BYTES","data":["abc"]}]}"#,
             "datatype BYTES, expected INT64 or INT32"),
        C.v2("text that is not strings", #"{"inputs":[{"name":"text","shape":[2],"datatype":"BYTES","data":["a",{}]}]}"#,
             "element 1 is an object"),
        C.v2("token id beyond the vocabulary",
             #"{"inputs":[{"name":"input_ids","shape":[1,3],"datatype":"INT64","data":[4,99999,5]}]}"#, "input_ids"),
        C.v2("sequence longer than the model takes",
             #"{"inputs":[{"name":"input_ids","shape":[1,30],"datatype":"INT64","data":[\#((0..<30).map { _ in "7" }.joined(separator: ","))]}]}"#,
             "input_ids"),
        C.v2("unknown input name", #"{"inputs":[{"name":"pixels","shape":[1],"datatype":"FP32","data":[1]}]}"#,
             "no such input"),
        C.v2("JSON number beyond FP32", model: "learned",
             #"{"inputs":[{"name":"pixel_values","shape":[1,3,8,8],"datatype":"FP32","data":[1e39\#(String(repeating: ",0", count: 191))]}]}"#,
             "element 0 is +Inf"),
        C.v2("classification count beyond 64 bits",
             #"{"inputs":[{"name":"input_ids","shape":[1,3],"datatype":"INT64","data":[4,50,5]}],"outputs":[{"name":"logits","parameters":{"classification":1e300}}]}"#,
             "parameter 'classification' must be an integer of at least 1"),
        C.v2("negative classification count",
             #"{"inputs":[{"name":"input_ids","shape":[1,3],"datatype":"INT64","data":[4,50,5]}],"outputs":[{"name":"logits","parameters":{"classification":-9223372036854775808}}]}"#,
             "parameter 'classification' must be an integer of at least 1"),
        C.v2("output position out of range", model: "mlm",
             #"{"inputs":[{"name":"input_ids","shape":[1,3],"datatype":"INT64","data":[4,50,5]},{"name":"output_positions","shape":[1,1],"datatype":"INT64","data":[99]}]}"#,
             "output_positions"),
    ]

    static let pixels = #"{"inputs":[{"name":"pixel_values","shape":[1,3,8,8],"datatype":"FP32","parameters":{"binary_data_size":768}}]}"#

    /// A V2 header with one binary `text` input.
    static func text(shape: [Int], size: Int) -> String {
        #"{"inputs":[{"name":"text","shape":\#(shape),"datatype":"BYTES","parameters":{"binary_data_size":\#(size)}}]}"#
    }

    static let binary: [HostileCase] = [
        C.v2Binary("binary_data_size disagrees with the shape",
                   json: #"{"inputs":[{"name":"pixel_values","shape":[1,3,8,8],"datatype":"FP32","parameters":{"binary_data_size":700}}]}"#,
                   binary: Data(count: 700), "binary_data_size is 700 bytes, but shape [1, 3, 8, 8] of FP32 needs 768"),
        C.v2Binary("binary section shorter than declared", json: pixels, binary: Data(count: 767), "1 bytes missing"),
        C.v2Binary("binary section longer than declared", json: pixels, binary: Data(count: 800), "32 extra bytes"),
        C.v2Binary("inference header longer than the body", json: pixels, binary: Data(count: 768), headerLength: "99999",
                   "inference header size should be in range"),
        C.v2Binary("inference header length not a number", json: pixels, binary: Data(count: 768), headerLength: "12abc",
                   "must be a decimal integer"),
        C.v2Binary("NaN in binary pixels", json: pixels, binary: .float32([1, .nan] + Array(repeating: 0, count: 190)),
                   "element 1 is NaN"),
        C.v2Binary("infinity in binary pixels", json: pixels, binary: .float32(Array(repeating: 0, count: 191) + [-.infinity]),
                   "element 191 is -Inf"),
        C.v2Binary("BYTES length beyond its data", model: "seqcls", json: text(shape: [1], size: 8),
                   binary: Data([0xFF, 0xFF, 0xFF, 0xFF, 0x61, 0x62, 0x63, 0x64]), "declares 4294967295 bytes"),
        C.v2Binary("BYTES count far beyond the body", model: "seqcls", json: text(shape: [1 << 30], size: 16),
                   binary: Data(count: 16), "needs at least 4294967296"),
        C.v2Binary("text that is not UTF-8", model: "seqcls", json: text(shape: [1], size: 6),
                   binary: Data([2, 0, 0, 0, 0xC3, 0x28]), "element 0 is not valid UTF-8"),
        C.post("raw /infer body shorter than its shape", "/infer?model=learned&input=pixel_values&shape=1,3,8,8",
               headers: ["Content-Type: application/octet-stream"], body: Data(count: 100), 400,
               "needs more float32 values than the 100-byte body holds"),
        C.post("raw /infer shape overflowing", "/infer?model=learned&input=pixel_values&shape=4294967296,4294967296,4",
               headers: ["Content-Type: application/octet-stream"], body: Data(count: 16), 400, "needs more float32 values"),
    ]

    static let compression: [HostileCase] = [
        C.post("gzip bomb", "/v2/models/seqcls/infer", headers: ["Content-Encoding: gzip"],
               body: (try? Compression.gzip(Data(count: 64 << 20), level: 9)) ?? Data(), 413,
               "decompressed request body larger than the limit"),
        C.post("corrupt gzip", "/v2/models/seqcls/infer", headers: ["Content-Encoding: gzip"],
               body: Data([0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 3, 0xDE, 0xAD, 0xBE, 0xEF]), 400, "does not decode"),
        C.post("truncated gzip", "/v2/models/seqcls/infer", headers: ["Content-Encoding: gzip"],
               body: ((try? Compression.gzip(Data(ok.utf8))) ?? Data()).dropLast(6), 400, "does not decode"),
        C.post("unknown content coding", "/v2/models/seqcls/infer", headers: ["Content-Encoding: br"],
               body: Data(ok.utf8), 415, "unsupported Content-Encoding"),
    ]
}

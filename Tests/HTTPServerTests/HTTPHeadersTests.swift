import Testing
@testable import HTTPServer

@Suite struct HTTPHeadersTests {
    @Test func namesCompareCaseInsensitively() {
        let headers = HTTPHeaders([("Content-Length", "5"), ("X-A", "1"), ("x-a", "2")])
        #expect(headers["content-length"] == "5")
        #expect(headers.values(of: "X-a") == ["1", "2"])
    }

    @Test func connectionTokensAreFoundInLists() {
        let head = HTTPRequestHead(method: "GET", target: "/a?b=1", version: .http1_1,
                                   headers: HTTPHeaders([("Connection", "Upgrade, CLOSE")]))
        #expect(!head.isKeepAlive)
        #expect(head.path == "/a")
        #expect(head.query == "b=1")
        let old = HTTPRequestHead(method: "GET", target: "/", version: .http1_0,
                                  headers: HTTPHeaders([("connection", "keep-alive")]))
        #expect(old.isKeepAlive)
    }

    @Test func errorBodiesAreEscapedJSON() {
        let response = HTTPResponse.error(400, "bad \"x\"\n\u{1}")
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"error":"bad \"x\"\n\u0001"}"#)
    }
}

import Foundation
import HTTPServer
import HTTPTestSupport
import Logging
@testable import ModelServer
import Testing

/// Every route over a real loopback socket, against the fixture models.
@Suite struct EndpointTests {
    @Test func healthEndpointsAnswerJSON() throws {
        let client = try TestDaemon.client()
        let health = try client.request("GET", "/health")
        #expect(health.status == 200)
        #expect(health.json?["status"] as? String == "ok")
        #expect(try client.request("GET", "/v2/health/live").json?["live"] as? Bool == true)
        #expect(try client.request("GET", "/v2/health/ready").json?["ready"] as? Bool == true)
        let head = try client.request("HEAD", "/health")
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
    }

    @Test func serverMetadataNamesTheExtensions() throws {
        let json = try #require(try TestDaemon.client().request("GET", "/v2").json)
        #expect(json["name"] as? String == "perceiverd")
        #expect(json["version"] as? String == "test")
        #expect(json["extensions"] as? [String] == ["binary_tensor_data", "parameters", "classification", "statistics",
                                                    "model_configuration"])
        let models = try TestDaemon.client().request("GET", "/v2/models").json?["models"] as? [String]
        #expect(models == TestDaemon.modelNames)
    }

    @Test(arguments: ["/v2/models/mlm", "/v2/models/mlm/versions/1"])
    func modelMetadataListsEveryTensor(path: String) throws {
        let json = try #require(try TestDaemon.client().request("GET", path).json)
        #expect(json["name"] as? String == "mlm")
        let inputs = try #require(json["inputs"] as? [[String: Any]])
        #expect(inputs.map { $0["name"] as? String } == ["input_ids", "attention_mask", "output_positions", "queries",
                                                       "latents", "text"])
        // The text input the server adds: optional strings, one per item (docs/api.md "Text as BYTES").
        #expect(inputs[5]["datatype"] as? String == "BYTES" && inputs[5]["shape"] as? [Int] == [-1])
        #expect(inputs[0]["datatype"] as? String == "INT64")
        #expect(inputs[0]["shape"] as? [Int] == [-1, -1])
        let outputs = try #require(json["outputs"] as? [[String: Any]])
        #expect(outputs.map { $0["name"] as? String } == ["logits", "latents"])
        #expect(outputs[0]["shape"] as? [Int] == [-1, -1, 262])
        // The latents: any batch of the model's (N, D); an input too.
        #expect(outputs[1]["shape"] as? [Int] == [-1, 8, 64] && inputs[4]["shape"] as? [Int] == [-1, 8, 64])
    }

    @Test func imageModelMetadataListsPixelValues() throws {
        let json = try #require(try TestDaemon.client().request("GET", "/v2/models/conv").json)
        let inputs = try #require(json["inputs"] as? [[String: Any]])
        #expect(inputs[0]["name"] as? String == "pixel_values")
        #expect(inputs[0]["datatype"] as? String == "FP32")
    }

    @Test func modelReadinessIsReported() throws {
        let client = try TestDaemon.client()
        let ready = try client.request("GET", "/v2/models/seqcls/ready")
        #expect(ready.status == 200)
        #expect(ready.json?["name"] as? String == "seqcls")
        #expect(ready.json?["ready"] as? Bool == true)
        #expect(try client.request("GET", "/v2/models/seqcls/versions/1/ready").status == 200)
    }

    @Test func unknownModelsVersionsAndRoutesAre404() throws {
        let client = try TestDaemon.client()
        let model = try client.request("GET", "/v2/models/nope")
        #expect(model.status == 404)
        #expect((model.json?["error"] as? String)?.contains("nope") == true)
        #expect(try client.request("GET", "/v2/models/mlm/versions/7").status == 404)
        #expect(try client.request("POST", "/v2/models/nope/infer", body: Data("{}".utf8)).status == 404)
        #expect(try client.request("GET", "/nowhere").status == 404)
        #expect(try client.request("POST", "/v2/health/other").status == 404)
    }

    /// Paths are percent-decoded segment by segment (RFC 3986 section 2.1), and an absolute-form target is
    /// served by its path (RFC 9112 section 3.2.2).
    @Test func percentEncodedPathsAndAbsoluteFormTargetsAreRouted() throws {
        let client = try TestDaemon.client()
        let encoded = try client.request("GET", "/v2/models/s%65qcls")
        #expect(encoded.status == 200)
        #expect(encoded.json?["name"] as? String == "seqcls")
        #expect(try client.request("GET", "/v2/models/%73eqcls/ready").status == 200)
        // An encoded slash stays inside its segment: no such model, not another route.
        #expect(try client.request("GET", "/v2/models/seqcls%2Fready").status == 404)
        try client.send("GET http://localhost/v2/models/seqcls HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(try client.readResponse().json?["name"] as? String == "seqcls")
    }

    @Test func wrongMethodsAre405WithAllow() throws {
        let client = try TestDaemon.client()
        let response = try client.request("GET", "/v2/models/mlm/infer")
        #expect(response.status == 405)
        #expect(response.header("Allow") == "POST")
        #expect(response.json?["error"] is String)
        #expect(try client.request("POST", "/health").status == 405)
    }

    @Test func badRequestsAre400AndNameTheProblem() throws {
        let client = try TestDaemon.client()
        let malformed = try client.request("POST", "/v2/models/mlm/infer", body: Data("{not json".utf8))
        #expect(malformed.status == 400)
        let wrongType = try client.request("POST", "/v2/models/mlm/infer", body: Data(
            #"{"inputs":[{"name":"input_ids","shape":[1,2],"datatype":"FP32","data":[1,2]}]}"#.utf8))
        #expect(wrongType.status == 400)
        let message = try #require(wrongType.json?["error"] as? String)
        #expect(message.contains("input_ids") && message.contains("INT64"))
        let wrongShape = try client.request("POST", "/v2/models/mlm/infer", body: Data(
            #"{"inputs":[{"name":"input_ids","shape":[1,3],"datatype":"INT64","data":[1,2]}]}"#.utf8))
        #expect(wrongShape.status == 400)
        #expect((wrongShape.json?["error"] as? String)?.contains("input_ids") == true)
    }

    @Test func taskRequestsAreCountedLikeV2Requests() throws {
        // A daemon of its own, so no other test's requests move the counters.
        let daemon = try TestDaemon.start(ServerConfiguration(host: "127.0.0.1", port: 0, threads: 1, models: [
            ModelConfiguration(name: "counted", path: ServerFixtures.root + "/models/mlm"),
        ]))
        defer { daemon.stop {} }
        let client = try RawHTTPClient(port: daemon.port)
        let body = Data(#"{"text":"a [MASK]","top_k":1}"#.utf8)
        #expect(try client.request("POST", "/infer", body: body).status == 200)
        let text = try client.request("GET", "/metrics").text
        #expect(text.contains(#"perceiverd_inference_executions_total{model="counted"} 1"#))
        #expect(text.contains(#"perceiverd_inference_requests_total{model="counted",status="200"} 1"#))
        #expect(text.contains("perceiverd_models_ready 1"))
    }

    @Test func unknownContentEncodingIs415() throws {
        let response = try TestDaemon.client().request("POST", "/v2/models/mlm/infer",
                                                       headers: ["Content-Encoding": "compress"], body: Data("x".utf8))
        #expect(response.status == 415)
        #expect(response.json?["error"] is String)
    }

    @Test func metricsExposeRequestsAndHistograms() throws {
        let client = try TestDaemon.client()
        let request = #"{"inputs":[{"name":"input_ids","shape":[1,3],"datatype":"INT64","data":[4,50,5]}]}"#
        #expect(try client.request("POST", "/v2/models/seqcls/infer", body: Data(request.utf8)).status == 200)
        let metrics = try client.request("GET", "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
        let text = metrics.text
        let line = text.split(separator: "\n").first {
            $0.hasPrefix(#"perceiverd_inference_requests_total{model="seqcls",status="200"}"#)
        }
        #expect(Double(line?.split(separator: " ").last ?? "0") ?? 0 >= 1)
        for family in ["perceiverd_inference_queue_duration_seconds_bucket", "perceiverd_inference_compute_duration_seconds_bucket",
                       "perceiverd_inference_request_duration_seconds_bucket", "perceiverd_inference_batch_size_bucket",
                       "perceiverd_inference_in_flight", "perceiverd_inference_queue_depth",
                       "perceiverd_inference_failures_total", "perceiverd_http_requests_total"] {
            #expect(text.contains(family), "missing \(family)")
        }
    }
}

/// Handlers without sockets: states a running daemon passes through only briefly.
@Suite struct RouterStateTests {
    private func answer(_ router: Router, _ method: String, _ path: String) -> HTTPResponse {
        let head = HTTPRequestHead(method: method, target: path, version: .http1_1, headers: HTTPHeaders())
        let result = ResponseBox()
        let context = RequestContext(id: "t", peer: "test", isTLS: false, cancellation: CancellationSignal(),
                                     logger: .init(label: "t"))
        router.handle(HTTPRequest(head: head), context: context) { result.response = $0 }
        return result.response ?? .error(599, "no response")
    }

    @Test func notReadyWhileStartingOrDraining() {
        for phase in [ServerState.Phase.starting, .draining] {
            let router = Router(state: ServerState(phase: phase), metrics: MetricsRegistry(), serverVersion: "t")
            let ready = answer(router, "GET", "/v2/health/ready")
            #expect(ready.status == 503)
            #expect(ready.headers["Retry-After"] != nil)
            #expect(answer(router, "GET", "/v2/health/live").status == 200)
            #expect(answer(router, "GET", "/health").status == 200)
        }
    }

    @Test func internalErrorsAreGeneric() {
        struct Boom: Error {}
        var quiet = Logger(label: "t")
        quiet.logLevel = .critical
        let response = Router.response(for: Boom(), logger: quiet)
        #expect(response.status == 500)
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"error":"internal server error"}"#)
    }
}

/// The response of a route that answers inline: written and read on the test's own thread, never shared,
/// hence `@unchecked Sendable` (the responder must be `@Sendable`).
private final class ResponseBox: @unchecked Sendable {
    var response: HTTPResponse?
}

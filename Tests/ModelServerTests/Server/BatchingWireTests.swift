import Foundation
import Glibc
import HTTPTestSupport
import ModelServer
import PerceiverEngine
import Testing

/// Dynamic batching through the wire (issue #4): mixed requests in one pass, bounded queues, timeouts,
/// cancellation on disconnect, and per-connection order, each on a daemon of its own.
@Suite(.serialized) struct BatchingWireTests {
    static let models = ServerFixtures.root + "/models"

    /// Runs `body` against an in-process daemon serving `models` on `threads` cores, then drains it.
    func withDaemon(_ models: [ModelConfiguration], threads: Int = 1, _ body: (Daemon) throws -> Void) throws {
        try TestDaemon.run(ServerConfiguration(host: "127.0.0.1", port: 0, threads: threads, models: models)) { daemon in
            try body(daemon)
        }
    }

    func v2(_ model: String, id: String, _ tensors: [String], outputs: String? = nil, parameters: String? = nil) -> String {
        var json = #"{"id":"\#(id)","inputs":[\#(tensors.joined(separator: ","))]"#
        if let outputs { json += #","outputs":\#(outputs)"# }
        if let parameters { json += #","parameters":\#(parameters)"# }
        json += "}"
        return "POST /v2/models/\(model)/infer HTTP/1.1\r\nHost: x\r\nContent-Length: \(json.utf8.count)\r\n\r\n" + json
    }

    func ints(_ name: String, _ shape: [Int], _ values: [Int]) -> String {
        #"{"name":"\#(name)","shape":\#(shape),"datatype":"INT64","data":\#(values)}"#
    }

    func tokens(_ rows: Int, _ length: Int, seed: Int = 0) -> [Int] {
        (0..<(rows * length)).map { 6 + ($0 * 31 + seed * 7) % 200 }
    }

    /// A seqcls request of 4096 rows: long enough in compute to queue others behind it.
    func slowRequest() -> String {
        v2("seqcls", id: "slow", [ints("input_ids", [4096, 24], tokens(4096, 24))])
    }

    func metric(_ client: RawHTTPClient, _ series: String) throws -> Double? {
        let text = try client.request("GET", "/metrics").text
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(series + " ") }) else { return nil }
        return Double(line.split(separator: " ").last!)
    }

    /// Polls `/metrics` until `series` has `value` (up to ~20 s).
    func waitFor(_ client: RawHTTPClient, _ series: String, _ value: Double) throws -> Bool {
        for _ in 0..<4000 {
            if try metric(client, series) == value { return true }
            usleep(5_000)
        }
        return false
    }

    func logits(_ response: RawHTTPClient.Response) -> (shape: [Int], data: [Float])? {
        guard let output = (response.json?["outputs"] as? [[String: Any]])?.first,
              let shape = output["shape"] as? [Int], let data = output["data"] as? [Double] else { return nil }
        return (shape, data.map(Float.init))
    }

    @Test func mixedRequestsShareOneForwardPassAndEachGetsItsOwnAnswer() throws {
        // The batch closes when its 6th row arrives (max_batch_size 6), whatever the machine's speed.
        try withDaemon([ModelConfiguration(name: "mlm", path: Self.models + "/mlm", maxBatchSize: 6,
                                           maxQueueDelayMicroseconds: 60_000_000)]) { daemon in
            let served = daemon.models[0]
            let e = 32
            let queries = (0..<(4 * e)).map { Float(($0 * 37) % 11) / 5 - 1 }
            let requests: [(String, ModelInputs)] = [
                (v2("mlm", id: "plain", [ints("input_ids", [1, 5], tokens(1, 5))]),
                 ModelInputs(inputIDs: IndexTensor(shape: [1, 5], values: tokens(1, 5)))),
                (v2("mlm", id: "padded", [ints("input_ids", [2, 9], tokens(2, 9, seed: 1)),
                                          ints("attention_mask", [2, 9], [Int](repeating: 1, count: 13) + [0, 0, 0, 0 ,0])]),
                 ModelInputs(inputIDs: IndexTensor(shape: [2, 9], values: tokens(2, 9, seed: 1)),
                             attentionMask: IndexTensor(shape: [2, 9], values: [Int](repeating: 1, count: 13) + [0, 0, 0, 0, 0]))),
                (v2("mlm", id: "positions", [ints("input_ids", [1, 12], tokens(1, 12, seed: 2)),
                                             ints("output_positions", [1, 3], [11, 0, 4])],
                    outputs: #"[{"name":"logits"}]"#),
                 ModelInputs(inputIDs: IndexTensor(shape: [1, 12], values: tokens(1, 12, seed: 2)),
                             outputPositions: IndexTensor(shape: [1, 3], values: [11, 0, 4]))),
                (v2("mlm", id: "queries", [ints("input_ids", [1, 3], tokens(1, 3, seed: 3)),
                                           #"{"name":"queries","shape":[1,4,\#(e)],"datatype":"FP32","data":\#(queries)}"#]),
                 ModelInputs(inputIDs: IndexTensor(shape: [1, 3], values: tokens(1, 3, seed: 3)),
                             queries: Tensor(shape: [1, 4, e], scalars: queries))),
            ]
            let before = served.model.counts
            let clients = try requests.map { request, _ in
                let client = try RawHTTPClient(port: daemon.port, timeout: 30)
                try client.send(request)
                return client
            }
            // The fill-mask task joins the same batch.
            let task = try RawHTTPClient(port: daemon.port, timeout: 30)
            let body = #"{"text":"a c[MASK]t sat"}"#
            try task.send("POST /infer HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)

            let responses = try clients.map { try $0.readResponse() }
            let fill = try task.readResponse()
            #expect(served.model.counts.passes == before.passes + 1, "one forward pass for all five")
            #expect(served.model.counts.rows == before.rows + 6)
            for (response, (_, inputs)) in zip(responses, requests) {
                #expect(response.status == 200, "\(response.text)")
                let expected = try served.model.predict(inputs).logits
                let actual = try #require(logits(response))
                #expect(actual.shape == expected.shape)
                #expect(zip(actual.data, expected.scalars).map { abs($0 - $1) }.max()! <= 1e-5)
            }
            #expect(fill.status == 200)
            let expectedFill = try FillMask(model: served.model, text: "a c[MASK]t sat", topK: 5)
            #expect(fill.json?["text"] as? String == expectedFill.filledText)
            let metrics = try RawHTTPClient(port: daemon.port)
            #expect(try metric(metrics, #"perceiverd_inference_batch_size_count{model="mlm"}"#) == 1)
            #expect(try metric(metrics, #"perceiverd_inference_batch_size_sum{model="mlm"}"#) == 6)
            #expect(try metric(metrics, #"perceiverd_inference_queue_duration_seconds_count{model="mlm"}"#) == 5)
        }
    }

    @Test func aFullQueueAnswers503WithRetryAfterAndATimeoutExpiresInTheQueue() throws {
        // A 3 s queue delay holds every request in the queue: long enough for the checks below on any machine.
        try withDaemon([ModelConfiguration(name: "seqcls", path: Self.models + "/seqcls", maxBatchSize: 64,
                                           maxQueueDelayMicroseconds: 3_000_000, maxQueueSize: 2)]) { daemon in
            let watcher = try RawHTTPClient(port: daemon.port)
            let small = ints("input_ids", [1, 4], tokens(1, 4))
            let expiring = try RawHTTPClient(port: daemon.port, timeout: 30)
            let timedOut = try expiring.request("POST", "/v2/models/seqcls/infer", body: Data(
                #"{"inputs":[\#(small)],"parameters":{"timeout":2000}}"#.utf8))
            #expect(timedOut.status == 503)
            #expect(timedOut.text.contains("request timeout expired"), "\(timedOut.text)")

            // Distinct inputs: identical ones would wait for one encode outside the queue (the latent cache).
            let queued = try (0..<2).map { index in
                let client = try RawHTTPClient(port: daemon.port, timeout: 60)
                try client.send(v2("seqcls", id: "q\(index)", [ints("input_ids", [1, 4], tokens(1, 4, seed: index + 1))]))
                return client
            }
            #expect(try waitFor(watcher, #"perceiverd_inference_queue_depth{model="seqcls"}"#, 2))
            let refused = try RawHTTPClient(port: daemon.port).request("POST", "/v2/models/seqcls/infer",
                                                                        body: Data(#"{"inputs":[\#(small)]}"#.utf8))
            #expect(refused.status == 503)
            #expect(refused.header("Retry-After") == "1")
            #expect(refused.text.contains("exceeds maximum queue size"), "\(refused.text)")
            // When the delay has passed, the two queued requests run together.
            for client in queued { #expect(try client.readResponse().status == 200) }
            #expect(try metric(watcher, #"perceiverd_inference_batch_size_sum{model="seqcls"}"#) == 2)
            #expect(try metric(watcher, #"perceiverd_inference_failures_total{model="seqcls",reason="timeout"}"#) == 1)
            #expect(try metric(watcher, #"perceiverd_inference_failures_total{model="seqcls",reason="rejected"}"#) == 1)
        }
    }

    @Test func aClientThatLeavesWhileQueuedIsDroppedBeforeCompute() throws {
        // A 60 s queue delay holds the request until a request that fills the batch (64 rows) releases it.
        try withDaemon([ModelConfiguration(name: "seqcls", path: Self.models + "/seqcls", maxBatchSize: 64,
                                           maxQueueDelayMicroseconds: 60_000_000)]) { daemon in
            let served = daemon.models[0]
            let watcher = try RawHTTPClient(port: daemon.port)
            let before = served.model.counts
            var leaving: RawHTTPClient? = try RawHTTPClient(port: daemon.port)
            try leaving!.send(v2("seqcls", id: "gone", [ints("input_ids", [3, 4], tokens(3, 4))]))
            #expect(try waitFor(watcher, #"perceiverd_inference_queue_depth{model="seqcls"}"#, 1))
            leaving = nil   // closes the socket while the request waits
            #expect(try waitFor(watcher, #"perceiverd_inference_failures_total{model="seqcls",reason="canceled"}"#, 1))
            #expect(try metric(watcher, #"perceiverd_inference_queue_depth{model="seqcls"}"#) == 0)
            let filler = try RawHTTPClient(port: daemon.port, timeout: 60).request("POST", "/v2/models/seqcls/infer",
                body: Data(#"{"inputs":[\#(ints("input_ids", [64, 4], tokens(64, 4)))]}"#.utf8))
            #expect(filler.status == 200)
            // The engine's own counter: the filler's pass only, none of the 3 rows that left.
            #expect(served.model.counts.passes == before.passes + 1)
            #expect(served.model.counts.rows == before.rows + 64)
            #expect(leaving == nil)
        }
    }

    /// Two cores: the slow pass starts on both and gives one back at its next primitive when the other model's
    /// pass waits (`CorePool`). On one core the other pass would wait for a core: passes never oversubscribe.
    @Test func aBusyModelDoesNotHoldUpAnotherModelsClients() throws {
        try withDaemon([ModelConfiguration(name: "seqcls", path: Self.models + "/seqcls", maxBatchSize: 4096),
                        ModelConfiguration(name: "mlm", path: Self.models + "/mlm")], threads: 2) { daemon in
            let watcher = try RawHTTPClient(port: daemon.port)
            let slow = try RawHTTPClient(port: daemon.port, timeout: 60)
            try slow.send(slowRequest())
            #expect(try waitFor(watcher, #"perceiverd_inference_in_flight{model="seqcls"}"#, 1))
            let other = try RawHTTPClient(port: daemon.port)
            for index in 0..<3 {
                let response = try other.request("POST", "/v2/models/mlm/infer", body: Data(
                    #"{"inputs":[\#(ints("input_ids", [1, 4], tokens(1, 4, seed: index)))]}"#.utf8))
                #expect(response.status == 200)
            }
            // Still computing the other model's pass: the three answers did not wait for it.
            #expect(try metric(watcher, #"perceiverd_inference_in_flight{model="seqcls"}"#) == 1)
            #expect(try slow.readResponse().status == 200)
        }
    }

    @Test func pipelinedRequestsAreBatchedAndAnsweredInOrder() throws {
        try withDaemon([ModelConfiguration(name: "mlm", path: Self.models + "/mlm", maxBatchSize: 16,
                                           maxQueueDelayMicroseconds: 200_000)]) { daemon in
            let served = daemon.models[0]
            let client = try RawHTTPClient(port: daemon.port, timeout: 30)
            let lengths = [7, 2, 24, 1, 13, 5]
            try client.send(lengths.enumerated().map { index, length in
                v2("mlm", id: "r\(index)", [ints("input_ids", [1, length], tokens(1, length, seed: index))])
            }.joined())
            for (index, length) in lengths.enumerated() {
                let response = try client.readResponse()
                #expect(response.json?["id"] as? String == "r\(index)")
                let expected = try served.model.predict(ModelInputs(
                    inputIDs: IndexTensor(shape: [1, length], values: tokens(1, length, seed: index)))).logits
                let actual = try #require(logits(response))
                #expect(actual.shape == expected.shape)
                #expect(zip(actual.data, expected.scalars).map { abs($0 - $1) }.max()! <= 1e-5)
            }
        }
    }

    @Test func oversizedRequestsAndUnknownPrioritiesAre400() throws {
        try withDaemon([ModelConfiguration(name: "mlm", path: Self.models + "/mlm", maxBatchSize: 2, priorityLevels: 2)]) { daemon in
            let client = try RawHTTPClient(port: daemon.port)
            let tooBig = try client.request("POST", "/v2/models/mlm/infer", body: Data(
                #"{"inputs":[\#(ints("input_ids", [3, 2], tokens(3, 2)))]}"#.utf8))
            #expect(tooBig.status == 400)
            #expect(tooBig.text.contains("max_batch_size 2"), "\(tooBig.text)")
            let priority = try client.request("POST", "/v2/models/mlm/infer", body: Data(
                #"{"inputs":[\#(ints("input_ids", [1, 2], tokens(1, 2)))],"parameters":{"priority":3}}"#.utf8))
            #expect(priority.status == 400)
            #expect(priority.text.contains("'priority'"), "\(priority.text)")
            let fine = try client.request("POST", "/v2/models/mlm/infer", body: Data(
                #"{"inputs":[\#(ints("input_ids", [2, 2], tokens(2, 2)))],"parameters":{"priority":1}}"#.utf8))
            #expect(fine.status == 200)
        }
    }
}

import Foundation
import HTTPTestSupport
@testable import ModelServer
import Testing

/// Triton's statistics and model configuration extensions over a real socket (issue #21): the statistics of a
/// known set of requests, failures included, agree with `/metrics`; the configuration is the effective one.
@Suite(.serialized) struct StatisticsWireTests {
    static let models = ServerFixtures.root + "/models"

    /// Runs `body` against an in-process daemon serving `models`, then drains it.
    func withDaemon(_ models: [ModelConfiguration], limits: LimitsConfiguration = LimitsConfiguration(),
                    _ body: (Daemon, RawHTTPClient) throws -> Void) throws {
        let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, threads: 1, models: models, limits: limits)
        try TestDaemon.run(configuration) { daemon in try body(daemon, try RawHTTPClient(port: daemon.port)) }
    }

    func text(_ rows: [[Int]]) -> Data {
        let data = rows.flatMap { $0 }
        let shape = [rows.count, rows[0].count]
        return Data(#"{"inputs":[{"name":"input_ids","shape":\#(shape),"datatype":"INT64","data":\#(data)}]}"#.utf8)
    }

    /// `inference_stats[name]` as (count, ns).
    func duration(_ stat: [String: Any], _ name: String) -> (count: Int, ns: Double) {
        let value = (stat["inference_stats"] as? [String: Any])?[name] as? [String: Any]
        return (value?["count"] as? Int ?? -1, (value?["ns"] as? NSNumber)?.doubleValue ?? -1)
    }

    func modelStat(_ client: RawHTTPClient, _ path: String) throws -> [String: Any] {
        let response = try client.request("GET", path)
        #expect(response.status == 200, "\(response.text)")
        let stats = try #require(response.json?["model_stats"] as? [[String: Any]])
        #expect(stats.count == 1)
        return try #require(stats.first)
    }

    /// Three successes (one a latent-cache hit, one of two rows), two failures (a wrong datatype before the
    /// queue, an unknown latents_id), each request in its own pass: the statistics count exactly those, and
    /// every count and total that `/metrics` also has is the same there.
    @Test func statisticsOfKnownRequestsAgreeWithMetrics() throws {
        try withDaemon([ModelConfiguration(name: "mlm", path: Self.models + "/mlm")]) { _, client in
            let before = Date().timeIntervalSince1970 * 1000
            let one = text([[4, 110, 111, 5]])
            #expect(try client.request("POST", "/v2/models/mlm/infer", body: one).status == 200)
            #expect(try client.request("POST", "/v2/models/mlm/infer", body: one).status == 200)   // a hit
            #expect(try client.request("POST", "/v2/models/mlm/infer", body: text([[4, 7, 8, 5], [4, 9, 10, 5]]))
                .status == 200)
            let wrong = Data(#"{"inputs":[{"name":"input_ids","shape":[1,2],"datatype":"FP32","data":[4,5]}]}"#.utf8)
            #expect(try client.request("POST", "/v2/models/mlm/infer", body: wrong).status == 400)
            let unknown = Data((#"{"parameters":{"latents_id":"\#(String(repeating: "0", count: 32))"},"#
                                + #""inputs":[{"name":"output_positions","shape":[1,1],"datatype":"INT64","data":[1]}]}"#).utf8)
            #expect(try client.request("POST", "/v2/models/mlm/infer", body: unknown).status == 404)
            let after = Date().timeIntervalSince1970 * 1000

            let stat = try modelStat(client, "/v2/models/mlm/stats")
            let metrics = try client.request("GET", "/metrics").text
            func metric(_ series: String) -> Double { metricValue(series, in: metrics) ?? -1 }
            #expect(stat["name"] as? String == "mlm" && stat["version"] as? String == "1")
            let last = Double(stat["last_inference"] as? Int ?? 0)
            #expect(last >= before.rounded(.down) && last <= after)
            #expect(stat["execution_count"] as? Int == 3)
            #expect(stat["inference_count"] as? Int == 4)
            #expect(Double(stat["execution_count"] as? Int ?? 0) == metric(#"perceiverd_inference_executions_total{model="mlm"}"#))
            #expect(Double(stat["inference_count"] as? Int ?? 0) == metric(#"perceiverd_inference_rows_total{model="mlm"}"#))

            let (success, fail) = (duration(stat, "success"), duration(stat, "fail"))
            #expect(success.count == 3 && fail.count == 2)
            #expect(Double(success.count) == metric(#"perceiverd_inference_requests_total{model="mlm",status="200"}"#))
            let failures = MetricsRegistry.FailureReason.allCases.map {
                metric(#"perceiverd_inference_failures_total{model="mlm",reason="\#($0.rawValue)"}"#)
            }.reduce(0, +)
            #expect(Double(fail.count) == failures)
            // Each duration is rounded to whole nanoseconds on its own: a few ns apart at most.
            let requestSum = metric(#"perceiverd_inference_request_duration_seconds_sum{model="mlm"}"#) * 1e9
            #expect(abs(success.ns + fail.ns - requestSum) < 10)

            let queue = duration(stat, "queue")
            #expect(queue.count == 3 && Double(queue.count) == metric(#"perceiverd_inference_queue_duration_seconds_count{model="mlm"}"#))
            #expect(abs(queue.ns - metric(#"perceiverd_inference_queue_duration_seconds_sum{model="mlm"}"#) * 1e9) < 10)
            for phase in ["compute_input", "compute_infer", "compute_output"] {
                #expect(duration(stat, phase).count == 3, "\(phase)")
            }
            // One request per pass: each request's compute_infer is its pass.
            let computeSum = metric(#"perceiverd_inference_compute_duration_seconds_sum{model="mlm"}"#) * 1e9
            #expect(abs(duration(stat, "compute_infer").ns - computeSum) < 10)
            #expect(Double(duration(stat, "cache_hit").count)
                    == metric(#"perceiverd_latent_cache_lookups_total{model="mlm",result="hit"}"#))
            #expect(Double(duration(stat, "cache_miss").count)
                    == metric(#"perceiverd_latent_cache_lookups_total{model="mlm",result="miss"}"#))
            #expect(duration(stat, "cache_hit").count == 1 && duration(stat, "cache_miss").count == 2)

            let batches = try #require(stat["batch_stats"] as? [[String: Any]])
            #expect(batches.map { $0["batch_size"] as? Int } == [1, 2])
            let counts = batches.map { (($0["compute_infer"] as? [String: Any])?["count"] as? Int) ?? -1 }
            #expect(counts == [2, 1])
            #expect(batches.map { (($0["compute_output"] as? [String: Any])?["count"] as? Int) ?? -1 } == counts)
            #expect(batches.map { (($0["compute_input"] as? [String: Any])?["count"] as? Int) ?? -1 } == counts)
            #expect(Double(zip([1, 2], counts).map { $0 * $1 }.reduce(0, +))
                    == metric(#"perceiverd_inference_batch_size_sum{model="mlm"}"#))
        }
    }

    @Test func everyServedModelIsListedAndAnUnknownOneIs404() throws {
        let configuration = [ModelConfiguration(name: "mlm", path: Self.models + "/mlm", version: "3"),
                             ModelConfiguration(name: "seqcls", path: Self.models + "/seqcls")]
        try withDaemon(configuration) { _, client in
            let all = try client.request("GET", "/v2/models/stats")
            let stats = try #require(all.json?["model_stats"] as? [[String: Any]])
            #expect(stats.map { $0["name"] as? String } == ["mlm", "seqcls"])
            #expect(stats.map { $0["version"] as? String } == ["3", "1"])
            #expect(stats.allSatisfy { $0["execution_count"] as? Int == 0 && $0["last_inference"] as? Int == 0 })
            #expect(try modelStat(client, "/v2/models/mlm/versions/3/stats")["name"] as? String == "mlm")
            for path in ["/v2/models/nope/stats", "/v2/models/mlm/versions/1/stats", "/v2/models/nope/config",
                         "/v2/models/mlm/versions/1/config"] {
                let response = try client.request("GET", path)
                #expect(response.status == 404, "\(path)")
                #expect((response.json?["error"] as? String)?.isEmpty == false, "\(path)")
            }
            let post = try client.request("POST", "/v2/models/mlm/stats")
            #expect(post.status == 405 && post.header("Allow") == "GET, HEAD")
            #expect(try client.request("POST", "/v2/models/stats").status == 405)
            #expect(try client.request("HEAD", "/v2/models/mlm/config").status == 200)
        }
    }

    /// Every batching, instance and precision setting as it runs, in Triton's names; dims without the batch
    /// dimension; our settings and the request limits as string parameters.
    @Test func configurationIsTheEffectiveOneInTritonsNames() throws {
        let mlm = ModelConfiguration(name: "mlm", path: Self.models + "/mlm", precision: "auto", maxBatchSize: 4,
                                     maxQueueDelayMicroseconds: 100, maxQueueSize: 10, defaultTimeoutMicroseconds: 5000,
                                     preferredBatchSizes: [4, 2, 2], priorityLevels: 3, instances: 2,
                                     memoryBudgetMiB: 512, latentCacheMiB: 0)
        let limits = LimitsConfiguration.with { $0.maxInputPixels = 4096; $0.maxOutputRows = 77 }
        try withDaemon([mlm], limits: limits) { daemon, client in
            let response = try client.request("GET", "/v2/models/mlm/versions/1/config")
            #expect(response.status == 200)
            let json = try #require(response.json)
            #expect(json["name"] as? String == "mlm")
            #expect(json["platform"] as? String == "perceiverd_safetensors" && json["backend"] as? String == "perceiverd")
            #expect(json["max_batch_size"] as? Int == 4)
            let inputs = try #require(json["input"] as? [[String: Any]])
            #expect(inputs.map { $0["name"] as? String } == ["input_ids", "attention_mask", "output_positions",
                                                           "queries", "latents"])
            #expect(inputs[0]["data_type"] as? String == "TYPE_INT64" && inputs[0]["dims"] as? [Int] == [-1])
            #expect(inputs[0]["optional"] as? Bool == false && inputs[1]["optional"] as? Bool == true)
            #expect(inputs[3]["data_type"] as? String == "TYPE_FP32" && inputs[3]["dims"] as? [Int] == [-1, 32])
            let outputs = try #require(json["output"] as? [[String: Any]])
            #expect(outputs.map { $0["name"] as? String } == ["logits", "latents"])
            #expect(outputs[0]["dims"] as? [Int] == [-1, 262] && outputs[1]["dims"] as? [Int] == [8, 64])

            let batching = try #require(json["dynamic_batching"] as? [String: Any])
            #expect(batching["preferred_batch_size"] as? [Int] == [2, 4])
            #expect(batching["max_queue_delay_microseconds"] as? Int == 100)
            #expect(batching["priority_levels"] as? Int == 3)
            #expect(batching["default_priority_level"] as? Int == 3, "0 in the configuration is the lowest level")
            let policy = try #require(batching["default_queue_policy"] as? [String: Any])
            #expect(policy["default_timeout_microseconds"] as? Int == 5000 && policy["max_queue_size"] as? Int == 10)
            #expect(policy["timeout_action"] as? String == "REJECT" && policy["allow_timeout_override"] as? Bool == true)
            let group = try #require((json["instance_group"] as? [[String: Any]])?.first)
            #expect(group["count"] as? Int == 2 && group["kind"] as? String == "KIND_CPU")

            let served = try #require(daemon.models.first)
            let parameters = try #require(json["parameters"] as? [String: [String: String]])
            let values = parameters.mapValues { $0["string_value"] ?? "" }
            #expect(values["precision"] == served.precision.effective.rawValue && values["requested_precision"] == "auto")
            #expect(values["threads_per_instance"] == "0", "as configured: no cap")
            #expect(values["max_threads_per_pass"] == String(served.maxThreadsPerPass))
            #expect(values["memory_budget_mib"] == "512" && values["latent_cache_mib"] == "0")
            #expect(values["architecture"] == "PerceiverForMaskedLM" && values["path"] == Self.models + "/mlm")
            #expect(values["max_input_pixels"] == "4096" && values["max_output_rows"] == "77")
            #expect(values["version"] == "1" && values["max_body_bytes"] == String(limits.maxBodyBytes))
        }
    }

    @Test func withoutPriorityLevelsTheDefaultLevelIsZero() throws {
        try withDaemon([ModelConfiguration(name: "seqcls", path: Self.models + "/seqcls")]) { _, client in
            let json = try #require(try client.request("GET", "/v2/models/seqcls/config").json)
            let batching = try #require(json["dynamic_batching"] as? [String: Any])
            #expect(batching["priority_levels"] as? Int == 0 && batching["default_priority_level"] as? Int == 0)
            #expect(batching["preferred_batch_size"] as? [Int] == [])
        }
    }

    @Test(arguments: [("BYTES", "TYPE_STRING"), ("INT64", "TYPE_INT64"), ("FP32", "TYPE_FP32"), ("INT32", "TYPE_INT32")])
    func datatypesTakeTritonsNames(datatype: String, dataType: String) {
        #expect(ModelConfigDocument.dataType(datatype) == dataType)
    }
}

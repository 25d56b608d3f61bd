import Foundation
import Testing
@testable import ModelServer

/// Triton's statistics extension as the metrics registry keeps it: what each call counts, the JSON it renders,
/// and that the statistics survive a model registered again (a reload) as its series do.
@Suite struct ModelStatisticsTests {
    @Test func aRegisteredModelStartsAtZeroAndAnUnknownOneHasNone() throws {
        let registry = MetricsRegistry()
        registry.register(model: "mlm")
        #expect(registry.statistics(of: "mlm") == ModelStatistics())
        #expect(registry.statistics(of: "nope") == nil)
        registry.inferenceFinished(model: "nope", status: 200, totalSeconds: 1)
        #expect(registry.statistics(of: "nope") == nil, "updates for unregistered models are dropped")
    }

    /// Per request: success and fail with their durations; the rows and phases of a success. Per pass: the
    /// count, last_inference in wall-clock milliseconds, and each phase under its batch size.
    @Test func requestsAndPassesAreCountedAsTritonDefinesThem() throws {
        let registry = MetricsRegistry()
        registry.register(model: "mlm")
        let before = UInt64(Date().timeIntervalSince1970 * 1000)
        registry.batchExecuted(model: "mlm", rows: 3, queueSeconds: [0.001, 0.002], computeSeconds: 0.03,
                               inputSeconds: 0.000_004)
        registry.batchExecuted(model: "mlm", rows: 1, queueSeconds: [0.5], computeSeconds: 0.01)
        registry.batchAnswered(model: "mlm", rows: 3, outputSeconds: 0.002)
        for (rows, queue) in [(1, 0.001), (2, 0.002)] {
            registry.inferenceFinished(model: "mlm", status: 200, totalSeconds: 0.04, phases: InferencePhases(
                rows: rows, queue: queue, computeInput: 0.000_004, computeInfer: 0.03, computeOutput: 0.001))
        }
        registry.inferenceFinished(model: "mlm", status: 400, totalSeconds: 0.000_25)
        registry.inferenceFinished(model: "mlm", status: 503, totalSeconds: 0.5)
        let after = UInt64(Date().timeIntervalSince1970 * 1000)
        let stats = try #require(registry.statistics(of: "mlm"))
        typealias D = ModelStatistics.Duration
        #expect(stats.success == D(count: 2, nanoseconds: 80_000_000))
        #expect(stats.fail == D(count: 2, nanoseconds: 500_250_000))
        #expect(stats.queue == D(count: 2, nanoseconds: 3_000_000))
        #expect(stats.computeInput == D(count: 2, nanoseconds: 8_000))
        #expect(stats.computeInfer == D(count: 2, nanoseconds: 60_000_000), "each request adds its pass")
        #expect(stats.computeOutput == D(count: 2, nanoseconds: 2_000_000))
        #expect(stats.executionCount == 2 && stats.inferenceCount == 3, "rows of the successful requests")
        #expect(stats.batches[3] == ModelStatistics.Batch(computeInput: D(count: 1, nanoseconds: 4_000),
                                                          computeInfer: D(count: 1, nanoseconds: 30_000_000),
                                                          computeOutput: D(count: 1, nanoseconds: 2_000_000)))
        #expect(stats.batches[1]?.computeInfer == D(count: 1, nanoseconds: 10_000_000))
        #expect(stats.batches[1]?.computeOutput == D(), "counted when its last answer is encoded")
        #expect((before...after).contains(stats.lastInferenceMilliseconds))
    }

    @Test func latentCacheLookupsAreCacheHitsAndMissesWithTheirTime() throws {
        let registry = MetricsRegistry()
        registry.register(model: "mlm")
        registry.latentCache(model: "mlm", miss: true, seconds: 0.000_1)
        registry.latentCache(model: "mlm", miss: false, seconds: 0.000_02)
        registry.latentCache(model: "mlm", miss: false)
        let stats = try #require(registry.statistics(of: "mlm"))
        #expect(stats.cacheMiss == ModelStatistics.Duration(count: 1, nanoseconds: 100_000))
        #expect(stats.cacheHit == ModelStatistics.Duration(count: 2, nanoseconds: 20_000))
        let text = registry.render()
        #expect(metricValue(#"perceiverd_latent_cache_lookups_total{model="mlm",result="hit"}"#, in: text) == 2)
        #expect(metricValue(#"perceiverd_latent_cache_lookups_total{model="mlm",result="miss"}"#, in: text) == 1)
    }

    @Test func statisticsOutliveARegistrationAgain() throws {
        let registry = MetricsRegistry()
        registry.register(model: "mlm")
        registry.batchExecuted(model: "mlm", rows: 2, queueSeconds: [0], computeSeconds: 0.1)
        registry.register(model: "mlm", info: MetricsRegistry.ModelInfo(version: "2", architecture: "A",
                                                                         precision: "f32", requestedPrecision: "f32"))
        #expect(registry.statistics(of: "mlm")?.executionCount == 1)
        #expect(registry.statistics(of: "mlm")?.batches[2]?.computeInfer.nanoseconds == 100_000_000)
    }

    @Test(arguments: [(0.0, 0), (-1, 0), (Double.nan, 0), (1.5e-9, 2), (2.4e-9, 2), (1, 1_000_000_000),
                      (1e30, UInt64.max)] as [(Double, UInt64)])
    func durationsRoundToWholeNanoseconds(seconds: Double, nanoseconds: UInt64) {
        #expect(ModelStatistics.Duration.nanoseconds(seconds) == nanoseconds)
    }

    /// `$model_stat` with Triton's field names, every `inference_stats` entry present, batch sizes ascending.
    @Test func rendersTritonsModelStat() throws {
        var stats = ModelStatistics()
        stats.lastInferenceMilliseconds = 1_700_000_000_123
        stats.inferenceCount = 5
        stats.executionCount = 2
        stats.success = .init(count: 3, nanoseconds: 900)
        stats.cacheHit = .init(count: 1, nanoseconds: 7)
        stats.batches[4] = .init(computeInfer: .init(count: 1, nanoseconds: 40))
        stats.batches[1] = .init(computeInput: .init(count: 1, nanoseconds: 1))
        let text = stats.json(name: "m\"1", version: "1")
        let zero = #"{"count":0,"ns":0}"#
        #expect(text == #"{"name":"m\"1","version":"1","last_inference":1700000000123,"inference_count":5,"#
                + #""execution_count":2,"inference_stats":{"success":{"count":3,"ns":900},"fail":\#(zero),"#
                + #""queue":\#(zero),"compute_input":\#(zero),"compute_infer":\#(zero),"compute_output":\#(zero),"#
                + #""cache_hit":{"count":1,"ns":7},"cache_miss":\#(zero)},"batch_stats":["#
                + #"{"batch_size":1,"compute_input":{"count":1,"ns":1},"compute_infer":\#(zero),"#
                + #""compute_output":\#(zero)},{"batch_size":4,"compute_input":\#(zero),"#
                + #""compute_infer":{"count":1,"ns":40},"compute_output":\#(zero)}]}"#)
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [String: Any])
    }
}

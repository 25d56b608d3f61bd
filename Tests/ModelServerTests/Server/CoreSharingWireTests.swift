import Foundation
import HTTPTestSupport
@testable import ModelServer
import Testing

/// Cores follow the work (issue 23 part 5), through the wire: a model's pass beside an idle second model takes
/// every core of `threads` (the old static split gave it half), a `threads_per_instance` caps it, and the log
/// line and `/metrics` say what each pass got.
@Suite(.serialized) struct CoreSharingWireTests {
    static let models = ServerFixtures.root + "/models"

    /// Runs one fill on `mlm` (beside an idle `seqcls`) in a daemon of 2 threads; the threads its pass took, as
    /// the request's log line and `/metrics` say.
    func passThreads(mlmCap: Int) throws -> (logged: String?, sum: Double?, inUse: Double?) {
        let log = CapturedLog()
        let configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, threads: 2,
            models: [ModelConfiguration(name: "mlm", path: Self.models + "/mlm", threadsPerInstance: mlmCap),
                     ModelConfiguration(name: "seqcls", path: Self.models + "/seqcls")])
        var result: (String?, Double?, Double?) = (nil, nil, nil)
        try TestDaemon.run(configuration, logger: log.logger()) { daemon in
            let client = try RawHTTPClient(port: daemon.port, timeout: 30)
            let body = #"{"inputs":[{"name":"input_ids","shape":[1,6],"datatype":"INT64","data":[6,7,8,9,10,11]}]}"#
            let answer = try client.request("POST", "/v2/models/mlm/infer", headers: ["X-Request-ID": "fill"],
                                            body: Data(body.utf8))
            #expect(answer.status == 200)
            let metrics = try client.request("GET", "/metrics").text
            result = (Self.logged(log, "fill", "batch.threads"),
                      Self.value(metrics, #"perceiverd_inference_pass_threads_sum{model="mlm"}"#),
                      Self.value(metrics, "perceiverd_compute_threads_in_use"))
            #expect(Self.value(metrics, "perceiverd_compute_threads") == 2)
            #expect(Self.value(metrics, #"perceiverd_inference_pass_threads_count{model="seqcls"}"#) == 0)
        }
        return result
    }

    /// `key` of the log line of request `id`, waiting up to 5 s for it (the line may follow the answer).
    static func logged(_ log: CapturedLog, _ id: String, _ key: String) -> String? {
        for _ in 0..<500 {
            if let line = log.records.first(where: { $0.metadata["request.id"] == id && $0.metadata[key] != nil }) {
                return line.metadata[key]
            }
            usleep(10_000)
        }
        return nil
    }

    static func value(_ metrics: String, _ series: String) -> Double? {
        metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    @Test func aPassBesideAnIdleModelTakesEveryCore() throws {
        let (logged, sum, inUse) = try passThreads(mlmCap: 0)
        #expect(logged == "2")
        #expect(sum == 2)
        #expect(inUse == 0, "given back when the pass ended")
    }

    @Test func threadsPerInstanceCapsAPass() throws {
        let (logged, sum, _) = try passThreads(mlmCap: 1)
        #expect(logged == "1")
        #expect(sum == 1)
    }
}

import Foundation
import Glibc
import HTTPTestSupport
@testable import ModelServer
import PerceiverEngine
import Testing

/// Triton's model repository extension through the wire (issue #21): the index, load with a configuration,
/// reload with new weights while clients keep sending, a load that fails beside a model that keeps serving, and
/// unload, each on a daemon of its own.
@Suite(.serialized) struct RepositoryWireTests {
    static let models = ServerFixtures.root + "/models"

    func withDaemon(_ models: [ModelConfiguration], admin: AdminConfiguration = AdminConfiguration(repository: true),
                    _ body: (Daemon) throws -> Void) throws {
        let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, threads: 1, models: models, admin: admin)
        try TestDaemon.run(configuration) { daemon in try body(daemon) }
    }

    func post(_ client: RawHTTPClient, _ path: String, _ body: String = "") throws -> RawHTTPClient.Response {
        try client.request("POST", path, body: Data(body.utf8))
    }

    func index(_ client: RawHTTPClient, ready: Bool = false) throws -> [[String: String]] {
        let response = try post(client, "/v2/repository/index", ready ? #"{"ready": true}"# : "")
        let array = try JSONSerialization.jsonObject(with: response.body) as? [[String: String]]
        return try #require(array, "\(response.text)")
    }

    /// `config` as Triton's load takes it: a JSON string inside `parameters`.
    func loadBody(_ config: String) -> String {
        let quoted = String(decoding: try! JSONSerialization.data(withJSONObject: [config], options: [.fragmentsAllowed]),
                            as: UTF8.self).dropFirst().dropLast()
        return #"{"parameters": {"config": \#(quoted)}}"#
    }

    /// A copy of fixture `name` in a fresh directory (a model whose files a test may replace).
    func copyOfFixture(_ name: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("repo-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: Self.models + "/" + name, toPath: directory.path)
        return directory.path
    }

    func logits(_ response: RawHTTPClient.Response) -> [Double] {
        let outputs = response.json?["outputs"] as? [[String: Any]]
        return (outputs?.first?["data"] as? [NSNumber])?.map(\.doubleValue) ?? []
    }

    static let text = #"{"inputs":[{"name":"input_ids","shape":[1,5],"datatype":"INT64","data":[4,70,71,72,5]}]}"#

    @Test func theIndexListsEveryModelAndALoadAddsOne() throws {
        try withDaemon([ModelConfiguration(name: "mlm", path: Self.models + "/mlm")]) { daemon in
            let client = try RawHTTPClient(port: daemon.port, timeout: 60)
            #expect(try index(client) == [["name": "mlm", "version": "1", "state": "READY", "reason": ""]])
            let loaded = try post(client, "/v2/repository/models/seqcls/load", loadBody("""
                {"path": "\(Self.models)/seqcls", "version": "7", "max_batch_size": 2}
                """))
            #expect(loaded.status == 200, "\(loaded.text)")
            #expect(try index(client, ready: true).map { $0["name"] } == ["mlm", "seqcls"])
            #expect(try index(client).last?["version"] == "7")
            let answer = try post(client, "/infer", #"{"model": "seqcls", "text": "hello"}"#)
            #expect(answer.status == 200, "\(answer.text)")
            // Its max_batch_size is the configuration's: 3 rows are refused.
            let three = try post(client, "/v2/models/seqcls/infer",
                                 #"{"inputs":[{"name":"input_ids","shape":[3,1],"datatype":"INT64","data":[4,4,4]}]}"#)
            #expect(three.status == 400 && three.text.contains("max_batch_size 2"), "\(three.text)")
            #expect(try client.request("GET", "/v2/models/seqcls/versions/7/ready").status == 200)
        }
    }

    /// A configuration that does not validate is a 400 naming its key; a load that fails (no such directory)
    /// is a 400 with the reason, recorded in the index, and never touches the model that serves that name.
    @Test func aFailedLoadLeavesThePreviousModelServing() throws {
        try withDaemon([ModelConfiguration(name: "mlm", path: Self.models + "/mlm")]) { daemon in
            let client = try RawHTTPClient(port: daemon.port, timeout: 60)
            let before = logits(try post(client, "/v2/models/mlm/infer", Self.text))
            let invalid = try post(client, "/v2/repository/models/mlm/load",
                                   loadBody(#"{"path": "/x", "max_batch_size": 0}"#))
            #expect(invalid.status == 400)
            #expect(invalid.text.contains("'max_batch_size' must be an integer of at least 1"), "\(invalid.text)")
            let renamed = try post(client, "/v2/repository/models/mlm/load", loadBody(#"{"name": "other", "path": "/x"}"#))
            #expect(renamed.status == 400 && renamed.text.contains("'name'"), "\(renamed.text)")
            let missing = try post(client, "/v2/repository/models/mlm/load", loadBody(#"{"path": "/no/such/model"}"#))
            #expect(missing.status == 400)
            #expect(missing.text.contains("model 'mlm' failed to load"), "\(missing.text)")
            let entry = try #require(try index(client).first)
            #expect(entry["state"] == "READY")
            #expect(entry["reason"]?.hasPrefix("reload failed") == true, "\(entry)")
            #expect(logits(try post(client, "/v2/models/mlm/infer", Self.text)) == before)
            // A model never served that fails to load is UNAVAILABLE, and its routes say why.
            _ = try post(client, "/v2/repository/models/ghost/load", loadBody(#"{"path": "/no/such/model"}"#))
            #expect(try index(client).last?["state"] == "UNAVAILABLE")
            let ghost = try post(client, "/v2/models/ghost/infer", Self.text)
            #expect(ghost.status == 404 && ghost.text.contains("model 'ghost' is not loaded"), "\(ghost.text)")
            // Unknown without a configuration: nothing to load.
            #expect(try post(client, "/v2/repository/models/nobody/load").status == 404)
        }
    }

    /// Reloading with new weights while clients keep sending: every request is answered 200, by the old
    /// weights or the new, and once the reload has answered every request sees the new ones.
    @Test func reloadsUnderLoadLoseNoRequest() throws {
        let directory = try copyOfFixture("mlm")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try withDaemon([ModelConfiguration(name: "mlm", path: directory)]) { daemon in
            let admin = try RawHTTPClient(port: daemon.port, timeout: 60)
            let old = logits(try post(admin, "/v2/models/mlm/infer", Self.text))
            let newWeights = try ServerFixtures.model("mlm_f16").predict(ModelInputs(
                inputIDs: IndexTensor(shape: [1, 5], values: [4, 70, 71, 72, 5]))).logits.scalars.map(Double.init)
            let statuses = StatusTally()
            let stop = Flag()
            let group = DispatchGroup()
            for _ in 0..<4 {
                DispatchQueue.global().async(group: group) {
                    guard let client = try? RawHTTPClient(port: daemon.port, timeout: 60) else {
                        return statuses.add(-1)
                    }
                    while !stop.isSet {
                        statuses.add((try? post(client, "/v2/models/mlm/infer", Self.text).status) ?? -1)
                    }
                }
            }
            for round in 0..<10 {
                // Alternate the weights: mlm, then mlm_f16 (the same model stored in float16), and so on.
                let source = Self.models + (round % 2 == 0 ? "/mlm_f16" : "/mlm") + "/model.safetensors"
                try FileManager.default.removeItem(atPath: directory + "/model.safetensors")
                try FileManager.default.copyItem(atPath: source, toPath: directory + "/model.safetensors")
                let reload = try post(admin, "/v2/repository/models/mlm/load")
                #expect(reload.status == 200, "round \(round): \(reload.text)")
                // The weights differ by float16 rounding (about 1e-3 here); sharing a batch with the other
                // clients' requests changes the summation order only (1e-5 at most, BatchInvarianceTests).
                let now = logits(try post(admin, "/v2/models/mlm/infer", Self.text))
                let expected = round % 2 == 0 ? newWeights : old
                let other = round % 2 == 0 ? old : newWeights
                #expect(zip(now, expected).map { abs($0 - $1) }.max() ?? 1 <= 1e-4, "round \(round)")
                #expect(zip(now, other).map { abs($0 - $1) }.max() ?? 0 > 1e-4, "round \(round)")
            }
            stop.set()
            group.wait()
            let counts = statuses.counts
            #expect(counts.keys.sorted() == [200], "\(counts)")
            #expect((counts[200] ?? 0) >= 10, "\(counts)")
            #expect(try index(admin).first?["state"] == "READY")
        }
    }

    /// Unload answers once the model has answered what it accepted (a request in flight gets its 200), then the
    /// model's routes are 404s that say it is not loaded, and a load brings it back.
    @Test func unloadFinishesWhatTheModelAcceptedAndFreesIt() throws {
        let seqcls = ModelConfiguration(name: "seqcls", path: Self.models + "/seqcls", maxBatchSize: 4096)
        try withDaemon([seqcls]) { daemon in
            let client = try RawHTTPClient(port: daemon.port, timeout: 60)
            weak let retired = daemon.models.first
            let rows = (0..<(4096 * 24)).map { 6 + ($0 * 31) % 200 }
            let big = #"{"inputs":[{"name":"input_ids","shape":[4096,24],"datatype":"INT64","data":\#(rows)}]}"#
            let busy = try RawHTTPClient(port: daemon.port, timeout: 60)
            try busy.send("POST /v2/models/seqcls/infer HTTP/1.1\r\nHost: x\r\nContent-Length: \(big.utf8.count)\r\n\r\n" + big)
            usleep(100_000)
            let unloaded = try post(client, "/v2/repository/models/seqcls/unload")
            #expect(unloaded.status == 200, "\(unloaded.text)")
            #expect(try busy.readResponse().status == 200)
            #expect(try index(client) == [["name": "seqcls", "version": "1", "state": "UNAVAILABLE", "reason": "unloaded"]])
            let gone = try post(client, "/infer", #"{"model": "seqcls", "text": "hi"}"#)
            #expect(gone.status == 404 && gone.text.contains("model 'seqcls' is not loaded (unloaded)"), "\(gone.text)")
            #expect(try client.request("GET", "/v2/models/seqcls/ready").status == 404)
            #expect(try metric(client, "perceiverd_models_ready") == 0)
            // Its weights go with the last reference: the answers hand theirs back on other threads just after.
            for _ in 0..<200 where retired != nil { usleep(10_000) }
            #expect(retired == nil, "nothing holds the unloaded model")
            #expect(try post(client, "/v2/repository/models/seqcls/unload").status == 404)
            #expect(try post(client, "/v2/repository/models/seqcls/load").status == 200)
            #expect(try post(client, "/infer", #"{"model": "seqcls", "text": "hi"}"#).status == 200)
        }
    }

    @Test func theRoutesAreOffUnlessEnabledAndBodiesAreStrict() throws {
        try withDaemon([ModelConfiguration(name: "mlm", path: Self.models + "/mlm")], admin: AdminConfiguration()) { daemon in
            let client = try RawHTTPClient(port: daemon.port)
            let off = try post(client, "/v2/repository/index")
            #expect(off.status == 403 && off.text.contains("admin.repository"), "\(off.text)")
        }
        try withDaemon([ModelConfiguration(name: "mlm", path: Self.models + "/mlm")]) { daemon in
            let client = try RawHTTPClient(port: daemon.port)
            #expect(try post(client, "/v2/repository/index", #"{"ready": 1}"#).status == 400)
            #expect(try post(client, "/v2/repository/index", #"{"readyy": true}"#).text.contains("unknown field"))
            let notString = try post(client, "/v2/repository/models/mlm/load", #"{"parameters": {"config": {}}}"#)
            #expect(notString.status == 400 && notString.text.contains("parameters.config must be a string"))
            #expect(try client.request("GET", "/v2/repository/index").status == 405)
        }
    }

    func metric(_ client: RawHTTPClient, _ series: String) throws -> Double? {
        let text = try client.request("GET", "/metrics").text
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(series + " ") }) else { return nil }
        return Double(line.split(separator: " ").last!)
    }

    final class StatusTally: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [Int: Int] = [:]
        func add(_ status: Int) { lock.withLock { stored[status, default: 0] += 1 } }
        var counts: [Int: Int] { lock.withLock { stored } }
    }

    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }
}

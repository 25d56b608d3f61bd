import Foundation
import Glibc
import HTTPTestSupport
@testable import ModelServer
import PerceiverEngine
import Testing

/// Encode once, query many, through the wire (issue #20): the latent cache that needs no client change, the
/// `latents_id` handles, latents a client holds itself, and what an operator sees, each on a daemon of its own.
@Suite(.serialized) struct LatentCacheWireTests {
    static let models = ServerFixtures.root + "/models"

    func mlm(cacheMiB: Int = 256, maxBatchSize: Int = 8) -> ModelConfiguration {
        ModelConfiguration(name: "mlm", path: Self.models + "/mlm", maxBatchSize: maxBatchSize, latentCacheMiB: cacheMiB)
    }

    /// Runs `body` against an in-process daemon, then drains it.
    func withDaemon(_ models: [ModelConfiguration], auth: AuthConfiguration = AuthConfiguration(),
                    log: CapturedLog? = nil, _ body: (Daemon) throws -> Void) throws {
        let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, threads: 1, models: models, auth: auth)
        try TestDaemon.run(configuration, logger: log?.logger()) { daemon in try body(daemon) }
    }

    /// Byte-level token ids of `text`, as the fixture model reads them.
    func ids(_ text: String) -> [Int] { ByteTokenizer().encode(text) }

    func ints(_ name: String, _ shape: [Int], _ values: [Int]) -> String {
        #"{"name":"\#(name)","shape":\#(shape),"datatype":"INT64","data":\#(values)}"#
    }

    /// A V2 body: `tensors`, and optionally `outputs` and `parameters` JSON.
    func body(_ tensors: [String], outputs: String? = nil, parameters: String? = nil) -> Data {
        var json = #"{"inputs":[\#(tensors.joined(separator: ","))]"#
        if let outputs { json += #","outputs":\#(outputs)"# }
        if let parameters { json += #","parameters":\#(parameters)"# }
        return Data((json + "}").utf8)
    }

    func infer(_ client: RawHTTPClient, _ model: String, _ body: Data,
               token: String? = nil) throws -> RawHTTPClient.Response {
        try client.request("POST", "/v2/models/\(model)/infer",
                           headers: token.map { ["Authorization": "Bearer \($0)"] } ?? [:], body: body)
    }

    func latentsID(_ response: RawHTTPClient.Response) -> String? {
        (response.json?["parameters"] as? [String: Any])?["latents_id"] as? String
    }

    func output(_ response: RawHTTPClient.Response, _ name: String) -> (shape: [Int], data: [Float])? {
        guard let outputs = response.json?["outputs"] as? [[String: Any]],
              let tensor = outputs.first(where: { $0["name"] as? String == name }),
              let shape = tensor["shape"] as? [Int], let data = tensor["data"] as? [NSNumber] else { return nil }
        return (shape, data.map(\.floatValue))
    }

    func metric(_ client: RawHTTPClient, _ series: String) throws -> Double? {
        let text = try client.request("GET", "/metrics").text
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(series + " ") }) else { return nil }
        return Double(line.split(separator: " ").last!)
    }

    /// What the model computes for `text` at `positions` in one forward pass, in process.
    func expected(_ model: PerceiverModel, _ text: String, positions: [Int]) throws -> [Float] {
        let tokens = ids(text)
        return try model.predict(ModelInputs(inputIDs: IndexTensor(shape: [1, tokens.count], values: tokens),
                                             outputPositions: IndexTensor(shape: [1, positions.count], values: positions)))
            .logits.scalars
    }

    // MARK: automatic reuse

    /// The second request on the same text, asking for other positions, runs no encoder pass and gets exactly
    /// what a full forward pass gives; the metrics and the log line say so.
    @Test func aRequestOnTextSeenBeforeSkipsTheEncoder() throws {
        let log = CapturedLog()
        try withDaemon([mlm()], log: log) { daemon in
            let served = try #require(daemon.models.first)
            let client = try RawHTTPClient(port: daemon.port)
            let text = "the cat sat on the [MASK]at"
            let input = ints("input_ids", [1, ids(text).count], ids(text))
            let first = try infer(client, "mlm", body([input, ints("output_positions", [1, 2], [0, 1])]))
            #expect(first.status == 200, "\(first.text)")
            let passes = served.model.counts.passes
            let second = try infer(client, "mlm", body([input, ints("output_positions", [1, 3], [19, 20, 2])]))
            #expect(second.status == 200, "\(second.text)")
            #expect(served.model.counts.passes == passes, "no encoder pass for the second request")
            #expect(output(second, "logits")?.data == (try expected(served.model, text, positions: [19, 20, 2])))
            let id = try #require(latentsID(first))
            #expect(id.count == 32 && id.allSatisfy(\.isHexDigit))
            #expect(latentsID(second) == id, "one entry, one id per scope")
            #expect(try metric(client, #"perceiverd_latent_cache_lookups_total{model="mlm",result="miss"}"#) == 1)
            #expect(try metric(client, #"perceiverd_latent_cache_lookups_total{model="mlm",result="hit"}"#) == 1)
            #expect(try metric(client, #"perceiverd_encoder_passes_saved_total{model="mlm"}"#) == 1)
            #expect(try metric(client, #"perceiverd_latent_cache_entries{model="mlm"}"#) == 1)
            // (1, N = 8, D = 64) float32.
            #expect(try metric(client, #"perceiverd_latent_cache_bytes{model="mlm"}"#) == 8 * 64 * 4)
            let labels = log.records.filter { $0.metadata["http.path"] == "/v2/models/mlm/infer" }
                .compactMap { $0.metadata["latents"] }
            #expect(labels == ["miss", "hit"])
        }
    }

    /// Identical requests that arrive while the first is encoding wait for that encode instead of running
    /// their own; all get the same answer.
    @Test func identicalRequestsInFlightShareOneEncode() throws {
        let seqcls = ModelConfiguration(name: "seqcls", path: Self.models + "/seqcls", maxBatchSize: 4096)
        try withDaemon([seqcls]) { daemon in
            let served = try #require(daemon.models.first)
            // 4096 rows: long enough in compute that the others arrive while it runs.
            let rows = (0..<(4096 * 24)).map { 6 + ($0 * 31) % 200 }
            let request = body([ints("input_ids", [4096, 24], rows)])
            let passes = served.model.counts.passes
            let clients = try (0..<3).map { _ in try RawHTTPClient(port: daemon.port, timeout: 120) }
            for client in clients {
                try client.send(Data("POST /v2/models/seqcls/infer HTTP/1.1\r\nHost: x\r\nContent-Length: \(request.count)\r\n\r\n".utf8) + request)
            }
            let answers = try clients.map { try $0.readResponse() }
            #expect(answers.allSatisfy { $0.status == 200 })
            #expect(Set(answers.map { output($0, "logits")?.data ?? [] }).count == 1)
            #expect(served.model.counts.passes == passes + 1, "one encoder pass for three identical requests")
        }
    }

    /// The cache holds at most `latent_cache_mib`: the least recently used entries go, an entry larger than the
    /// whole budget is not kept (its response has no id), and an evicted id is a 404 that says what to do.
    @Test func theBudgetIsNeverExceeded() throws {
        try withDaemon([mlm(cacheMiB: 1, maxBatchSize: 1024)]) { daemon in
            let client = try RawHTTPClient(port: daemon.port, timeout: 60)
            // 64 rows of (8, 64) float32 latents: 128 KiB an entry, 8 entries to the MiB.
            func rows(_ count: Int, seed: Int) -> String {
                ints("input_ids", [count, 4], (0..<(count * 4)).map { 6 + ($0 * 13 + seed * 101) % 200 })
            }
            var ids: [String] = []
            for seed in 0..<12 {
                let response = try infer(client, "mlm", body([rows(64, seed: seed), ints("output_positions", [64, 1],
                                                                                        Array(repeating: 0, count: 64))]))
                #expect(response.status == 200, "\(response.text)")
                ids.append(try #require(latentsID(response)))
                let bytes = try #require(try metric(client, #"perceiverd_latent_cache_bytes{model="mlm"}"#))
                #expect(bytes <= Double(1 << 20), "after request \(seed)")
            }
            #expect(try metric(client, #"perceiverd_latent_cache_entries{model="mlm"}"#) == 8)
            #expect(try metric(client, #"perceiverd_latent_cache_evictions_total{model="mlm"}"#) == 4)
            let evicted = try infer(client, "mlm", body([ints("output_positions", [64, 1], Array(repeating: 0, count: 64))],
                                                        parameters: #"{"latents_id":"\#(ids[0])"}"#))
            #expect(evicted.status == 404)
            #expect(evicted.text.contains("resend the inputs"), "\(evicted.text)")
            let kept = try infer(client, "mlm", body([ints("output_positions", [64, 1], Array(repeating: 1, count: 64))],
                                                     parameters: #"{"latents_id":"\#(ids[11])"}"#))
            #expect(kept.status == 200, "\(kept.text)")
            // 520 rows: 1,040 KiB, more than the whole MiB. Answered, not kept, nothing evicted for it.
            let large = try infer(client, "mlm", body([rows(520, seed: 99), ints("output_positions", [520, 1],
                                                                                 Array(repeating: 0, count: 520))]))
            #expect(large.status == 200)
            #expect(latentsID(large) == nil)
            #expect(try metric(client, #"perceiverd_latent_cache_entries{model="mlm"}"#) == 8)
        }
    }

    /// `latent_cache_mib: 0`: nothing kept, no ids, and a `latents_id` is a 404.
    @Test func aCacheOfZeroKeepsNothing() throws {
        try withDaemon([mlm(cacheMiB: 0)]) { daemon in
            let served = try #require(daemon.models.first)
            let client = try RawHTTPClient(port: daemon.port)
            let input = ints("input_ids", [1, ids("hello").count], ids("hello"))
            let passes = served.model.counts.passes
            for _ in 0..<2 {
                let response = try infer(client, "mlm", body([input]))
                #expect(response.status == 200)
                #expect(latentsID(response) == nil)
            }
            #expect(served.model.counts.passes == passes + 2)
            let named = try infer(client, "mlm", body([ints("output_positions", [1, 1], [0])],
                                                      parameters: #"{"latents_id":"0123456789abcdef0123456789abcdef"}"#))
            #expect(named.status == 404)
        }
    }

    // MARK: explicit handles

    /// A `latents_id` and positions, with no encoder inputs, decode from the cache through V2 and `/infer`;
    /// what contradicts it is refused by name.
    @Test func aLatentsIDDecodesWithoutTheInputs() throws {
        try withDaemon([mlm()]) { daemon in
            let served = try #require(daemon.models.first)
            let client = try RawHTTPClient(port: daemon.port)
            let text = "once upon a [MASK]ime"
            let first = try infer(client, "mlm", body([ints("input_ids", [1, ids(text).count], ids(text))]))
            let id = try #require(latentsID(first))
            let reference = try expected(served.model, text, positions: [12, 3])
            let passes = served.model.counts.passes
            let v2 = try infer(client, "mlm", body([ints("output_positions", [1, 2], [12, 3])],
                                                   parameters: #"{"latents_id":"\#(id)"}"#))
            #expect(v2.status == 200, "\(v2.text)")
            #expect(output(v2, "logits")?.data == reference)
            #expect(latentsID(v2) == id)
            // No positions: the default outputs, every position of the text the latents came from.
            let whole = try infer(client, "mlm", body([], parameters: #"{"latents_id":"\#(id)"}"#))
            #expect(output(whole, "logits")?.shape == [1, ids(text).count, 262])
            let task = try client.request("POST", "/infer", body: Data(
                #"{"model":"mlm","latents_id":"\#(id)","inputs":{"output_positions":[[12]]}}"#.utf8))
            #expect(task.status == 200, "\(task.text)")
            #expect(task.json?["latents_id"] as? String == id)
            #expect(served.model.counts.passes == passes)

            let unknown = try infer(client, "mlm", body([], parameters: #"{"latents_id":"ffffffffffffffffffffffffffffffff"}"#))
            #expect(unknown.status == 404)
            #expect(unknown.json?["error"] as? String == "latents_id 'ffffffffffffffffffffffffffffffff' names no cached "
                    + "latents of model 'mlm' (evicted, never issued, or issued to another token); resend the inputs")
            let both = try infer(client, "mlm", body([ints("input_ids", [1, 2], [6, 7])],
                                                     parameters: #"{"latents_id":"\#(id)"}"#))
            #expect(both.status == 400)
            #expect(both.text.contains("'latents_id' replaces the encoder inputs: leave out 'input_ids'"), "\(both.text)")
            let notString = try infer(client, "mlm", body([], parameters: #"{"latents_id":7}"#))
            #expect(notString.status == 400)
            #expect(notString.text.contains("parameter 'latents_id' must be a string"))
            let text400 = try client.request("POST", "/infer", body: Data(
                #"{"model":"mlm","latents_id":"\#(id)","text":"x"}"#.utf8))
            #expect(text400.status == 400)
            #expect(text400.text.contains("not 'text'"))
        }
    }

    /// With auth on, an id works only with the token whose request created it, and the automatic reuse too is
    /// per token: a second token sending the same text runs its own encode (a hit is faster than a miss, so a
    /// shared cache would let one client time whether another had sent a text it guesses).
    @Test func latentsBelongToTheTokenThatCreatedThem() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)").path
        try Data("alpha-1\nbeta-2\n".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        try withDaemon([mlm()], auth: AuthConfiguration(tokenFile: path)) { daemon in
            let served = try #require(daemon.models.first)
            let client = try RawHTTPClient(port: daemon.port)
            let input = body([ints("input_ids", [1, ids("secret").count], ids("secret"))])
            let alpha = try infer(client, "mlm", input, token: "alpha-1")
            let id = try #require(latentsID(alpha))
            let byID = body([ints("output_positions", [1, 1], [0])], parameters: #"{"latents_id":"\#(id)"}"#)
            #expect(try infer(client, "mlm", byID, token: "alpha-1").status == 200)
            let foreign = try infer(client, "mlm", byID, token: "beta-2")
            #expect(foreign.status == 404)
            var passes = served.model.counts.passes
            let beta = try infer(client, "mlm", input, token: "beta-2")
            #expect(beta.status == 200)
            #expect(served.model.counts.passes == passes + 1, "beta's first request is a miss")
            let betaID = try #require(latentsID(beta))
            #expect(betaID != id)
            passes = served.model.counts.passes
            #expect(try infer(client, "mlm", input, token: "alpha-1").status == 200)
            #expect(try infer(client, "mlm", input, token: "beta-2").status == 200)
            #expect(served.model.counts.passes == passes, "each token's repeat is a hit")
        }
    }

    // MARK: client-held latents

    /// The `latents` output, sent back as the `latents` input to another replica that has never seen the
    /// inputs (and keeps no cache), decodes to the same numbers: no shared state needed.
    @Test func latentsAClientHoldsDecodeOnAnyReplica() throws {
        let text = "replicas share [MASK]othing"
        var held: (shape: [Int], data: [Float])?
        var first: [Float] = []
        try withDaemon([mlm()]) { daemon in
            let client = try RawHTTPClient(port: daemon.port)
            let response = try infer(client, "mlm", body([ints("input_ids", [1, ids(text).count], ids(text)),
                                                          ints("output_positions", [1, 2], [15, 16])],
                                                         outputs: #"[{"name":"logits"},{"name":"latents"}]"#))
            #expect(response.status == 200, "\(response.text)")
            held = output(response, "latents")
            first = output(response, "logits")?.data ?? []
            // Asked for without `outputs`: not sent (it is large and few want it).
            let plain = try infer(client, "mlm", body([ints("input_ids", [1, 3], [6, 7, 8])]))
            #expect(output(plain, "latents") == nil)
        }
        let latents = try #require(held)
        #expect(latents.shape == [1, 8, 64])
        try withDaemon([mlm(cacheMiB: 0)]) { daemon in
            let served = try #require(daemon.models.first)
            let client = try RawHTTPClient(port: daemon.port)
            let tensor = #"{"name":"latents","shape":[1,8,64],"datatype":"FP32","data":\#(latents.data)}"#
            let passes = served.model.counts.passes
            let response = try infer(client, "mlm", body([tensor, ints("output_positions", [1, 2], [15, 16])]))
            #expect(response.status == 200, "\(response.text)")
            #expect(output(response, "logits")?.data == first)
            #expect(served.model.counts.passes == passes)
            #expect(try metric(client, #"perceiverd_encoder_passes_saved_total{model="mlm"}"#) == 1)
            // Without positions the latents cannot say how long the text was.
            let alone = try infer(client, "mlm", body([tensor]))
            #expect(alone.status == 400)
            #expect(alone.text.contains("output_positions or queries"), "\(alone.text)")
            let wrong = #"{"name":"latents","shape":[1,8,63],"datatype":"FP32","data":\#(Array(latents.data.prefix(504)))}"#
            let refused = try infer(client, "mlm", body([wrong, ints("output_positions", [1, 1], [0])]))
            #expect(refused.status == 400)
            #expect(refused.text.contains("latents"), "\(refused.text)")
        }
    }

    // MARK: dense outputs

    /// A fixture case's inputs as V2 tensors, leaving out `drop`.
    func tensors(_ fixture: FixtureCases.Case, dropping drop: (String) -> Bool) -> [String] {
        fixture.inputs.filter { !drop($0.name) }.map { input in
            let datatype = input.floats == nil ? "INT64" : "FP32"
            let data = input.floats.map { $0.map { "\($0)" } } ?? input.integers!.map(String.init)
            return #"{"name":"\#(input.name)","shape":\#(input.shape),"datatype":"\#(datatype)","data":[\#(data.joined(separator: ","))]}"#
        }
    }

    /// Optical flow at new pixels of a frame pair seen before: no encoder pass; the cached latents keep the
    /// frames, from which the chosen pixels' query rows are rebuilt, and a decode by id gives the same numbers.
    @Test func flowAtNewPixelsOfACachedPairSkipsTheEncoder() throws {
        let flow = ModelConfiguration(name: "flow", path: Self.models + "/flow")
        try withDaemon([flow]) { daemon in
            let served = try #require(daemon.models.first)
            let client = try RawHTTPClient(port: daemon.port)
            let frames = tensors(try FixtureCases.load("flow_frames")) { _ in false }
            let first = try infer(client, "flow", body(frames + [ints("output_positions", [2, 2], [0, 1, 2, 3])]))
            #expect(first.status == 200, "\(first.text)")
            let id = try #require(latentsID(first))
            let passes = served.model.counts.passes
            let pixels = ints("output_positions", [2, 3], [47, 5, 20, 9, 0, 33])
            let second = try infer(client, "flow", body(frames + [pixels]))
            #expect(second.status == 200, "\(second.text)")
            #expect(output(second, "logits")?.shape == [2, 3, 2])
            let byID = try infer(client, "flow", body([pixels], parameters: #"{"latents_id":"\#(id)"}"#))
            #expect(output(byID, "logits")?.data == output(second, "logits")?.data)
            #expect(served.model.counts.passes == passes)
            // (2 items x 8 latents x 32 channels) + the frames (2 x 2 x 3 x 6 x 8), float32: not the (2, 48, 322)
            // preprocessed rows.
            #expect(try metric(client, #"perceiverd_latent_cache_bytes{model="flow"}"#)
                    == Double((2 * 8 * 32 + 2 * 2 * 3 * 6 * 8) * 4))
        }
    }

    /// DeepMind's chunked multimodal decode: the same clip sent with a different subset of output points each
    /// call. One encoder pass for the whole loop, and each chunk equals a forward pass on its own inputs.
    @Test func aChunkedMultimodalLoopEncodesOnce() throws {
        let multimodal = ModelConfiguration(name: "multimodal", path: Self.models + "/multimodal")
        try withDaemon([multimodal]) { daemon in
            let served = try #require(daemon.models.first)
            let client = try RawHTTPClient(port: daemon.port)
            let fixture = try FixtureCases.load("multimodal_full")
            let clip = tensors(fixture) { $0.hasPrefix("output_positions") }
            var passes = 0
            for chunk in 0..<4 {
                // 512 image points and 4 audio patches in 4 chunks; each batch item asks for the same points.
                let image = Array((chunk * 128)..<((chunk + 1) * 128))
                let positions = [ints("output_positions_image", [2, 128], image + image),
                                 ints("output_positions_audio", [2, 1], [chunk, chunk])]
                let response = try infer(client, "multimodal", body(clip + positions))
                #expect(response.status == 200, "\(response.text.prefix(300))")
                if chunk == 0 { passes = served.model.counts.passes }
                let inputs = try ModelInputs(v2: try V2InferenceRequest(json: body(clip + positions)).inputs,
                                             specs: served.model.inputSpecs)
                let alone = try served.model.predict(inputs)
                for name in ["image", "audio", "label"] {
                    #expect(output(response, name)?.data == alone[name]?.scalars, "chunk \(chunk) \(name)")
                }
                passes += 1   // the in-process reference's own pass
            }
            #expect(served.model.counts.passes == passes, "the daemon encoded the clip once")
            #expect(try metric(client, #"perceiverd_encoder_passes_saved_total{model="multimodal"}"#) == 3)
        }
    }
}

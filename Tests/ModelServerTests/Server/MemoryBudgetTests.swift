import Foundation
import Glibc
import HTTPTestSupport
import PerceiverEngine
import Testing

/// What a variable-size model may be asked to do is bounded before any work: the input and output size limits,
/// and the model's memory budget against the estimated memory of each pass. Measured on the real process:
/// a refused request leaves resident memory where it was, and an admitted pass stays within its estimate.
/// (A 1448 x 1448 Fourier request used to peak at 8.7 GB.)
@Suite(.serialized) struct MemoryBudgetTests {
    static func start(budgetMiB: Int, limits: String = "") throws -> DaemonProcess {
        let config = try LifecycleTests.writeConfig("""
            {"port": 0, "threads": 1, "limits": {\(limits)},
             "models": [{"name": "fourier", "path": "\(LifecycleTests.models)/fourier", "memory_budget_mib": \(budgetMiB)}]}
            """)
        return try DaemonProcess(["--config", config], environment: [:])
    }

    /// A V2 request for a `side` x `side` image, its pixels as binary tensor data.
    static func request(side: Int, extra: String = "") -> (body: Data, headerLength: Int) {
        let count = 3 * side * side
        let header = #"{"inputs":[{"name":"pixel_values","shape":[1,3,\#(side),\#(side)],"datatype":"FP32","#
            + #""parameters":{"binary_data_size":\#(count * 4)}}\#(extra)]}"#
        var body = Data(header.utf8)
        let pixels = (0..<count).map { Float(($0 % 255)) / 255 }
        pixels.withUnsafeBytes { body.append(contentsOf: $0) }
        return (body, header.utf8.count)
    }

    static func post(_ port: Int, _ request: (body: Data, headerLength: Int)) throws -> RawHTTPClient.Response {
        try RawHTTPClient(port: port, timeout: 120).request(
            "POST", "/v2/models/fourier/infer", headers: ["Inference-Header-Content-Length": String(request.headerLength)],
            body: request.body)
    }

    /// The process's peak resident memory (`VmHWM`) in bytes.
    static func peakResident(_ pid: pid_t) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    static func estimate(side: Int) throws -> Int {
        let model = try ServerFixtures.model("fourier")
        return model.estimatedPassBytes(ModelInputs(pixelValues: Tensor(
            shape: [1, 3, side, side], scalars: [Float](repeating: 0, count: 3 * side * side))))
    }

    @Test func aPassOverTheBudgetIsRefusedBeforeAnyWork() throws {
        let daemon = try Self.start(budgetMiB: 32)
        defer { daemon.kill() }
        try daemon.waitForReady()
        let port = try daemon.port()
        let before = Self.peakResident(daemon.pid)
        let refused = try Self.post(port, Self.request(side: 256))
        #expect(refused.status == 413)
        #expect(refused.text.contains("memory budget of 32 MiB"), "\(refused.text)")
        let metrics = try RawHTTPClient(port: port).request("GET", "/metrics").text
        #expect(metricValue(#"perceiverd_inference_executions_total{model="fourier"}"#, in: metrics) == 0)
        // The 786 KB body and its parse, nothing of the pass (estimated above 100 MiB).
        #expect(try Self.estimate(side: 256) > 100 << 20)
        #expect(Self.peakResident(daemon.pid) - before < 32 << 20)
        // A small image fits the same budget.
        #expect(try Self.post(port, Self.request(side: 32)).status == 200)
    }

    @Test func anAdmittedPassStaysWithinItsEstimate() throws {
        let daemon = try Self.start(budgetMiB: 2048)
        defer { daemon.kill() }
        try daemon.waitForReady()
        let port = try daemon.port()
        let before = Self.peakResident(daemon.pid)
        let estimate = try Self.estimate(side: 256)
        let answer = try Self.post(port, Self.request(side: 256))
        #expect(answer.status == 200)
        let used = Self.peakResident(daemon.pid) - before
        #expect(used > 0 && used <= estimate, "peak rose \(used >> 20) MiB, estimate \(estimate >> 20) MiB")
    }

    @Test func inputsAndOutputsOverTheSizeLimitsAre413() throws {
        let daemon = try Self.start(budgetMiB: 2048, limits: #""max_input_pixels": 4096, "max_output_rows": 2"#)
        defer { daemon.kill() }
        try daemon.waitForReady()
        let port = try daemon.port()
        let large = try Self.post(port, Self.request(side: 65))
        #expect(large.status == 413)
        #expect(large.text.contains("65 x 65 pixels per image, more than limits.max_input_pixels (4096)"), "\(large.text)")
        #expect(try Self.post(port, Self.request(side: 64)).status == 200)
        let positions = #",{"name":"output_positions","shape":[1,3],"datatype":"INT64","data":[0,0,0]}"#
        let many = try Self.post(port, Self.request(side: 8, extra: positions))
        #expect(many.status == 413)
        #expect(many.text.contains("3 output rows per item, more than limits.max_output_rows (2)"), "\(many.text)")
    }
}

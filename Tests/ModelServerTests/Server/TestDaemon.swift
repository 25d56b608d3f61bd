import Foundation
import HTTPTestSupport
import Logging
import ModelServer
@testable import PerceiverEngine

/// A daemon serving every fixture model on a free loopback port, started once per test process.
enum TestDaemon {
    static let modelNames = ["mlm", "mlm_f16", "seqcls", "learned", "fourier", "conv", "flow", "flow_tiles",
                             "multimodal"]

    static func configuration(port: Int = 0) -> ServerConfiguration {
        ServerConfiguration(host: "127.0.0.1", port: port, threads: 1, models: modelNames.map {
            ModelConfiguration(name: $0, path: ServerFixtures.root + "/models/" + $0)
        })
    }

    /// The shared daemon, or why it could not start (each test that needs it then fails with that reason;
    /// nothing here may stop the test process).
    static let shared = Result { () throws(TestDaemonError) in try start(configuration()) }

    /// Starts a daemon with `configuration`, runs `body` against it, then drains it, whether `body` throws or not.
    static func run(_ configuration: ServerConfiguration, environment: [String: String] = [:], logger: Logger? = nil,
                    _ body: (Daemon) throws -> Void) throws {
        let daemon = try start(configuration, environment: environment, logger: logger)
        defer {
            let stopped = DispatchSemaphore(value: 0)
            daemon.stop { stopped.signal() }
            stopped.wait()
        }
        try body(daemon)
    }

    /// Starts a daemon (no signal handling) and returns it once it is ready.
    /// - Throws: `TestDaemonError` naming why it did not start; the calling test fails, the others go on.
    static func start(_ configuration: ServerConfiguration, environment: [String: String] = [:],
                      logger: Logger? = nil) throws(TestDaemonError) -> Daemon {
        var quiet = Logger(label: "test-daemon")
        quiet.logLevel = .critical
        let daemon = Daemon(configuration: configuration, logger: logger ?? quiet, version: "test",
                            environment: environment)
        do {
            try daemon.start(handlesSignals: false) {}
        } catch {
            throw TestDaemonError(reason: "\(error)")
        }
        return daemon
    }

    static func client() throws -> RawHTTPClient {
        try RawHTTPClient(port: shared.get().port)
    }
}

/// A test daemon that did not start.
struct TestDaemonError: Error, CustomStringConvertible {
    var reason: String
    var description: String { "test daemon failed to start: \(reason)" }
}

/// Golden cases written by tools/fixtures/make_fixtures.py, read back for wire tests.
enum FixtureCases {
    struct Case {
        var name: String
        var model: String
        var inputs: [(name: String, shape: [Int], integers: [Int]?, floats: [Float]?)]
        /// Expected outputs by name: `logits`, or multimodal `audio`, `image`, `label`.
        var outputs: [String: (shape: [Int], values: [Float])]
        /// The request parameters the case was computed with (manifest "parameters", e.g.
        /// interpolate_pos_encoding), as a JSON object's text.
        var parameters = "{}"

        var logits: [Float] { outputs["logits"]?.values ?? [] }
        var logitsShape: [Int] { outputs["logits"]?.shape ?? [] }
    }

    nonisolated(unsafe) static let manifest: [[String: Any]] = {
        guard let data = FileManager.default.contents(atPath: ServerFixtures.root + "/manifest.json"),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let cases = object["cases"] as? [[String: Any]] else { return [] }
        return cases
    }()

    /// Cases whose model the test daemon serves.
    static var servedNames: [String] {
        manifest.compactMap { entry in
            guard let name = entry["name"] as? String, let model = entry["model"] as? String,
                  TestDaemon.modelNames.contains(model) else { return nil }
            return name
        }
    }

    static func load(_ name: String) throws -> Case {
        let entry = manifest.first { $0["name"] as? String == name } ?? [:]
        let file = try SafeTensorsFile(path: ServerFixtures.root + "/cases/\(name).safetensors")
        var inputs: [(name: String, shape: [Int], integers: [Int]?, floats: [Float]?)] = []
        var outputs: [String: (shape: [Int], values: [Float])] = [:]
        for e in file.header.entries {
            let bytes = file.bytes(of: e)
            let floats = { (0..<e.elementCount).map { bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
            if e.name == "logits" || e.name.hasPrefix("expected.") {
                outputs[e.name.replacingOccurrences(of: "expected.", with: "")] = (e.shape, floats())
            } else if e.dtype == .f32 {
                inputs.append((e.name, e.shape, nil, floats()))
            } else {
                let values = (0..<e.elementCount).map {
                    Int(bytes.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))
                }
                inputs.append((e.name, e.shape, values, nil))
            }
        }
        let parameters = entry["parameters"].flatMap { try? JSONSerialization.data(withJSONObject: $0) }
        return Case(name: name, model: entry["model"] as? String ?? "", inputs: inputs, outputs: outputs,
                    parameters: parameters.flatMap { String(data: $0, encoding: .utf8) } ?? "{}")
    }

    /// The case as a KServe V2 JSON request body, with its parameters.
    static func v2JSON(_ c: Case, id: String = "case") -> Data {
        let tensors = c.inputs.map { input -> String in
            let datatype = input.floats == nil ? "INT64" : "FP32"
            let data = input.floats.map { $0.map { "\($0)" } } ?? input.integers!.map(String.init)
            return "{\"name\":\"\(input.name)\",\"shape\":\(input.shape),\"datatype\":\"\(datatype)\","
                + "\"data\":[\(data.joined(separator: ","))]}"
        }
        return Data(("{\"id\":\"\(id)\",\"parameters\":\(c.parameters),"
                     + "\"inputs\":[\(tensors.joined(separator: ","))]}").utf8)
    }
}

extension LimitsConfiguration {
    /// The defaults with `change` applied.
    static func with(_ change: (inout LimitsConfiguration) -> Void) -> LimitsConfiguration {
        var limits = LimitsConfiguration()
        change(&limits)
        return limits
    }
}

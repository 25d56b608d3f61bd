import Foundation
import HTTPTestSupport
import ModelServer
import Testing

/// `interpolate_pos_encoding` through HTTP: the V2 request parameter and the model option of the same name
/// (`models[].interpolate_pos_encoding`), on the `learned` fixture model (image_size 8).
@Suite struct InterpolationWireTests {
    static let sizes = ["learned_interpolated_6x10", "learned_interpolated_12x12"]

    /// A request for `model` of one 1 x 3 x h x w image of zeros, with `parameters` (a JSON object's text).
    static func image(_ h: Int, _ w: Int, parameters: String = "{}") -> Data {
        let zeros = [String](repeating: "0", count: 3 * h * w).joined(separator: ",")
        return Data(("{\"parameters\":\(parameters),\"inputs\":[{\"name\":\"pixel_values\",\"shape\":[1,3,\(h),\(w)],"
                     + "\"datatype\":\"FP32\",\"data\":[\(zeros)]}]}").utf8)
    }

    static func error(_ response: RawHTTPClient.Response) -> String {
        response.json?["error"] as? String ?? ""
    }

    /// A daemon from a config file's JSON: `learned` as it is and `learned_any` with the model option,
    /// pictures of at most 100 pixels.
    static let configured = Result { () throws -> Daemon in
        let root = ServerFixtures.root + "/models/learned"
        let json = #"{"threads": 1, "limits": {"max_input_pixels": 100}, "models": ["#
            + #"{"name": "learned", "path": "\#(root)"},"#
            + #"{"name": "learned_any", "path": "\#(root)", "interpolate_pos_encoding": true}]}"#
        var configuration = try ServerConfiguration(json: Data(json.utf8), baseDirectory: "/")
        configuration.port = 0
        return try TestDaemon.start(configuration)
    }

    @Test(arguments: sizes)
    func theParameterMatchesTheFixture(name: String) throws {
        let fixture = try FixtureCases.load(name)
        #expect(fixture.parameters == #"{"interpolate_pos_encoding":true}"#)
        let response = try TestDaemon.client().request("POST", "/v2/models/learned/infer",
                                                       body: FixtureCases.v2JSON(fixture))
        #expect(response.status == 200, "\(response.text.prefix(300))")
        let (shape, values) = try InferenceWireTests.logits(fromJSON: response.body)
        #expect(shape == fixture.logitsShape)
        #expect(InferenceWireTests.maxError(values, fixture.logits) <= 1e-4)
    }

    @Test func anotherSizeWithoutTheParameterIsRefused() throws {
        for parameters in ["{}", #"{"interpolate_pos_encoding":false}"#] {
            let response = try TestDaemon.client().request("POST", "/v2/models/learned/infer",
                                                           body: Self.image(6, 10, parameters: parameters))
            #expect(response.status == 400)
            #expect(Self.error(response).contains("shape [1, 3, 6, 10] does not fit the model's [-1, 3, 8, 8]"),
                    "\(Self.error(response))")
        }
    }

    @Test func theParameterMustBeABoolean() throws {
        let response = try TestDaemon.client().request("POST", "/v2/models/learned/infer",
                                                       body: Self.image(8, 8, parameters: #"{"interpolate_pos_encoding":1}"#))
        #expect(response.status == 400)
        #expect(Self.error(response).contains("parameter 'interpolate_pos_encoding' must be a boolean"))
    }

    @Test func theParameterOnAnotherModelIsRefused() throws {
        let response = try TestDaemon.client().request("POST", "/v2/models/fourier/infer",
                                                       body: Self.image(8, 8, parameters: #"{"interpolate_pos_encoding":true}"#))
        #expect(response.status == 400)
        #expect(Self.error(response).contains("applies to PerceiverForImageClassificationLearned"),
                "\(Self.error(response))")
    }

    @Test func theModelOptionTakesAnySizeWithoutTheParameter() throws {
        let client = try RawHTTPClient(port: Self.configured.get().port)
        let metadata = try client.request("GET", "/v2/models/learned_any")
        let inputs = try #require(metadata.json?["inputs"] as? [[String: Any]])
        #expect(inputs.first { $0["name"] as? String == "pixel_values" }?["shape"] as? [Int] == [-1, 3, -1, -1])
        let plain = try client.request("GET", "/v2/models/learned")
        let plainInputs = try #require(plain.json?["inputs"] as? [[String: Any]])
        #expect(plainInputs.first { $0["name"] as? String == "pixel_values" }?["shape"] as? [Int] == [-1, 3, 8, 8])

        var fixture = try FixtureCases.load("learned_interpolated_6x10")
        fixture.parameters = "{}"
        let response = try client.request("POST", "/v2/models/learned_any/infer", body: FixtureCases.v2JSON(fixture))
        #expect(response.status == 200, "\(response.text.prefix(300))")
        #expect(InferenceWireTests.maxError(try InferenceWireTests.logits(fromJSON: response.body).values,
                                            fixture.logits) <= 1e-4)
        let config = try client.request("GET", "/v2/models/learned_any/config")
        #expect(config.text.contains(#""interpolate_pos_encoding""#), "\(config.text.prefix(600))")
    }

    @Test func maxInputPixelsBoundsInterpolatedImages() throws {
        let client = try RawHTTPClient(port: Self.configured.get().port)
        let parameter = #"{"interpolate_pos_encoding":true}"#
        let fits = try client.request("POST", "/v2/models/learned/infer", body: Self.image(6, 10, parameters: parameter))
        #expect(fits.status == 200, "\(fits.text.prefix(300))")
        for (model, parameters) in [("learned", parameter), ("learned_any", "{}")] {
            let response = try client.request("POST", "/v2/models/\(model)/infer",
                                              body: Self.image(12, 12, parameters: parameters))
            #expect(response.status == 413, "\(model)")
            #expect(Self.error(response).contains("limits.max_input_pixels (100)"), "\(Self.error(response))")
        }
    }

    @Test func theConfigKeyIsABoolean() {
        let json = #"{"models": [{"name": "m", "path": "m", "interpolate_pos_encoding": "yes"}]}"#
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration(json: Data(json.utf8), baseDirectory: "/")
        }
    }
}

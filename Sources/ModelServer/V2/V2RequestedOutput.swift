/// One entry of a request's `outputs` list (`$request_output`, docs/reference/serving.md 1.5).
public struct V2RequestedOutput: Sendable, Equatable {
    public var name: String
    /// The output's `parameters`, unknown ones included.
    public var parameters: [String: V2Parameter]

    public init(name: String, parameters: [String: V2Parameter] = [:]) {
        self.name = name
        self.parameters = parameters
    }

    /// `parameters.binary_data`: true to return this output as binary, false for JSON, nil to follow the
    /// request's `binary_data_output` (docs/reference/serving.md 1.8).
    public var binaryData: Bool? { parameters["binary_data"]?.boolValue }

    /// `parameters.classification`: return the top this-many classes of each row as BYTES strings instead of the
    /// values (Triton's classification extension, docs/reference/serving.md 1.11); nil for the values. The
    /// request reader has checked that it is an integer of at least 1.
    public var classification: Int? { parameters["classification"]?.intValue }
}

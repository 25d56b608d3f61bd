/// The models a server offers, by name. Built once at startup and read-only afterwards.
public struct ModelRegistry: Sendable {
    public let models: [ServedModel]

    public init(models: [ServedModel]) {
        self.models = models
    }

    /// The model named `name`, or the only model when `name` is nil and exactly one is served.
    public func model(named name: String?) -> ServedModel? {
        guard let name else { return models.count == 1 ? models[0] : nil }
        return models.first { $0.name == name }
    }

    /// Names of all models, for error messages.
    public var names: [String] { models.map(\.name) }
}

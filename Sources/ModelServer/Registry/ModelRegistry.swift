/// The models a server offers, by name: a value, replaced as a whole when a model is loaded, reloaded or
/// unloaded (`ServerState.install`, `.remove`), so a request that looked one up keeps that one.
public struct ModelRegistry: Sendable {
    public private(set) var models: [ServedModel]

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

    /// Puts `served` in the place of the model of its name (or adds it last); the model it replaced.
    mutating func install(_ served: ServedModel) -> ServedModel? {
        guard let index = models.firstIndex(where: { $0.name == served.name }) else {
            models.append(served)
            return nil
        }
        defer { models[index] = served }
        return models[index]
    }

    /// Takes the model `name` out; the model removed.
    mutating func remove(_ name: String) -> ServedModel? {
        guard let index = models.firstIndex(where: { $0.name == name }) else { return nil }
        return models.remove(at: index)
    }
}

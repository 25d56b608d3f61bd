import PerceiverEngine

/// The request parameter `interpolate_pos_encoding` (a boolean, `transformers`' forward argument): a
/// `PerceiverForImageClassificationLearned` interpolates its learned positions to `pixel_values` of any
/// H x W. The model option of the same name (`models[].interpolate_pos_encoding`) turns it on for every
/// request, and the model's spec then says any size itself.
enum V2Interpolation {
    static let parameter = "interpolate_pos_encoding"

    /// The specs a request's inputs are checked against as they are parsed, before its parameters are known:
    /// those of `model` (`TextInput.specs(of:)`), with `pixel_values` of any H x W when it can interpolate
    /// (`requireSize` checks the size once the parameter is read). A raw binary body has no parameters and
    /// keeps the model's specs.
    static func parsingSpecs(of model: PerceiverModel, rawBinary: Bool) -> [TensorSpec] {
        let specs = TextInput.specs(of: model)
        guard model.interpolatesPositionEncoding, !rawBinary else { return specs }
        return specs.map { spec in
            guard spec.name == "pixel_values" else { return spec }
            var relaxed = spec
            relaxed.shape = [spec.shape[0], spec.shape[1], -1, -1]
            return relaxed
        }
    }

    /// Sets `inputs.interpolatePositionEncoding` from `request`'s parameter; without it, the inputs'
    /// shapes must fit `model`'s specs, as when the parser checks them.
    /// - Throws: `RequestError.malformedBody` for the parameter on a model that cannot interpolate,
    ///   `.badTensor` for an image of another size than the model's without it.
    static func apply(_ request: V2InferenceRequest, to inputs: inout ModelInputs,
                      model: PerceiverModel) throws(RequestError) {
        let asked = request.parameters[parameter]?.boolValue ?? false
        if asked, !model.interpolatesPositionEncoding {
            throw RequestError.malformedBody("parameter '\(parameter)' applies to PerceiverForImageClassificationLearned "
                                             + "only, not to \(model.architecture.rawValue)")
        }
        inputs.interpolatePositionEncoding = asked
        guard !asked, let spec = model.inputSpecs.first(where: { $0.name == "pixel_values" }),
              let shape = inputs.pixelValues?.shape else { return }
        try spec.requireShape(shape)
    }
}

/// One execution lane of a loaded model: its own oneDNN stream, primitives and thread count over the model's
/// shared, immutable weights. A server runs `instances` of these so that several batches of one model compute
/// at once without a second copy of the weights.
///
/// Calls on one instance are serialized; different instances run concurrently.
public final class ModelInstance: Sendable {
    /// The model whose weights this instance reads.
    public let model: PerceiverModel
    let context: ComputeContext

    /// An instance of `model` running its passes on `threads` oneDNN (OpenMP) threads.
    /// - Throws: `InferenceError.backend` when oneDNN cannot create an engine.
    public init(model: PerceiverModel, threads: Int) throws(InferenceError) {
        self.model = model
        context = try ComputeContext(threads: threads, precision: model.options.precision)
    }

    /// oneDNN threads per pass.
    public var threads: Int { context.threads }

    /// Stops the pass running on this instance at its next primitive (it fails with `InferenceError.aborted`),
    /// and every later one: for a shutdown that cannot wait for a long pass. Callable from any thread.
    public func abort() {
        context.abort()
    }

    /// One forward pass over one request.
    /// - Throws: `InferenceError` naming the input at fault, or `.backend` on an engine failure.
    public func predict(_ inputs: ModelInputs) throws(InferenceError) -> ModelOutputs {
        try model.predict(inputs, context: context)
    }

    /// Several requests in one forward pass, each with its own outputs or error, in order.
    public func predict(batch items: [ModelInputs]) -> [Result<ModelOutputs, InferenceError>] {
        context.run { model.forward(batch: items, context: context) }
    }

    /// Several requests, some with latents already encoded, in as few passes as possible; each with its outputs
    /// and the latents it was encoded into, or its error, in order.
    public func predict(batch requests: [PassRequest]) -> [Result<PassResult, InferenceError>] {
        context.run { model.forward(batch: requests, context: context) }
    }
}

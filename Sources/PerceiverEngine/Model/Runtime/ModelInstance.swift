/// One execution lane of a loaded model: its own oneDNN stream and primitives over the model's shared,
/// immutable weights; each pass runs on the thread count it is given (a server decides it per pass). A server runs `instances` of these so that several batches of one model compute
/// at once without a second copy of the weights.
///
/// Calls on one instance are serialized; different instances run concurrently.
public final class ModelInstance: Sendable {
    /// The model whose weights this instance reads.
    public let model: PerceiverModel
    let context: ComputeContext

    /// An instance of `model` running its passes on `threads` oneDNN (OpenMP) threads unless a pass is given
    /// its own count.
    /// - Throws: `InferenceError.backend` when oneDNN cannot create an engine.
    public init(model: PerceiverModel, threads: Int) throws(InferenceError) {
        self.model = model
        context = try ComputeContext(threads: threads, precision: model.options.precision)
    }

    /// oneDNN threads of a pass that is not given its own count.
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

    /// Several requests, some with latents already encoded, in as few passes as possible, on `threads` oneDNN
    /// threads (at least 1; the instance's `threads` when nil); each with its outputs and the latents it was
    /// encoded into, or its error, in order. The primitives are created once per shape and thread count.
    /// With a `budget`, the pass asks it before each primitive how many threads to run that primitive on, so
    /// a long pass can give cores back to another model's pass, or take more, while it runs.
    public func predict(batch requests: [PassRequest], threads: Int? = nil,
                        budget: ThreadBudget? = nil) -> [Result<PassResult, InferenceError>] {
        context.run(threads: threads, budget: budget) { model.forward(batch: requests, context: context) }
    }

    /// One forward pass over one request on `threads` oneDNN threads (at least 1).
    /// - Throws: `InferenceError` naming the input at fault, or `.backend` on an engine failure.
    public func predict(_ inputs: ModelInputs, threads: Int) throws(InferenceError) -> ModelOutputs {
        try context.run(threads: threads) { () throws(InferenceError) -> ModelOutputs in
            try model.forward(inputs, context: context)
        }
    }

    /// A pass over `inputs` on `threads` oneDNN threads that creates the primitives a full pass over them uses,
    /// for a server to run before its first request: the self-attention stack runs its first layer once instead
    /// of every layer `num_blocks` times (the others have its shapes, so their primitives are the same). On the
    /// language perceiver that is 1 of 26 layers, most of the pass. The outputs are not a model's answer.
    /// - Throws: `InferenceError` when the model cannot run at all.
    public func warmUp(_ inputs: ModelInputs, threads: Int) throws(InferenceError) {
        try context.run(threads: threads) { () throws(InferenceError) in
            context.warmsUp = true
            defer { context.warmsUp = false }
            _ = try model.forward(inputs, context: context)
        }
    }

    /// Primitives this instance has created so far (once per shape and thread count).
    public var primitiveCount: Int { context.run { context.primitiveCount } }

    /// Matmul FLOPs this instance's passes have run so far.
    public var matmulFLOPs: Int { context.run { context.matmulFLOPs } }
}

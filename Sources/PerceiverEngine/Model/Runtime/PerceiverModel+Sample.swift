extension PerceiverModel {
    /// Small valid inputs of batch 1, all zeros, that run every kernel of this model once: what a server
    /// passes through each instance at startup so oneDNN's kernels are JIT-compiled before the first client
    /// (each family's `sampleInputs`).
    public var sampleInputs: ModelInputs {
        architecture.family.sampleInputs(config: config, specs: inputSpecs)
    }

    /// Lines about this architecture's geometry for `perceiverd inspect` (frames, video, audio; empty for most).
    public var summaryLines: [String] {
        architecture.family.summary(config: config)
    }
}

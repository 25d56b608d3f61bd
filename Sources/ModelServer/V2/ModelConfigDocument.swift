import Foundation
import PerceiverEngine

/// A served model's effective settings as Triton's model configuration extension answers them
/// (`GET /v2/models/{m}/config`, docs/reference/serving.md 3.7): the JSON form of Triton's `ModelConfig`
/// message, with Triton's field names where one exists, and everything else of ours under `parameters` in
/// Triton's `{"key": {"string_value": "..."}}` form.
enum ModelConfigDocument {
    /// The platform (as model metadata reports it) and the backend.
    static let backend = "perceiverd"

    /// The document for `served`, with the server `limits` that bound one of its requests.
    static func json(_ served: ServedModel, limits: LimitsConfiguration) -> Data {
        let configuration = served.configuration
        let model = served.model
        var out = "{\"name\":" + JSONText.quoted(served.name) + ",\"platform\":" + JSONText.quoted(V2Metadata.platform)
            + ",\"backend\":" + JSONText.quoted(backend)
            + ",\"max_batch_size\":\(configuration.maxBatchSize)"
            + ",\"input\":[" + model.inputSpecs.map { tensor($0, isInput: true) }.joined(separator: ",") + "]"
            + ",\"output\":[" + (model.outputSpecs + [model.latentsSpec]).map { tensor($0, isInput: false) }
            .joined(separator: ",") + "]"
        out += ",\"dynamic_batching\":" + dynamicBatching(served.scheduler.policy)
        out += ",\"instance_group\":[{\"name\":" + JSONText.quoted(served.name) + ",\"kind\":\"KIND_CPU\""
            + ",\"count\":\(served.instanceCount)}]"
        out += ",\"parameters\":{" + parameters(served, limits: limits).map { key, value in
            JSONText.quoted(key) + ":{\"string_value\":" + JSONText.quoted(value) + "}"
        }.joined(separator: ",") + "}}"
        return Data(out.utf8)
    }

    /// Triton's `DataType` name of a KServe V2 datatype: `TYPE_` and the name, except `BYTES`, `TYPE_STRING`.
    static func dataType(_ datatype: String) -> String {
        datatype == "BYTES" ? "TYPE_STRING" : "TYPE_" + datatype
    }

    /// A `ModelInput` or `ModelOutput`: its first datatype, and its dims without the batch dimension (B), as
    /// Triton writes them for a model whose `max_batch_size` is above 0; -1 where a dimension varies.
    private static func tensor(_ spec: TensorSpec, isInput: Bool) -> String {
        var out = "{\"name\":" + JSONText.quoted(spec.name) + ",\"data_type\":"
            + JSONText.quoted(dataType(spec.datatypes.first ?? "")) + ",\"dims\":["
            + spec.shape.dropFirst().map(String.init).joined(separator: ",") + "]"
        if isInput { out += ",\"optional\":\(spec.isOptional)" }
        return out + "}"
    }

    /// `ModelDynamicBatching` (docs/reference/serving.md 2.2) as the batcher runs it: the default priority
    /// level resolved (the lowest when the configuration says 0), one queue policy for every level; a
    /// request may lower its queue timeout (`allow_timeout_override`), and a passed timeout rejects it.
    private static func dynamicBatching(_ policy: BatchingPolicy) -> String {
        "{\"preferred_batch_size\":[" + policy.preferredBatchSizes.map(String.init).joined(separator: ",") + "]"
            + ",\"max_queue_delay_microseconds\":\(policy.maxQueueDelayMicroseconds)"
            + ",\"priority_levels\":\(policy.priorityLevels)"
            + ",\"default_priority_level\":\(policy.priorityLevels > 0 ? policy.defaultPriorityLevel : 0)"
            + ",\"default_queue_policy\":{\"timeout_action\":\"REJECT\""
            + ",\"default_timeout_microseconds\":\(policy.defaultTimeoutMicroseconds)"
            + ",\"allow_timeout_override\":true,\"max_queue_size\":\(policy.maxQueueSize)}}"
    }

    /// Our settings with no Triton field, in a fixed order: the model's, then the server limits a request of
    /// it must fit.
    private static func parameters(_ served: ServedModel, limits: LimitsConfiguration) -> KeyValuePairs<String, String> {
        let configuration = served.configuration
        return [
            "version": served.version,
            "architecture": served.model.architecture.rawValue,
            "path": configuration.path,
            "precision": served.precision.effective.rawValue,
            "requested_precision": served.precision.requested.rawValue,
            "threads_per_instance": String(configuration.threadsPerInstance),
            "max_threads_per_pass": String(served.maxThreadsPerPass),
            "memory_budget_mib": String(configuration.memoryBudgetMiB),
            "latent_cache_mib": String(configuration.latentCacheMiB),
            "interpolate_pos_encoding": String(configuration.interpolatePositionEncoding),
            "max_body_bytes": String(limits.maxBodyBytes),
            "max_decompressed_bytes": String(limits.maxDecompressedBytes),
            "max_image_pixels": String(limits.maxImagePixels),
            "max_input_pixels": String(limits.maxInputPixels),
            "max_audio_samples": String(limits.maxAudioSamples),
            "max_output_rows": String(limits.maxOutputRows),
        ]
    }
}

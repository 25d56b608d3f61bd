/// One model's cumulative statistics for Triton's statistics extension (`GET /v2/models/{m}/stats`,
/// docs/reference/serving.md 3.6): kept by `MetricsRegistry` under the model's name, beside and updated together
/// with the model's Prometheus series, so the two always agree (docs/api.md "Statistics").
///
/// Per request (`inference_stats`): `success` and `fail` count answered requests with their time from
/// acceptance to answer; `queue` and the three `compute_*` phases count successful requests, each with its
/// own wait and its pass's phases (a pass's time is added once per request in it), and `inference_count` their
/// rows, as Triton's core does. Per pass: `execution_count`, `last_inference`, and the pass's phases once under
/// its rows (`batch_stats`). `cache_hit` and `cache_miss` count latent-cache lookups.
public struct ModelStatistics: Sendable, Equatable {
    /// Triton's `$duration_stat`: how many times something happened and its total duration.
    public struct Duration: Sendable, Equatable {
        public var count: UInt64 = 0
        public var nanoseconds: UInt64 = 0

        public init(count: UInt64 = 0, nanoseconds: UInt64 = 0) {
            self.count = count
            self.nanoseconds = nanoseconds
        }

        /// Counts one occurrence lasting `seconds` (negative or NaN counts as 0 ns).
        mutating func add(seconds: Double) {
            count += 1
            nanoseconds &+= Self.nanoseconds(seconds)
        }

        /// `seconds` rounded to whole nanoseconds, at least 0.
        static func nanoseconds(_ seconds: Double) -> UInt64 {
            let value = (seconds * 1e9).rounded()
            guard value.isFinite, value > 0 else { return 0 }
            return value < 1.8e19 ? UInt64(value) : .max
        }
    }

    /// Triton's `$batch_stat`: the passes of one size (rows, B) and their phases.
    public struct Batch: Sendable, Equatable {
        public var computeInput = Duration()
        public var computeInfer = Duration()
        public var computeOutput = Duration()
    }

    /// Wall-clock time of the last forward pass, milliseconds since the epoch; 0 before any.
    public var lastInferenceMilliseconds: UInt64 = 0
    /// Rows (B) of the successful requests (`perceiverd_inference_rows_total` less a request that failed after
    /// its pass).
    public var inferenceCount: UInt64 = 0
    /// Forward passes run (`perceiverd_inference_executions_total`).
    public var executionCount: UInt64 = 0
    public var success = Duration()
    public var fail = Duration()
    public var queue = Duration()
    public var computeInput = Duration()
    public var computeInfer = Duration()
    public var computeOutput = Duration()
    public var cacheHit = Duration()
    public var cacheMiss = Duration()
    /// Passes by their rows (B).
    public var batches: [Int: Batch] = [:]

    public init() {}
}

/// How one successful request's time divided, in seconds, for its model's `inference_stats`, and its rows.
public struct InferencePhases: Sendable, Equatable {
    /// Rows (B) of the request: what it adds to `inference_count`.
    public var rows: Int
    /// From being queued to its batch being taken off the queue.
    public var queue: Double
    /// From its batch being taken off the queue to the start of the forward pass.
    public var computeInput: Double
    /// The forward pass (preprocessing, encoder, decoder, postprocessing).
    public var computeInfer: Double
    /// From the end of the pass to this request's answer encoded.
    public var computeOutput: Double

    public init(rows: Int, queue: Double, computeInput: Double, computeInfer: Double, computeOutput: Double) {
        self.rows = rows
        self.queue = queue
        self.computeInput = computeInput
        self.computeInfer = computeInfer
        self.computeOutput = computeOutput
    }
}

extension ModelStatistics {
    /// `$model_stat` as compact JSON: name, version, the counts, `inference_stats` and `batch_stats` (by batch
    /// size, ascending).
    func json(name: String, version: String) -> String {
        let phases: KeyValuePairs<String, Duration> = [
            "success": success, "fail": fail, "queue": queue, "compute_input": computeInput,
            "compute_infer": computeInfer, "compute_output": computeOutput, "cache_hit": cacheHit,
            "cache_miss": cacheMiss,
        ]
        let inference = phases.map { JSONText.quoted($0.key) + ":" + $0.value.json }.joined(separator: ",")
        let batchList = batches.keys.sorted().map { size -> String in
            let batch = batches[size] ?? Batch()
            return "{\"batch_size\":\(size),\"compute_input\":\(batch.computeInput.json),"
                + "\"compute_infer\":\(batch.computeInfer.json),\"compute_output\":\(batch.computeOutput.json)}"
        }
        return "{\"name\":" + JSONText.quoted(name) + ",\"version\":" + JSONText.quoted(version)
            + ",\"last_inference\":\(lastInferenceMilliseconds),\"inference_count\":\(inferenceCount)"
            + ",\"execution_count\":\(executionCount),\"inference_stats\":{" + inference + "}"
            + ",\"batch_stats\":[" + batchList.joined(separator: ",") + "]}"
    }
}

extension ModelStatistics.Duration {
    /// `{"count":…,"ns":…}`.
    var json: String { "{\"count\":\(count),\"ns\":\(nanoseconds)}" }
}

import Foundation
import HTTPServer
import PerceiverEngine

extension Router {
    /// Optical-flow frames larger than the model's `train_size` (issue #22): the tiles the request needs
    /// (`FlowTiling.jobs`: all, or those holding its `output_positions`) go to the model's batcher in groups of
    /// as many tiles as one pass may hold (`max_batch_size`, and the model's memory budget by the pass estimate),
    /// each group a request of its own to the batcher (its latents cached like any other), and the answer is
    /// their stitched flow once every group is in. The first group that fails fails the request.
    /// - Throws: what is wrong before any group is queued (`latents_id` with tiled frames, a chosen pixel
    ///   outside the frame, frames over `limits.max_input_pixels`).
    func scheduleTiles(_ inputs: ModelInputs, tiling: FlowTiling, latentsID: String?, on served: ServedModel,
                       timeout: Int?, priority: Int?, context: RequestContext, scope: String,
                       complete: @escaping @Sendable (Result<(Answer, BatchInfo), RequestError>, String) -> Void)
        throws(RequestError) {
        if latentsID != nil {
            throw RequestError.latentsConflict("parameter 'latents_id': \(tiling.height) x \(tiling.width) frames are "
                                               + "tiled and each tile is encoded on its own; latents ids are given "
                                               + "for frames of the model's train_size (\(tiling.tileHeight) x "
                                               + "\(tiling.tileWidth))")
        }
        try checkSizes(inputs, of: served.model)
        guard let frames = inputs.frames else { throw RequestError.inference(.missingInput("frames")) }
        let jobs: [FlowTiling.Job]
        do throws(InferenceError) { jobs = try tiling.jobs(positions: inputs.outputPositions) } catch {
            throw RequestError.inference(error)
        }
        let policy = served.scheduler.policy
        let size = served.model.tilesPerPass(tiling, frames: frames, jobs: jobs, budgetBytes: policy.memoryBudgetBytes,
                                             limit: policy.maxBatchSize)
        let groups = stride(from: 0, to: jobs.count, by: size).map { jobs[$0..<min(jobs.count, $0 + size)] }
        let collector = TileCollector(FlowTiling.Stitcher(tiling, positionsPerItem: inputs.outputPositions?.shape[1]),
                                      groups: groups.count, complete: complete)
        for (index, group) in groups.enumerated() {
            let groupInputs = tiling.inputs(frames: frames, jobs: group)
            do throws(RequestError) {
                try latentSource(groupInputs, latentsID: nil, on: served, scope: scope) { source, label in
                    submit(groupInputs, source: source, on: served, timeout: timeout, priority: priority,
                           context: context, scope: scope) { collector.finish(index, jobs: group, $0, label: label) }
                }
            } catch {
                collector.finish(index, jobs: group, .failure(error), label: "")
            }
        }
    }
}

/// Gathers the groups of one tiled request as their batches finish (on any thread), and answers it once: when the
/// last group is in, or at the first failure.
final class TileCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var stitcher: FlowTiling.Stitcher
    private var remaining: Int
    private var labels: Set<String> = []
    private var firstBatch: BatchInfo?
    private var answered = false
    private let complete: @Sendable (Result<(Answer, BatchInfo), RequestError>, String) -> Void

    init(_ stitcher: FlowTiling.Stitcher, groups: Int,
         complete: @escaping @Sendable (Result<(Answer, BatchInfo), RequestError>, String) -> Void) {
        self.stitcher = stitcher
        remaining = groups
        self.complete = complete
    }

    /// Group `index`'s outcome; `label` says where its latents came from (`hit`, `miss`, or empty).
    func finish(_ index: Int, jobs: ArraySlice<FlowTiling.Job>, _ outcome: Result<(Answer, BatchInfo), RequestError>,
                label: String) {
        lock.lock()
        guard !answered else { return lock.unlock() }
        switch outcome {
        case .failure(let error):
            answered = true
            lock.unlock()
            return complete(.failure(error), label)
        case .success(let (answer, batch)):
            if let logits = answer.outputs["logits"] { stitcher.add(logits, jobs: jobs) }
            if !label.isEmpty { labels.insert(label) }
            firstBatch = firstBatch ?? batch
            remaining -= 1
            guard remaining == 0, let batch = firstBatch else { return lock.unlock() }
            answered = true
            let field = stitcher.result()
            // Every group's latents came from one place, or from both: "hit", "miss" or "hit,miss".
            let label = labels.sorted().joined(separator: ",")
            lock.unlock()
            complete(.success((Answer(outputs: ModelOutputs(logits: field), latents: nil, latentsID: nil), batch)),
                     label)
        }
    }
}

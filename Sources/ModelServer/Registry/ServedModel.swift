import Dispatch
import Foundation
import PerceiverEngine

/// One model as the server offers it: its name and version, the loaded engine, and the queue its forward
/// passes run on (never a connection's queue).
public final class ServedModel: @unchecked Sendable {
    public let name: String
    public let version: String
    public let model: PerceiverModel
    /// Forward passes of this model run here, one at a time; oneDNN brings its own threads.
    let queue: DispatchQueue
    // `lock` guards `waiting`, the requests submitted to `queue` and not yet started; the rest is immutable.
    private let lock = NSLock()
    private var waiting = 0

    public init(name: String, version: String, model: PerceiverModel) {
        self.name = name
        self.version = version
        self.model = model
        self.queue = DispatchQueue(label: "perceiverd.model.\(name)", qos: .userInitiated)
    }

    /// Changes the count of requests waiting for this model's queue and returns the new count.
    func adjustWaiting(by delta: Int) -> Int {
        lock.withLock {
            waiting += delta
            return waiting
        }
    }

    /// Runs one forward pass on small zero inputs so oneDNN's kernels are JIT-compiled before the first
    /// client arrives.
    /// - Throws: `InferenceError` when the model cannot run at all.
    public func warmUp() throws(InferenceError) {
        var inputs = ModelInputs()
        if model.architecture.isText {
            let length = min(16, model.config.maxPositionEmbeddings)
            inputs.inputIDs = IndexTensor(shape: [1, length], values: [Int](repeating: 0, count: length))
        } else {
            let spec = model.inputSpecs.first { $0.name == "pixel_values" }
            let shape = (spec?.shape ?? [-1, 3, -1, -1]).enumerated().map { index, dim in
                dim >= 0 ? dim : (index == 0 ? 1 : model.config.imageSize)
            }
            inputs.pixelValues = Tensor(shape: shape, scalars: [Float](repeating: 0, count: shape.reduce(1, *)))
        }
        _ = try model.predict(inputs)
    }
}

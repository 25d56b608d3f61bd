import Dispatch
import Foundation
import HTTPServer
import PerceiverEngine

/// Where a request's latents come from (issue #20): the encoder, the model's latent cache (found by the
/// encoder inputs' hash, or named by `latents_id`), or the request itself (a `latents` input).
enum LatentSource: Sendable {
    /// Run the encoder. With a key, keep the latents under it; `leads` when requests with the same key wait
    /// for this one (`LatentCache.join`), which must then end that wait.
    case encode(key: LatentKey?, leads: Bool)
    /// Decode latents the cache held; their id in the request's scope (nil when they could not be kept).
    case cached(Latents, id: String?)
    /// Decode the request's own `latents` input.
    case given
}

/// What a request got: its outputs, the latents it was decoded from as `(B, N, D)` (for a `latents` output),
/// and their id in the cache (nil when it is off or they were not kept).
struct Answer: Sendable {
    var outputs: ModelOutputs
    var latents: Tensor?
    var latentsID: String?
}

extension Router {
    /// Decides where the latents of `inputs` come from. Calls `proceed` with the source, at once or, when an
    /// identical request is encoding now, once that encode is over. Throws what a request that names latents
    /// gets wrong.
    /// - Throws: `RequestError.latentsNotFound` for an id this scope cannot use, `.latentsConflict` for
    ///   `latents_id` beside encoder inputs or a `latents` input.
    func latentSource(_ inputs: ModelInputs, latentsID: String?, on served: ServedModel, scope: String,
                      proceed: @escaping @Sendable (LatentSource, _ log: String) -> Void) throws(RequestError) {
        let cache = served.latentCache
        if inputs["latents"] != nil {
            guard latentsID == nil else {
                throw RequestError.latentsConflict("give either parameter 'latents_id' or input 'latents', not both")
            }
            return proceed(.given, "explicit")
        }
        if let id = latentsID {
            let encoderInputs = inputs.values.keys.filter { !LatentKey.selectsOutputs($0) }.sorted()
            guard encoderInputs.isEmpty else {
                throw RequestError.latentsConflict("'latents_id' replaces the encoder inputs: leave out "
                                                   + encoderInputs.map { "'\($0)'" }.joined(separator: ", ")
                                                   + " and send only what selects outputs")
            }
            guard let cache, let found = cache.latents(id: id, scope: scope) else {
                throw RequestError.latentsNotFound(id: id, model: served.name)
            }
            return proceed(.cached(found.latents, id: id), "explicit")
        }
        // The lookup's time, for the statistics' cache_hit and cache_miss: hashing the encoder inputs, the
        // lookup, and for a request that waits for an identical one's encode, that wait.
        let began = DispatchTime.now().uptimeNanoseconds
        guard let cache, let key = LatentKey(scope: scope, model: served.name, version: served.version,
                                             precision: served.precision.effective, inputs: inputs) else {
            return proceed(.encode(key: nil, leads: false), "")
        }
        let (metrics, name) = (self.metrics, served.name)
        let counted: @Sendable (_ miss: Bool) -> Void = { miss in
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
            metrics.latentCache(model: name, miss: miss, seconds: seconds)
        }
        if let hit = cache.lookUp(key, scope: scope) {
            counted(false)
            return proceed(.cached(hit.latents, id: hit.id), "hit")
        }
        let policy = served.scheduler.policy
        let joined = cache.join(key, maxWaiting: policy.maxQueueSize > 0 ? policy.maxQueueSize : nil) { latents in
            // An identical request's encode is over: decode its latents, or encode after all if it failed.
            guard let latents else {
                counted(true)
                return proceed(.encode(key: key, leads: false), "miss")
            }
            counted(false)
            proceed(.cached(latents, id: cache.insert(latents, key: key, scope: scope)), "hit")
        }
        switch joined {
        case .leads:
            // An identical encode may have ended between the lookup and the join.
            if let hit = cache.lookUp(key, scope: scope) {
                cache.finish(key, latents: hit.latents)
                counted(false)
                return proceed(.cached(hit.latents, id: hit.id), "hit")
            }
            counted(true)
            proceed(.encode(key: key, leads: true), "miss")
        case .alone:
            counted(true)
            proceed(.encode(key: key, leads: false), "miss")
        case .follows:
            break
        }
    }
}

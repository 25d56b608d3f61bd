import Foundation
import PerceiverEngine

/// One model's latents kept across requests: what its encoder made of inputs it has seen, so a request whose
/// encoder inputs match one of them skips preprocessing and the encoder and pays only for its decode.
///
/// - Keyed by `LatentKey` (a SHA-256 of the model, its version and precision and every encoder input); bounded
///   in bytes (`Latents.byteCount`), least recently used evicted first; an entry larger than the whole budget is
///   not kept. The budget is never exceeded.
/// - Ids: each entry gets a random, unguessable id per scope (the bearer token that asked, or none with auth
///   off), which a later request names in `latents_id` to decode without sending its inputs again. An id is not
///   the content hash, so it tells a client nothing about what others sent, and it works only in its scope.
/// - Single flight: identical requests that arrive while the first is still encoding wait for that encode
///   (`join`) instead of starting their own; as many may wait as the model's queue holds.
///
/// Thread safety: `lock` guards every mutable property; the metrics registry has its own. Followers run after
/// the lock is released.
final class LatentCache: @unchecked Sendable {
    let model: String
    /// Bytes the entries may hold together.
    let budget: Int
    private let metrics: MetricsRegistry
    private let lock = NSLock()
    private var entries: [LatentKey: Entry] = [:]
    private var ids: [String: (key: LatentKey, scope: String)] = [:]
    private var waiting: [LatentKey: [@Sendable (Latents?) -> Void]] = [:]
    /// Requests waiting in `waiting`, over every key.
    private var followers = 0
    private var clock = 0
    private var retired = false
    private var bytes = 0

    private struct Entry {
        let latents: Latents
        var idsByScope: [String: String] = [:]
        var lastUse: Int
    }

    init(model: String, budgetBytes: Int, metrics: MetricsRegistry) {
        self.model = model
        self.budget = max(0, budgetBytes)
        self.metrics = metrics
        // A reloaded model's cache starts empty; the gauges say so until its first entry.
        metrics.setLatentCacheSize(model: model, entries: 0, bytes: 0)
    }

    /// The latents of `key` and their id in `scope`, if cached (the caller counts the hit or miss: a request
    /// that waits for another's encode is a hit although this lookup found nothing).
    func lookUp(_ key: LatentKey, scope: String) -> (latents: Latents, id: String)? {
        lock.withLock { () -> (Latents, String)? in
            guard var entry = entries[key] else { return nil }
            clock += 1
            entry.lastUse = clock
            let id = ensureID(&entry, key: key, scope: scope)
            entries[key] = entry
            return (entry.latents, id)
        }
    }

    /// The latents an id names, if it is still cached and was made in `scope`.
    func latents(id: String, scope: String) -> (latents: Latents, key: LatentKey)? {
        lock.withLock { () -> (Latents, LatentKey)? in
            guard let owner = ids[id], owner.scope == scope, var entry = entries[owner.key] else { return nil }
            clock += 1
            entry.lastUse = clock
            entries[owner.key] = entry
            return (entry.latents, owner.key)
        }
    }

    /// Keeps `latents` under `key` (evicting the least recently used until they fit) and returns their id in
    /// `scope`; nil when they are larger than the whole budget (then nothing is evicted).
    func insert(_ latents: Latents, key: LatentKey, scope: String) -> String? {
        lock.withLock { () -> String? in
            let size = latents.byteCount
            clock += 1
            if var existing = entries[key] {
                existing.lastUse = clock
                let id = ensureID(&existing, key: key, scope: scope)
                entries[key] = existing
                return id
            }
            guard size <= budget, !retired else { return nil }
            while bytes + size > budget, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
                evict(oldest)
            }
            var entry = Entry(latents: latents, lastUse: clock)
            let id = ensureID(&entry, key: key, scope: scope)
            entries[key] = entry
            bytes += size
            metrics.setLatentCacheSize(model: model, entries: entries.count, bytes: bytes)
            return id
        }
    }

    /// How a request joined the encodes in flight (`join`).
    enum Joined: Equatable {
        /// It is the first to encode its key now, and must call `finish`.
        case leads
        /// It waits for the identical encode in flight; its follower runs when that is over.
        case follows
        /// `maxWaiting` requests already wait: it must run on its own (and meet the queue's bound there).
        case alone
    }

    /// Joins the encodes in flight: leads the encode of `key`, or, when one is running, waits for it
    /// (`follower` then runs once it is over, with its latents, or nil when it failed). Waiting requests hold
    /// their inputs like queued ones, so at most `maxWaiting` of them wait at once (nil: no bound).
    func join(_ key: LatentKey, maxWaiting: Int?,
              follower: @escaping @Sendable (Latents?) -> Void) -> Joined {
        lock.withLock { () -> Joined in
            guard waiting[key] != nil else {
                waiting[key] = []
                return .leads
            }
            if let maxWaiting, followers >= maxWaiting { return .alone }
            waiting[key]?.append(follower)
            followers += 1
            return .follows
        }
    }

    /// Ends the encode of `key` that `join` made the caller lead: every follower runs with `latents`.
    func finish(_ key: LatentKey, latents: Latents?) {
        let released = lock.withLock { () -> [@Sendable (Latents?) -> Void] in
            let released = waiting.removeValue(forKey: key) ?? []
            followers -= released.count
            return released
        }
        for follower in released { follower(latents) }
    }

    /// Empties the cache of a model that is replaced or unloaded, and keeps nothing more: its memory goes now,
    /// and its gauges are left to the model that replaces it.
    func retire() {
        lock.withLock {
            retired = true
            entries = [:]
            ids = [:]
            bytes = 0
        }
    }

    /// Bytes held now (tests).
    var heldBytes: Int { lock.withLock { bytes } }

    private func ensureID(_ entry: inout Entry, key: LatentKey, scope: String) -> String {
        if let id = entry.idsByScope[scope] { return id }
        let id = Self.randomID()
        entry.idsByScope[scope] = id
        ids[id] = (key, scope)
        return id
    }

    private func evict(_ key: LatentKey) {
        guard let entry = entries.removeValue(forKey: key) else { return }
        bytes -= entry.latents.byteCount
        for id in entry.idsByScope.values { ids[id] = nil }
        metrics.latentCacheEvicted(model: model)
        metrics.setLatentCacheSize(model: model, entries: entries.count, bytes: bytes)
    }

    /// 128 random bits from the system's generator (getrandom(2)), as 32 hex digits.
    static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }
}

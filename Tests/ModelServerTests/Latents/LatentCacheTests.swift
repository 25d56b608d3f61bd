import Foundation
import HTTPServer
@testable import ModelServer
import PerceiverEngine
import Testing

/// The latent cache in process: its byte bound under any sequence of inserts, least-recently-used order, ids
/// per scope, and single flight.
@Suite struct LatentCacheTests {
    static let model: PerceiverModel? = try? ServerFixtures.model("mlm")

    /// Latents of `rows` rows of the fixture masked LM: (rows, 8, 64) float32, 2 KiB a row.
    func latents(rows: Int, seed: Int) throws -> Latents {
        let model = try #require(Self.model)
        let ids = (0..<(rows * 3)).map { 6 + ($0 * 17 + seed * 29) % 200 }
        return try model.encode(ModelInputs(inputIDs: IndexTensor(shape: [rows, 3], values: ids)))
    }

    func key(_ seed: Int) throws -> LatentKey {
        try #require(LatentKey(scope: "", model: "m", version: "1", precision: .f32,
                               inputs: ModelInputs(inputIDs: IndexTensor(shape: [1, 1], values: [seed]))))
    }

    /// Random sizes, random order: the bytes held never pass the budget, and equal the entries' sizes.
    @Test func theBudgetHoldsUnderAnySequenceOfInserts() throws {
        let cache = LatentCache(model: "m", budgetBytes: 40 * 2048, metrics: MetricsRegistry())
        var generator = SystemRandomNumberGenerator()
        var sizes: [LatentKey: Int] = [:]
        let pool = try (1...24).map { try latents(rows: $0, seed: $0) }
        for step in 0..<300 {
            let size = Int.random(in: 1...24, using: &generator)
            let key = try key(Int.random(in: 0..<60, using: &generator))
            let entry = pool[size - 1]
            if cache.insert(entry, key: key, scope: "") != nil, sizes[key] == nil { sizes[key] = entry.byteCount }
            #expect(cache.heldBytes <= 40 * 2048, "step \(step)")
            sizes = sizes.filter { cache.lookUp($0.key, scope: "") != nil }
            #expect(cache.heldBytes == sizes.values.reduce(0, +), "step \(step)")
        }
    }

    /// The least recently used entry goes first; a lookup counts as a use; one larger than the whole budget is
    /// refused without evicting anything.
    @Test func evictsTheLeastRecentlyUsed() throws {
        let cache = LatentCache(model: "m", budgetBytes: 3 * 2048, metrics: MetricsRegistry())
        let one = try latents(rows: 1, seed: 1)
        for seed in 0..<3 { #expect(cache.insert(one, key: try key(seed), scope: "") != nil) }
        _ = cache.lookUp(try key(0), scope: "")
        _ = cache.insert(one, key: try key(3), scope: "")
        #expect(cache.lookUp(try key(1), scope: "") == nil, "1 was the least recently used")
        let (zero, two) = (try key(0), try key(2))
        #expect(cache.lookUp(zero, scope: "") != nil && cache.lookUp(two, scope: "") != nil)
        #expect(cache.insert(try latents(rows: 4, seed: 9), key: try key(9), scope: "") == nil)
        #expect(cache.heldBytes == 3 * 2048)
    }

    /// An id names its entry in its scope only; each scope gets its own id for one entry; ids are 128 random
    /// bits, not the content hash.
    @Test func idsArePerScopeAndUnrelatedToTheContent() throws {
        let cache = LatentCache(model: "m", budgetBytes: 1 << 20, metrics: MetricsRegistry())
        let entry = try latents(rows: 1, seed: 1)
        let k = try key(1)
        let a = try #require(cache.insert(entry, key: k, scope: "alice"))
        let b = try #require(cache.lookUp(k, scope: "bob")?.id)
        #expect(a != b)
        #expect(cache.latents(id: a, scope: "alice") != nil)
        #expect(cache.latents(id: a, scope: "bob") == nil)
        #expect(cache.latents(id: b, scope: "bob") != nil)
        #expect(!SHA256.hex(k.digest).contains(a))
        #expect(a.count == 32 && a.allSatisfy(\.isHexDigit))
    }

    /// The first to join leads; the others run once it finishes, with its latents (or nil when it failed); no
    /// more than `maxWaiting` wait at once, over every key.
    @Test func followersRunWhenTheLeaderFinishes() throws {
        let cache = LatentCache(model: "m", budgetBytes: 1 << 20, metrics: MetricsRegistry())
        let (k, other) = (try key(5), try key(6))
        let got = Got()
        #expect(cache.join(k, maxWaiting: 2) { got.add($0?.batch) } == .leads)
        #expect(cache.join(k, maxWaiting: 2) { got.add($0?.batch) } == .follows)
        #expect(cache.join(other, maxWaiting: 2) { _ in } == .leads)
        #expect(cache.join(other, maxWaiting: 2) { got.add($0?.batch) } == .follows)
        #expect(cache.join(k, maxWaiting: 2) { got.add($0?.batch) } == .alone, "two already wait")
        #expect(got.values.isEmpty)
        cache.finish(k, latents: try latents(rows: 2, seed: 0))
        #expect(got.values == [2])
        #expect(cache.join(other, maxWaiting: 2) { got.add($0?.batch) } == .follows, "a place came free")
        cache.finish(other, latents: nil)
        #expect(got.values == [2, nil, nil])
        #expect(cache.join(k, maxWaiting: nil) { _ in } == .leads, "a finished key can be led again")
        cache.finish(k, latents: nil)
    }

    final class Got: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [Int?] = []
        func add(_ value: Int?) { lock.withLock { stored.append(value) } }
        var values: [Int?] { lock.withLock { stored } }
    }
}

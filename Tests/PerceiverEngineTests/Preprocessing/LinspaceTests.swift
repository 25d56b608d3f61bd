import Testing
@testable import PerceiverEngine

/// `torchLinspace` against `torch.linspace` bit patterns (tools/fixtures/make_prep_fixtures.py).
struct LinspaceTests {
    @Test(arguments: LinspaceFixtures.full)
    func matchesTorchBitForBitOnEveryElement(_ fixture: LinspaceCase) {
        let ours = torchLinspace(start: fixture.start, end: fixture.end, count: fixture.count)
        let torch = hexFloats(fixture.bits)
        #expect(ours.count == fixture.count)
        #expect(ours.map(\.bitPattern) == torch.map(\.bitPattern))
    }

    @Test(arguments: LinspaceFixtures.hashed)
    func matchesTorchHashAndSamplesForLargeCounts(_ fixture: HashedLinspaceCase) {
        let ours = torchLinspace(start: -1, end: 1, count: fixture.count)
        #expect(fnv1a(ours) == fixture.hash)
        for (index, bits) in fixture.samples {
            #expect(ours[index].bitPattern == bits, "element \(index)")
        }
    }

    @Test(arguments: LinspaceFixtures.sweeps)
    func matchesTorchForEveryCountInASweep(_ sweep: LinspaceSweep) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for count in sweep.counts {
            hash = fnv1a(torchLinspace(start: sweep.start, end: sweep.end, count: count), seed: hash)
        }
        #expect(hash == sweep.hash)
    }

    @Test func handlesDegenerateCountsLikeTorch() {
        #expect(torchLinspace(start: 3, end: 5, count: 0).isEmpty)
        #expect(torchLinspace(start: 3, end: 5, count: -2).isEmpty)
        #expect(torchLinspace(start: 3, end: 5, count: 1) == [3])
        #expect(torchLinspace(start: 3, end: 5, count: 2) == [3, 5])
    }

    /// Naive reference: the exact value `start + (end - start) * i / (n - 1)` in Double. Tolerance: half an ulp of
    /// the result for the final rounding plus the rounded step's error (half an ulp of `step`) times the number of
    /// steps taken from the nearer end, which is at most `n / 2`.
    @Test(arguments: [2, 3, 7, 55, 224, 1920])
    func staysWithinTheRoundingBoundOfTheExactLinspace(_ count: Int) {
        for (start, end) in [(Float(-1), Float(1)), (1, 15360), (1, 0.5)] {
            let ours = torchLinspace(start: start, end: end, count: count)
            let step = (end - start) / Float(count - 1)
            for (i, value) in ours.enumerated() {
                let exact = Double(start) + (Double(end) - Double(start)) * Double(i) / Double(count - 1)
                let stepsTaken = Double(min(i, count - 1 - i))
                let tolerance = Double(Float(exact).ulp) / 2 + stepsTaken * Double(step.magnitude.ulp) / 2
                #expect(abs(Double(value) - exact) <= tolerance, "i = \(i)")
            }
        }
    }

    /// Why the FMA form matters: `start + i * step` is not torch's middle element for 55 points, while ours is
    /// (torch gives -7.45e-9 there, from the end side).
    @Test func naiveStartPlusIStepDiffersFromTorchWhereOursDoesNot() throws {
        let fixture = try #require(LinspaceFixtures.full.first { $0.start == -1 && $0.count == 55 })
        let torch = hexFloats(fixture.bits)
        let step = Float(2) / Float(54)
        let naive = (0..<55).map { Float(-1) + Float($0) * step }
        #expect(naive.map(\.bitPattern) != torch.map(\.bitPattern))
        #expect(torchLinspace(start: -1, end: 1, count: 55)[27].bitPattern == torch[27].bitPattern)
        #expect(torch[27].bitPattern == 0xb200_0000)
    }
}

import Testing
@testable import PerceiverEngine

/// A pass runs on the thread count it is given (a server shares its cores between passes), with primitives
/// created for that count and the same outputs as on any other.
@Suite struct PassThreadsTests {
    let tokenizer = ByteTokenizer()

    func inputs(_ text: String) -> ModelInputs {
        let ids = tokenizer.encode(text)
        return ModelInputs(inputIDs: IndexTensor(shape: [1, ids.count], values: ids))
    }

    /// oneDNN CPU primitives read the thread count when they are created, so a pass on 2 threads needs its own
    /// primitives (one made for 1 thread would run on 1); each count's stay cached beside the other's.
    @Test func primitivesAreCreatedOncePerShapeAndThreadCount() throws {
        let model = try PerceiverModel.load(directory: Fixtures.modelDirectory("mlm"),
                                            options: ExecutionOptions(threads: 1))
        let instance = try ModelInstance(model: model, threads: 1)
        let item = inputs("threads")
        _ = try instance.predict(item, threads: 1)
        let one = instance.primitiveCount
        _ = try instance.predict(item, threads: 1)
        #expect(instance.primitiveCount == one, "the same shape and count reuses its primitives")
        _ = try instance.predict(item, threads: 2)
        #expect(instance.primitiveCount == 2 * one, "a second count creates its own")
        _ = try instance.predict(item, threads: 1)
        _ = try instance.predict(item, threads: 2)
        #expect(instance.primitiveCount == 2 * one)
    }

    /// Splitting a matmul over more threads may change which partial sums are added together (oneDNN can split
    /// K), so the outputs may differ in the last bits: the fixture's K is at most a few hundred terms of
    /// magnitude ~1, so the f32 difference stays far below 1e-5 (the bound of a batch against alone).
    @Test(arguments: [2, 3, 8])
    func aPassOnAnyThreadCountGivesTheSameOutputs(threads: Int) throws {
        let model = try PerceiverModel.load(directory: Fixtures.modelDirectory("mlm"),
                                            options: ExecutionOptions(threads: 1))
        let instance = try ModelInstance(model: model, threads: 1)
        let requests = [PassRequest(inputs: inputs("a fair share")), PassRequest(inputs: inputs("of the cores"))]
        let alone = instance.predict(batch: requests, threads: 1)
        let shared = instance.predict(batch: requests, threads: threads)
        for (index, (a, b)) in zip(alone, shared).enumerated() {
            let (x, y) = (try a.get().outputs.logits, try b.get().outputs.logits)
            #expect(x.shape == y.shape, "request \(index)")
            #expect(NaiveReference.maxAbsDifference(x.scalars, y.scalars) <= 1e-5, "request \(index)")
        }
    }

    /// Alternates 1 and 2 threads, primitive by primitive: a server moving cores between passes.
    final class Alternating: ThreadBudget, @unchecked Sendable {
        var calls = 0  // only the pass's thread calls it

        func threadsForNextPrimitive() -> Int {
            calls += 1
            return 1 + calls % 2
        }
    }

    /// A pass whose team changes between primitives runs each primitive on the count the budget gave, with
    /// primitives made for it, and gives the same outputs as on a fixed count.
    @Test func aPassFollowsItsBudgetBetweenPrimitives() throws {
        let model = try PerceiverModel.load(directory: Fixtures.modelDirectory("mlm"),
                                            options: ExecutionOptions(threads: 1))
        let instance = try ModelInstance(model: model, threads: 1)
        let requests = [PassRequest(inputs: inputs("cores follow the work"))]
        let fixed = instance.predict(batch: requests, threads: 1)
        let one = instance.primitiveCount
        let budget = Alternating()
        let moving = instance.predict(batch: requests, threads: 2, budget: budget)
        #expect(budget.calls >= one, "asked before every primitive")
        #expect(instance.primitiveCount > one, "primitives made for 2 threads too")
        let (x, y) = (try fixed[0].get().outputs.logits, try moving[0].get().outputs.logits)
        #expect(NaiveReference.maxAbsDifference(x.scalars, y.scalars) <= 1e-5)
    }

    /// bf16 weights are packed once, at load, on the load's thread count; a pass on another count (fixed or
    /// changing between primitives) must create its matmuls for that packed layout and agree with a pass on the
    /// load's count. Only the f32 accumulation order can differ (the bf16 operands round the same way), so the
    /// bound is the f32 one, widened tenfold for the longer reductions' larger bf16-rounded terms.
    @Test(.needsBF16Matmuls) func bf16PackedWeightsServeEveryThreadCount() throws {
        let model = try PerceiverModel.load(directory: Fixtures.modelDirectory("mlm"),
                                            options: ExecutionOptions(precision: .bf16, threads: 1))
        let instance = try ModelInstance(model: model, threads: 1)
        let requests = [PassRequest(inputs: inputs("packed at load"))]
        let reference = try instance.predict(batch: requests, threads: 1)[0].get().outputs.logits
        for result in [instance.predict(batch: requests, threads: 2), instance.predict(batch: requests, threads: 2,
                                                                                     budget: Alternating())] {
            let logits = try result[0].get().outputs.logits
            #expect(NaiveReference.maxAbsDifference(reference.scalars, logits.scalars) <= 1e-4)
        }
    }
}

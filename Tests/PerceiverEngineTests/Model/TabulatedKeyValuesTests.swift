import Foundation
import Testing
@testable import PerceiverEngine
import Support

/// A text model's encoder keys and values read from tables computed at load (`TabulatedKeyValues`, issue 23):
/// the same keys and values, without the layer norm and the two projections over the inputs.
@Suite struct TabulatedKeyValuesTests {
    /// The text fixture models tabulate (neither folds: two heads); the image ones do not (their inputs are not
    /// token and position rows).
    static let tabulating = ["mlm", "seqcls"]
    static let projecting = ["learned", "fourier", "conv", "flow", "multimodal"]

    @Test func textModelsTabulate() throws {
        for name in Self.tabulating {
            let encoder = try Fixtures.model(name).encoder
            #expect(encoder.tabulatesKeyValues && encoder.tabulatedKeyValues != nil, "\(name)")
            #expect(encoder.crossAttention.key.packed == nil && encoder.crossAttention.value.packed == nil, "\(name)")
        }
        for name in Self.projecting {
            let encoder = try Fixtures.model(name).encoder
            #expect(!encoder.tabulatesKeyValues && encoder.tabulatedKeyValues == nil, "\(name)")
        }
        // The language perceiver's tables: (262 + 2048) x (256 + 1280) floats, 13.5 MiB. A 250,000-token
        // vocabulary would take 1.4 GiB: that model keeps its projections.
        #expect(TabulatedKeyValues.fits(tokens: 262, positions: 2048, qk: 256, v: 1280))
        #expect(!TabulatedKeyValues.fits(tokens: 250_000, positions: 2048, qk: 256, v: 1280))
    }

    /// The shipped demo masked LM has one head: the fold multiplies 2 N C = 4,096 per input row, the tables would
    /// leave (qk + v) N = 6,144, so it folds.
    @Test func theCheaperFoldWins() throws {
        let model = try PerceiverModel.load(directory: Self.repositoryRoot + "/models/demo-mlm")
        #expect(model.encoder.foldsCrossAttention && !model.encoder.tabulatesKeyValues)
    }

    @Test func theOptionTurnsItOff() throws {
        var options = ExecutionOptions()
        options.foldsCrossAttention = false
        let model = try PerceiverModel.load(directory: Fixtures.modelDirectory("mlm"), options: options)
        #expect(!model.encoder.tabulatesKeyValues && model.encoder.tabulatedKeyValues == nil)
    }

    @Test(.needsBF16Matmuls) func aBF16ModelProjects() throws {
        let model = try PerceiverModel.load(directory: Fixtures.modelDirectory("mlm"),
                                            options: ExecutionOptions(precision: .bf16, threads: 2))
        #expect(!model.encoder.tabulatesKeyValues, "f32 only")
    }

    /// Every case of a text model, tabulated and projected, against `transformers` at the manifest's tolerance
    /// (1e-4 max abs, 1e-5 relative L2). The projected pass runs exactly the FLOPs the tabulated one ran plus
    /// those it counts as tabulated away.
    @Test(arguments: Fixtures.caseNames.filter { name in
        TabulatedKeyValuesTests.tabulating.contains { name.hasPrefix($0 + "_") }
    })
    func bothMatchTransformers(caseName: String) throws {
        // The figures for docs/engine.md "Parity with transformers": `swift test --filter TabulatedKeyValues`.
        try checkFoldedAndUnfolded(caseName, labels: ("tabulated", "projected"))
    }

    /// Keys and values from the tables against the layer's own layer norm and projections, over a batch of two
    /// text items padded to one length (`padInputs`: zero rows, token -1), with layer-norm scales and shifts
    /// that are not 1 and 0 and token embeddings whose rows have a mean of about 2 (which the layer norm
    /// removes, and the tables must too). Widths (C 40, qk 24, v 20) leave SIMD tails.
    ///
    /// The bound, per output element j, from the arithmetic: both orders compute `Y_j = Σ_c LN(x)_c W_jc + b_j`
    /// with the same `1/σ`. Each of their C-term sums errs by at most C u times the sum of its terms'
    /// magnitudes (Higham 3.1). Those magnitudes are at most `S_j = (1/σ) Σ_c |g_c W_jc| (|E_c| + |P_c| + |μE| + |μP|)
    /// + Σ_c |β_c W_jc| + |b_j|`: the projected order rounds `x = E + P` and `x - μ` on values of size |E| + |P|,
    /// the tables round `E - μE` and `P - μP`. The few roundings outside the sums (the scale, the shift, the
    /// final adds) add at most 5 u S_j per order, so the two differ by at most 2 (C + 5) u S_j. A wrong position,
    /// a missing centering or a dropped scale moves them by the size of S_j itself.
    @Test func tablesMatchTheProjections() throws {
        let (c, qk, v, vocabulary, length) = (40, 24, 20, 11, 9)
        let context = try ComputeContext(threads: 1)
        let source = ShiftedWeights(seed: 41)
        var config = PerceiverConfig(architecture: "PerceiverForMaskedLM")
        (config.dModel, config.vocabSize, config.maxPositionEmbeddings) = (c, vocabulary, length)
        let text = try TextPreprocessor(source, config: config)
        let layer = try PerceiverLayer(source, "cross", .init(
            isCross: true, queryDim: 16, keyValueDim: c, qkChannels: qk, vChannels: v, heads: 2, wideningFactor: 1,
            useQueryResidual: true))
        var rng = SplitMix64(seed: 7)
        let ids = [(0..<length).map { _ in Int(rng.next() % UInt64(vocabulary)) },
                   (0..<5).map { _ in Int(rng.next() % UInt64(vocabulary)) }]
        let (tabulated, projected, shuffled, inputs) = try context.run { () throws(InferenceError) in
            let parts = try ids.map { (row) throws(InferenceError) in
                try text(ModelInputs(inputIDs: IndexTensor(shape: [1, row.count], values: row)), context: context)
            }
            let inputs = PerceiverModel.padInputs(parts)
            let tables = try TabulatedKeyValues(layer, text: text, context: context)
            let kv = try tables.keyValues(tokens: inputs.tokens!, inputs: inputs.values, batch: 2, rows: length,
                                          bias: inputs.keyBias, attention: layer.attention, context: context)
            var wrong = inputs.tokens!
            wrong.swapAt(0, 1)
            let moved = try tables.keyValues(tokens: wrong, inputs: inputs.values, batch: 2, rows: length,
                                             bias: nil, attention: layer.attention, context: context)
            return (kv, try layer.project(inputs.values, batch: 2, rows: length, bias: inputs.keyBias,
                                          context: context), moved, inputs)
        }
        #expect(inputs.tokens!.suffix(4) == [-1, -1, -1, -1])
        #expect(tabulated.bias == projected.bias)
        let norm = try #require(layer.keyValueNorm)
        for (name, linear, got, want, moved) in [("keys", layer.key, tabulated.k, projected.k, shuffled.k),
                                                 ("values", layer.value, tabulated.v, projected.v, shuffled.v)] {
            let (got, want, moved) = (Self.floats(got), Self.floats(want), Self.floats(moved))
            var (worst, firstRowMagnitude) = (0.0, 0.0)
            for r in 0..<(2 * length) {
                let token = inputs.tokens![r]
                let inverse = Double(LayerNormKernel.statistics(inputs.values.withUnsafeBufferPointer {
                    $0.baseAddress! + r * c
                }, channels: c).inverse)
                let e = token < 0 ? [Float](repeating: 0, count: c) : Array(text.embeddings.values[(token * c)..<((token + 1) * c)])
                let p = token < 0 ? [Float](repeating: 0, count: c)
                    : Array(text.positions.values[((r % length) * c)..<((r % length + 1) * c)])
                let (meanE, meanP) = (Double(e.reduce(0, +)) / Double(c), Double(p.reduce(0, +)) / Double(c))
                for j in 0..<linear.outFeatures {
                    var magnitude = abs(Double(linear.bias!.values[j]))
                    for k in 0..<c {
                        let w = Double(linear.weight.values[j * c + k])
                        magnitude += inverse * abs(Double(norm.gamma.values[k]) * w)
                            * (abs(Double(e[k])) + abs(Double(p[k])) + abs(meanE) + abs(meanP))
                        magnitude += abs(Double(norm.beta.values[k]) * w)
                    }
                    let bound = 2 * Double(c + 5) * Double(Float.ulpOfOne / 2) * magnitude
                    let difference = abs(Double(got[r * linear.outFeatures + j]) - Double(want[r * linear.outFeatures + j]))
                    #expect(difference <= bound, "\(name) row \(r) channel \(j): \(difference) > \(bound)")
                    worst = max(worst, difference / bound)
                    if r == 0 { firstRowMagnitude = max(firstRowMagnitude, magnitude) }
                }
            }
            print("tables \(name): at most \(worst) of the bound")
            // Two tokens swapped: the first rows' keys and values move by the size of what they sum.
            let firstRow = (0..<linear.outFeatures).map { abs(moved[$0] - want[$0]) }.max()!
            #expect(Double(firstRow) > 100 * 2 * Double(c + 5) * Double(Float.ulpOfOne / 2) * firstRowMagnitude)
        }
    }

    static func floats(_ activations: Activations) -> [Float] {
        guard case .f32(let values) = activations else { preconditionFailure("f32 keys and values") }
        return values
    }

    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
    }
}

/// `RandomWeights` with layer-norm scales drawn from 0.5...1.5 instead of 1, and token embeddings shifted by 2.
private final class ShiftedWeights: WeightSource {
    private let random: RandomWeights
    private var generator = SplitMix64(seed: 3)
    var packer: ComputeContext?
    var retainedLayers: [String] = []
    var parameterCount: Int { random.parameterCount }

    init(seed: UInt64) { random = RandomWeights(seed: seed) }

    func tensor(_ name: String, shape: [Int], isBuffer: Bool) throws(ModelLoadError) -> WeightTensor {
        let tensor = try random.tensor(name, shape: shape, isBuffer: isBuffer)
        if name.contains("layernorm") && name.hasSuffix(".weight") {
            return WeightTensor(shape: shape, values: tensor.values.map { _ in generator.nextFloat(in: 0.5...1.5) })
        }
        if name == TextPreprocessor.Names.embeddings {
            return WeightTensor(shape: shape, values: tensor.values.map { $0 + 2 })
        }
        return tensor
    }

    func ignore(_ name: String) {}
}

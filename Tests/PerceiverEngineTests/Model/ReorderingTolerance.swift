@testable import PerceiverEngine

/// How far two runs of `model`'s decoder over the same queries may differ when only the number of query
/// rows per matmul changes (a chunk size, a subset of pixels, a batch). The arithmetic is the same (but for the
/// fold below); what changes is the blocking oneDNN picks for an (M, K) x (K, N) product, and with it the order in which each
/// dot product adds its K terms. One sum of K terms in floating point is within (K - 1) u sum|terms| of
/// the exact sum (u = 2^-24; Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., 3.1), so two
/// orders differ by at most twice that. The decoder runs `decoderProducts` such products one after another
/// (query, key and value projections, scores, weighted values, output projection, two MLP layers, the
/// head); layer norms rescale between them, so each adds its bound relative to the magnitude of what it
/// feeds, and the output's largest magnitude (at least 1: every product reads layer-normed activations of
/// order 1) stands for sum|terms| at the end. K is the longest sum in the
/// decoder: the query width E, the latent width D or the latent count N. A wrong row, chunk or position
/// moves an output by about its own magnitude, orders of magnitude above this bound. A caller whose runs also
/// differ in a product before the decoder (optical flow's `conv_after_patches` over a subset of pixels) adds it
/// to `decoderProducts`. A single-head decoder decides per call whether to fold its attention into the keys
/// and values (`FoldedDecoderAttention`, from the number of rows decoded), so two runs over different row
/// counts may differ by that choice as well: four products reordered (the scores as `K Wq` then the queries,
/// against the queries through `Wq` then `K`; the values as `V Wo^T` then `P`, against `P V` then `Wo`), each
/// within the same bound, so such a model counts four more.
func reorderingTolerance(_ model: PerceiverModel, _ reference: Tensor, decoderProducts: Float = 9) -> Float {
    let longestSum = [model.decoder.queryChannels, model.config.dLatents, model.config.numLatents].max() ?? 1
    let largest = reference.scalars.reduce(Float(0)) { max($0, abs($1)) }
    let folds = model.decoder.foldsAttention && model.decoder.layer.attention.heads == 1
    return (decoderProducts + (folds ? 4 : 0)) * 2 * Float(longestSum - 1) * Float.ulpOfOne / 2 * max(largest, 1)
}

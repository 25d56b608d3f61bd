// Helpers shared by the kernel tests: decoding the hex fixtures, hashing, and error measures.

/// Floats from a string of space/newline separated float32 bit patterns (8 hex digits each), as written by
/// tools/fixtures/make_prep_fixtures.py. Malformed words decode as NaN so that a broken fixture fails the comparison.
func hexFloats(_ text: String) -> [Float] {
    text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { word in
        UInt32(word, radix: 16).map(Float.init(bitPattern:)) ?? .nan
    }
}

/// FNV-1a over the float32 bit patterns, word by word (the same as `fnv1a` in tools/fixtures/make_prep_fixtures.py).
func fnv1a<S: Sequence>(_ values: S, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 where S.Element == Float {
    var hash = seed
    for value in values {
        hash ^= UInt64(value.bitPattern)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    return hash
}

/// Largest `|a[i] - b[i]|`; `.infinity` if the counts differ or a NaN appears in only one of them.
func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        if x.isNaN || y.isNaN {
            if x.isNaN != y.isNaN { return .infinity }
            continue
        }
        worst = max(worst, abs(x - y))
    }
    return worst
}

/// Number of positions whose bit patterns differ (a count of ulp-level mismatches).
func bitMismatches(_ a: [Float], _ b: [Float]) -> Int {
    guard a.count == b.count else { return max(a.count, b.count) }
    return zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
}

/// A linspace with every element stored.
struct LinspaceCase: Sendable, CustomStringConvertible {
    let start: Float
    let end: Float
    let count: Int
    let bits: String
    var description: String { "linspace(\(start), \(end), \(count))" }
}

/// A linspace stored as a hash of all elements plus a few (index, bit pattern) samples.
struct HashedLinspaceCase: Sendable, CustomStringConvertible {
    let count: Int
    let hash: UInt64
    let samples: [(Int, UInt32)]
    var description: String { "linspace(-1, 1, \(count))" }
}

/// One hash over the linspaces of every count in `counts`, concatenated.
struct LinspaceSweep: Sendable, CustomStringConvertible {
    let start: Float
    let end: Float
    let counts: ClosedRange<Int>
    let hash: UInt64
    var description: String { "linspace(\(start), \(end), \(counts))" }
}

/// Fourier features of a whole linear grid, every element stored: `(prod(indexDims), F)`.
struct FullFeatureCase: Sendable {
    let indexDims: [Int]
    let maxResolution: [Int]
    let numBands: Int
    let concatPos: Bool
    let sineOnly: Bool
    let bits: String
}

/// `decoder_query` positions of subsampled flat indices: `(O, d)`.
struct SubsampledCase: Sendable {
    let indices: [Int]
    let indexDims: [Int]
    let bits: String
}

/// Fourier features of a linear grid (concat, sin and cos), only `rows` × `channels` stored.
struct SampledFeatureCase: Sendable {
    let indexDims: [Int]
    let maxResolution: [Int]
    let numBands: Int
    let rows: [Int]
    let channels: [Int]
    let bits: String
}

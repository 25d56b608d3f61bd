import Foundation
import Testing
@testable import PerceiverEngine

/// `ImageOps.bicubicResize` against PyTorch's `interpolate(mode="bicubic", align_corners=False)`
/// (tools/fixtures/make_bicubic_fixture.py) and against a naive reference written from the formula.
@Suite struct BicubicTests {
    struct Case {
        let channels, height, width, outHeight, outWidth: Int
        let input, output: [Float]
    }

    static let cases: [Case] = {
        let path = Fixtures.directory + "/kernels/bicubic.json"
        let json = try! JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: path)!) as! [String: Any]
        return (json["cases"] as! [[String: Any]]).map { c in
            Case(channels: c["channels"] as! Int, height: c["height"] as! Int, width: c["width"] as! Int,
                 outHeight: c["out_height"] as! Int, outWidth: c["out_width"] as! Int,
                 input: (c["input"] as! [Double]).map(Float.init), output: (c["output"] as! [Double]).map(Float.init))
        }
    }()

    /// The formula in Double, each output as one sum over the 4 x 4 taps: W(d) = (A+2)|d|³ - (A+3)|d|² + 1 for
    /// |d| <= 1, A|d|³ - 5A|d|² + 8A|d| - 4A for 1 < |d| < 2, A = -0.75; taps clamped to the border.
    static func naive(_ c: Case) -> [Double] {
        func kernel(_ d: Double) -> Double {
            let x = abs(d), a = -0.75
            if x <= 1 { return (a + 2) * x * x * x - (a + 3) * x * x + 1 }
            if x < 2 { return a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a }
            return 0
        }
        func taps(_ dst: Int, input: Int, output: Int) -> [(Int, Double)] {
            let src = (Double(dst) + 0.5) * Double(input) / Double(output) - 0.5
            let base = Int(src.rounded(.down))
            return (base - 1...base + 2).map { (min(max($0, 0), input - 1), kernel(src - Double($0))) }
        }
        var out: [Double] = []
        for y in 0..<c.outHeight {
            for x in 0..<c.outWidth {
                for ch in 0..<c.channels {
                    var total = 0.0
                    for (row, wy) in taps(y, input: c.height, output: c.outHeight) {
                        for (column, wx) in taps(x, input: c.width, output: c.outWidth) {
                            total += wy * wx * Double(c.input[(row * c.width + column) * c.channels + ch])
                        }
                    }
                    out.append(total)
                }
            }
        }
        return out
    }

    @Test func matchesTorchAndTheNaiveReference() {
        #expect(Self.cases.count == 5)
        for c in Self.cases {
            let actual = ImageOps.bicubicResize(c.input, height: c.height, width: c.width, channels: c.channels,
                                                toHeight: c.outHeight, toWidth: c.outWidth)
            #expect(actual.count == c.output.count)
            // Inputs are N(0, 1), outputs up to ~4: the same f32 weights and taps, but torch's vectorised CPU
            // kernel rounds its 16 products and sums in another grouping than the one written here (neither the
            // tap order nor fused multiply-adds reproduce it bit for bit): measured 1.5e-6, a few ulps of 4.
            let torchError = zip(actual, c.output).map { abs($0 - $1) }.max()!
            #expect(torchError <= 4e-6, "\(c.height)x\(c.width) -> \(c.outHeight)x\(c.outWidth): \(torchError)")
            // The Double reference differs by the f32 rounding of the weights and sums alone.
            let naiveError = zip(actual, Self.naive(c)).map { abs(Double($0) - $1) }.max()!
            #expect(naiveError <= 1e-5, "\(c.height)x\(c.width) -> \(c.outHeight)x\(c.outWidth): \(naiveError)")
        }
    }

    @Test func sameSizeIsTheIdentity() {
        let input = (0..<(5 * 4 * 2)).map { Float($0) * 0.37 - 3 }
        #expect(ImageOps.bicubicResize(input, height: 5, width: 4, channels: 2, toHeight: 5, toWidth: 4) == input)
    }
}

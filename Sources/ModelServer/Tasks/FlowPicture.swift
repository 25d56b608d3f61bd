import Foundation
import ImageCodecs
import PerceiverEngine

/// A flow field as DeepMind's optical-flow colab shows it (`visualize_flow`): the flow scaled to pixels per frame
/// (`FLOW_SCALE_FACTOR` 20, since the model's outputs are divided by 100), then in OpenCV's 8-bit HSV
///
///     hue        = uint8(angle / pi / 2 * 180)          angle = atan2(dy, dx) in [0, 2 pi), truncated as numpy does
///     saturation = uint8(clip(magnitude * 255 / 24, 0, 255))
///     value      = 255
///
/// converted by OpenCV's `COLOR_HSV2BGR` (8-bit: hue in 2-degree steps; see `hsvToBGR`), and shown by matplotlib, which reads the BGR array as RGB: so the picture's red, green and blue are
/// OpenCV's blue, green and red, exactly the colours of the colab's pictures (a flow to the right is blue, to the
/// left yellow, down green, up pink; still pixels white). One difference: the angle here is an exact atan2,
/// where OpenCV's `cartToPolar` uses an approximation good to about 0.3 degrees, so a pixel within that of a
/// 2-degree step may land one hue step apart.
public enum FlowPicture {
    /// The colab's `FLOW_SCALE_FACTOR`: model outputs times this are pixels per frame.
    public static let flowScale = 20.0
    /// Pixels per frame at which saturation is full.
    public static let fullSaturation = 24.0

    /// The picture's RGB bytes for `field`, `height x width x 2` flow values in the model's units, row-major.
    public static func rgb(_ field: ArraySlice<Float>, height: Int, width: Int) -> [UInt8] {
        precondition(field.count == height * width * 2, "FlowPicture: \(field.count) values for \(height) x \(width)")
        var pixels = [UInt8](repeating: 0, count: height * width * 3)
        let base = field.startIndex
        for i in 0..<(height * width) {
            let (red, green, blue) = color(dx: field[base + i * 2], dy: field[base + i * 2 + 1])
            (pixels[i * 3], pixels[i * 3 + 1], pixels[i * 3 + 2]) = (red, green, blue)
        }
        return pixels
    }

    /// The picture of `field` as a PNG file.
    public static func png(_ field: ArraySlice<Float>, height: Int, width: Int) throws(PNGEncoder.EncodeError) -> [UInt8] {
        try PNGEncoder.encode(rgb: rgb(field, height: height, width: width), width: width, height: height)
    }

    /// One pixel: the colab's HSV, OpenCV's HSV to BGR, and BGR read as RGB.
    static func color(dx: Float, dy: Float) -> (UInt8, UInt8, UInt8) {
        let (x, y) = (Double(dx) * flowScale, Double(dy) * flowScale)
        var angle = atan2(y, x)
        if angle < 0 { angle += 2 * Double.pi }
        let hue = UInt8(min(180, angle / Double.pi / 2 * 180))
        let saturation = UInt8(min(255, max(0, (x * x + y * y).squareRoot() * 255 / fullSaturation)))
        let (b, g, r) = hsvToBGR(hue: hue, saturation: saturation, value: 255)
        return (b, g, r)
    }

    /// OpenCV's 8-bit `COLOR_HSV2BGR` as its vectorised path computes it (every pixel of a picture but the last
    /// few when the pixel count is not a multiple of the vector width): the bytes scaled to [0, 1] in float,
    /// hue times 6/180, the sector its integer part, `1 - s * f` and `1 - s * (1 - f)` each as one fused
    /// multiply-add, and each channel times 255 truncated. Checked against OpenCV 5.1 for every hue and
    /// saturation at value 255 (tools/fixtures/make_flow_picture_fixture.py draws the fixture with it).
    static func hsvToBGR(hue: UInt8, saturation: UInt8, value: UInt8) -> (UInt8, UInt8, UInt8) {
        let scaled = Float(hue) * (6 / 180 as Float)
        let sector = Float(Int(scaled))
        let f = scaled - sector
        let s = Float(saturation) * (1 / 255 as Float)
        let v = Float(value) * (1 / 255 as Float)
        let table = [v, v * (1 - s), v * Float(1).addingProduct(-s, f), v * Float(1).addingProduct(-s, 1 - f)]
        let sectors: [(Int, Int, Int)] = [(1, 3, 0), (1, 0, 2), (3, 0, 1), (0, 2, 1), (0, 1, 3), (2, 1, 0)]
        let pick = sectors[Int(sector) % 6]
        func byte(_ x: Float) -> UInt8 { UInt8(max(0, min(255, (x * 255).rounded(.towardZero)))) }
        return (byte(table[pick.0]), byte(table[pick.1]), byte(table[pick.2]))
    }
}

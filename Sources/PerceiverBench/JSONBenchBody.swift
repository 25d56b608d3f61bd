import Foundation
import PerceiverEngine

/// The request bodies `JSONBench` parses.
enum JSONBenchBody: String, CaseIterable, Sendable {
    /// One 368 x 496 optical-flow frame pair as a V2 JSON request: `frames` FP32 (1, 2, 3, 368, 496),
    /// 1,094,976 numbers written as Python's `json.dumps(frames.tolist())` writes float32 data (nested lists,
    /// ", " between elements, each float32 as the shortest text of its double, like 0.5488135027885437).
    case flow
    /// ~64 MiB of small numbers (`1, 1, ...`, 33,554,432 of them) under a shape the flow model does not take:
    /// the body an attacker sends to be refused expensively.
    case attack

    static let frameShape = [1, 2, 3, 368, 496]

    /// The flow model's input specs at 368 x 496 (`FlowPreprocessor.inputSpecs`).
    static let flowSpecs = [
        TensorSpec(name: "inputs", datatypes: ["FP32"], shape: [-1, 2, 27, 368, 496], isOptional: true),
        TensorSpec(name: "frames", datatypes: ["FP32"], shape: [-1, 2, 3, 368, 496], isOptional: true),
    ]

    /// The body and how many numbers its data holds.
    func make() -> (body: Data, numbers: Int) {
        switch self {
        case .flow: return Self.flowBody()
        case .attack: return Self.attackBody()
        }
    }

    private static func flowBody() -> (body: Data, numbers: Int) {
        var body = Data(#"{"inputs": [{"name": "frames", "shape": [1, 2, 3, 368, 496], "datatype": "FP32", "data": "#.utf8)
        body.reserveCapacity(24 << 20)
        var state: UInt64 = 0x5EED
        func nextValue() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24)  // [0, 1), as normalized pixels
        }
        func nest(_ depth: Int) {
            body.append(UInt8(ascii: "["))
            for index in 0..<frameShape[depth] {
                if index > 0 { body.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: " ")]) }
                if depth + 1 == frameShape.count {
                    body.append(contentsOf: Double(nextValue()).description.utf8)
                } else {
                    nest(depth + 1)
                }
            }
            body.append(UInt8(ascii: "]"))
        }
        nest(0)
        body.append(contentsOf: "}]}".utf8)
        return (body, frameShape.reduce(1, *))
    }

    private static func attackBody() -> (body: Data, numbers: Int) {
        let count = 1 << 25
        var body = Data(#"{"inputs":[{"name":"frames","shape":[33554432],"datatype":"FP32","data":["#.utf8)
        body.reserveCapacity(body.count + 2 * count + 8)
        for _ in 0..<(count - 1) { body.append(contentsOf: [UInt8(ascii: "1"), UInt8(ascii: ",")]) }
        body.append(contentsOf: "1]}]}".utf8)
        return (body, count)
    }
}

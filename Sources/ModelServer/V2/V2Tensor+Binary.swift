import Foundation

// Binary tensor data: little-endian, row-major, no stride or padding; BOOL is one byte
// (Triton's binary tensor data extension, docs/reference/serving.md 1.8). BYTES, whose elements are
// length-prefixed, is in V2Tensor+BytesCodec.swift.

extension V2Tensor.Data {
    /// Decodes the elements of `bytes` as `datatype` (a nonzero BOOL byte is 1); the caller has checked
    /// that `bytes.count` is the element count times `datatype.byteSize`.
    /// - Throws: `RequestError.badTensor` for a UINT64 element above `Int.max`, and for BYTES, which has no
    ///   element size (`ByteStrings(binary:count:name:)` decodes it).
    static func decoding(_ bytes: Foundation.Data, as datatype: V2Datatype,
                         name: String) throws(RequestError) -> Self {
        let decoded: Self? = bytes.withUnsafeBytes { raw in
            switch datatype {
            case .bool: return integers(raw, UInt8.self, normalize: { $0 == 0 ? 0 : 1 })
            case .uint8: return integers(raw, UInt8.self)
            case .int8: return integers(raw, Int8.self)
            case .uint16: return integers(raw, UInt16.self)
            case .int16: return integers(raw, Int16.self)
            case .uint32: return integers(raw, UInt32.self)
            case .int32: return integers(raw, Int32.self)
            case .uint64: return integers(raw, UInt64.self)
            case .int64: return integers(raw, Int64.self)
            case .fp16: return floats(raw, UInt16.self) { Float(Float16(bitPattern: $0)) }
            // bfloat16 is the high half of an IEEE float32.
            case .bf16: return floats(raw, UInt16.self) { Float(bitPattern: UInt32($0) << 16) }
            case .fp32: return floats(raw, UInt32.self) { Float(bitPattern: $0) }
            case .fp64: return floats(raw, UInt64.self) { Float(Double(bitPattern: $0)) }
            case .bytes: return nil
            }
        }
        guard let decoded else {
            let reason = datatype == .bytes ? "BYTES elements are length-prefixed, not of a fixed size"
                : "\(datatype.rawValue) value is larger than \(Int.max)"
            throw RequestError.badTensor(name: name, reason: reason)
        }
        return decoded
    }

    /// Little-endian `T` elements as `.integers`, or nil when one does not fit in `Int`.
    private static func integers<T: FixedWidthInteger>(_ raw: UnsafeRawBufferPointer, _: T.Type,
                                                       normalize: (Int) -> Int = { $0 }) -> Self? {
        let size = MemoryLayout<T>.size
        var values: [Int] = []
        values.reserveCapacity(raw.count / size)
        for index in 0..<(raw.count / size) {
            let element = T(littleEndian: raw.loadUnaligned(fromByteOffset: index * size, as: T.self))
            guard let value = Int(exactly: element) else { return nil }
            values.append(normalize(value))
        }
        return .integers(values)
    }

    /// Little-endian bit patterns `Bits` converted to `.floats` by `convert`.
    private static func floats<Bits: FixedWidthInteger>(_ raw: UnsafeRawBufferPointer, _: Bits.Type,
                                                        _ convert: (Bits) -> Float) -> Self {
        let size = MemoryLayout<Bits>.size
        var values: [Float] = []
        values.reserveCapacity(raw.count / size)
        for index in 0..<(raw.count / size) {
            values.append(convert(Bits(littleEndian: raw.loadUnaligned(fromByteOffset: index * size, as: Bits.self))))
        }
        return .floats(values)
    }
}

extension V2Tensor {
    /// The tensor's data as binary in its datatype: little-endian, row-major. Integers are truncated to
    /// the datatype's width and floats rounded to it (BF16 to nearest even); BYTES elements are each a
    /// little-endian UInt32 length and the bytes; an unknown datatype gives no bytes.
    public func littleEndianBytes() -> Foundation.Data {
        if case .bytes(let elements) = data { return elements.binary }
        guard let type = V2Datatype(rawValue: datatype), let size = type.byteSize else { return Foundation.Data() }
        var out = Foundation.Data(count: data.count * size)
        out.withUnsafeMutableBytes { raw in
            if type.isInteger {
                Self.store(integerValues, as: type, into: raw)
            } else {
                Self.store(floatValues, as: type, into: raw)
            }
        }
        return out
    }

    /// The data as integers; floats are rounded (non-finite ones become 0).
    private var integerValues: [Int] {
        switch data {
        case .integers(let values): return values
        case .floats(let values): return values.map { Int(exactly: $0.rounded()) ?? 0 }
        case .bytes: return []
        }
    }

    /// The data as floats.
    private var floatValues: [Float] {
        switch data {
        case .integers(let values): return values.map { Float($0) }
        case .floats(let values): return values
        case .bytes: return []
        }
    }

    private static func store(_ values: [Int], as type: V2Datatype, into raw: UnsafeMutableRawBufferPointer) {
        switch type {
        case .bool, .uint8: store(values, into: raw) { UInt8(truncatingIfNeeded: $0) }
        case .int8: store(values, into: raw) { Int8(truncatingIfNeeded: $0) }
        case .uint16: store(values, into: raw) { UInt16(truncatingIfNeeded: $0) }
        case .int16: store(values, into: raw) { Int16(truncatingIfNeeded: $0) }
        case .uint32: store(values, into: raw) { UInt32(truncatingIfNeeded: $0) }
        case .int32: store(values, into: raw) { Int32(truncatingIfNeeded: $0) }
        case .uint64: store(values, into: raw) { UInt64(truncatingIfNeeded: $0) }
        case .int64: store(values, into: raw) { Int64($0) }
        case .fp16, .bf16, .fp32, .fp64, .bytes: break
        }
    }

    private static func store(_ values: [Float], as type: V2Datatype, into raw: UnsafeMutableRawBufferPointer) {
        switch type {
        case .fp16: store(values, into: raw) { Float16($0).bitPattern }
        case .bf16: store(values, into: raw, bfloat16Bits)
        case .fp32: store(values, into: raw) { $0.bitPattern }
        case .fp64: store(values, into: raw) { Double($0).bitPattern }
        default: break
        }
    }

    /// Writes `convert(value)` of each value little-endian, one after another.
    private static func store<Value, T: FixedWidthInteger>(_ values: [Value], into raw: UnsafeMutableRawBufferPointer,
                                                           _ convert: (Value) -> T) {
        let size = MemoryLayout<T>.size
        for (index, value) in values.enumerated() {
            raw.storeBytes(of: convert(value).littleEndian, toByteOffset: index * size, as: T.self)
        }
    }

    /// `value` rounded to bfloat16, nearest even; NaN stays a quiet NaN.
    static func bfloat16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let rounding = 0x7FFF + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }
}

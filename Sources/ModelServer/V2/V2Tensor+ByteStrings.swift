extension V2Tensor {
    /// The elements of a BYTES tensor (docs/reference/serving.md 1.6): byte strings, stored one after another in
    /// one buffer with where each ends. However many elements a request declares, they take the bytes the body
    /// holds plus one `Int` each: no allocation per element.
    public struct ByteStrings: Sendable, Equatable, RandomAccessCollection, ExpressibleByArrayLiteral {
        /// Every element's bytes, in order.
        public private(set) var storage: [UInt8] = []
        /// `ends[i]`: the offset in `storage` just past element i.
        public private(set) var ends: [Int] = []

        /// No elements.
        public init() {}

        /// The elements given, in order.
        public init<Elements: Sequence>(_ elements: Elements) where Elements.Element: Collection, Elements.Element.Element == UInt8 {
            for element in elements { append(element) }
        }

        /// Elements from string literals, as their UTF-8 bytes (`["ab", "cde"]`).
        public init(arrayLiteral elements: String...) {
            self.init(elements.map(\.utf8))
        }

        public var startIndex: Int { 0 }
        public var endIndex: Int { ends.count }

        /// The bytes of element `index`.
        public subscript(index: Int) -> ArraySlice<UInt8> {
            storage[(index == 0 ? 0 : ends[index - 1])..<ends[index]]
        }

        /// Makes room for `count` more elements holding `bytes` bytes in all.
        mutating func reserveCapacity(elements count: Int, bytes: Int) {
            ends.reserveCapacity(ends.count + count)
            storage.reserveCapacity(storage.count + bytes)
        }

        /// Appends one element.
        mutating func append(_ element: some Collection<UInt8>) {
            storage.append(contentsOf: element)
            ends.append(storage.count)
        }

        /// The elements as text: UTF-8, each invalid sequence replaced by U+FFFD (JSON strings must be Unicode).
        public var strings: [String] { map { String(decoding: $0, as: UTF8.self) } }
    }
}

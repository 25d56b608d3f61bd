/// Heap storage for a converted or copied tensor; frees its memory when the last
/// ``WeightTensor`` referring to it goes away.
final class FloatBuffer {
    /// The first of `count` elements.
    let pointer: UnsafeMutablePointer<Float>
    /// Number of elements.
    let count: Int

    /// Allocates uninitialised room for `count` floats; the caller fills it before sharing.
    init(count: Int) {
        self.count = count
        // Allocate at least one element so an empty tensor still has a valid, unique pointer.
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit {
        pointer.deallocate()
    }
}

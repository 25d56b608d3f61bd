import Foundation

/// Input-independent float tables computed once per input size and then shared (Fourier position features
/// of a grid, learned positions interpolated to an image size), bounded in entries and in bytes: clients
/// choose the sizes, and eight 768 x 768 Fourier grids held 5.8 GB when only the entries were counted. A table
/// larger than the byte bound is computed for its request and not kept; the oldest entries go first.
final class BoundedTableCache: @unchecked Sendable {
    private let capacity: Int
    /// Most bytes of tables kept at once.
    let maxBytes: Int
    private let lock = NSLock()
    // Guarded by `lock`: size -> table, insertion order for eviction, and their bytes.
    private var tables: [[Int]: [Float]] = [:]
    private var order: [[Int]] = []
    private var bytes = 0

    /// A cache of the last `capacity` tables, at most `maxBytes` of them.
    init(capacity: Int, maxBytes: Int) {
        self.capacity = max(1, capacity)
        self.maxBytes = max(0, maxBytes)
    }

    /// Bytes of tables held now (tests).
    var heldBytes: Int { lock.withLock { bytes } }

    /// The table of `key`, computed by `make` (outside the lock) when it is not held.
    func table(_ key: [Int], make: () -> [Float]) -> [Float] {
        if let cached = lock.withLock({ tables[key] }) { return cached }
        let table = make()
        let size = table.count * MemoryLayout<Float>.stride
        lock.lock()
        defer { lock.unlock() }
        guard tables[key] == nil, size <= maxBytes else { return table }
        while order.count >= capacity || bytes + size > maxBytes, !order.isEmpty {
            let evicted = order.removeFirst()
            bytes -= (tables.removeValue(forKey: evicted)?.count ?? 0) * MemoryLayout<Float>.stride
        }
        tables[key] = table
        order.append(key)
        bytes += size
        return table
    }
}

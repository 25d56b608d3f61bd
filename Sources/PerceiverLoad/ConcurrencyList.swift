import ArgumentParser

/// One `--concurrency` value: a level or a comma list of levels.
struct ConcurrencyList: ExpressibleByArgument, Sendable {
    /// One thread per client: more than this is a mistake, not a benchmark.
    static let maximum = 4096
    var levels: [Int]

    init(levels: [Int]) { self.levels = levels }

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
        let numbers = parts.compactMap { Int($0.trimmingSpaces) }
        guard !parts.isEmpty, numbers.count == parts.count else { return nil }
        levels = numbers
    }

    var defaultValueDescription: String { levels.map(String.init).joined(separator: ",") }
}

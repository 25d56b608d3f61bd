import Foundation
import Logging

/// A `Logger` whose records a test can read back: level, message and metadata of each, in order.
final class CapturedLog: @unchecked Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    // Guarded by `lock`.
    private var stored: [Record] = []
    private let lock = NSLock()

    /// Records everything at `level` and above.
    func logger(level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: "captured") { _ in Handler(log: self) }
        logger.logLevel = level
        return logger
    }

    var records: [Record] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    fileprivate func append(_ record: Record) {
        lock.lock()
        stored.append(record)
        lock.unlock()
    }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            log.append(Record(level: event.level, message: "\(event.message)",
                              metadata: merged.mapValues { "\($0)" }))
        }
    }
}

import ArgumentParser
import Foundation

/// Drives N concurrent keep-alive HTTP clients at a URL for a fixed time, per concurrency level, and prints
/// throughput and nearest-rank p50/p95/p99/max latency.
///
/// Each client is one thread with one blocking connection that sends the next request as soon as the previous
/// response is read. A level runs `--warmup` seconds unrecorded, then `--duration` seconds recorded; a response
/// counts when it completes inside that window, so requests in flight at the deadline are finished but not counted.
@main
struct PerceiverLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "PerceiverLoad",
        abstract: "Drive N concurrent keep-alive HTTP clients for a fixed time; print throughput and latency.",
        discussion: """
            Requests are POST with --body, or GET without it. One table row per concurrency level: responses \
            in the window (any status), non-2xx by status, socket errors (failed connect/send/receive, \
            timeouts, malformed responses), responses per second, and latency percentiles (nearest rank).
            """)

    @Option(help: "The target, http://host[:port]/path (plain http).")
    var url: String

    @Option(help: ArgumentHelp("A file sent as the POST body with Content-Length (without it: GET).",
                               valueName: "file"))
    var body: String?

    @Option(name: .customLong("header"), help: ArgumentHelp("An extra request header (repeatable).",
                                                            valueName: "Name: value"))
    var headers: [String] = []

    @Option(name: .customLong("concurrency"), help: ArgumentHelp(
        "Concurrent clients; repeatable or a comma list (1,8,32): each level runs in turn.", valueName: "n[,n...]"))
    var concurrencyLists: [ConcurrencyList] = [ConcurrencyList(levels: [1])]

    @Option(help: "Measured seconds per level.")
    var duration: Double = 10

    @Option(help: "Unmeasured seconds before each level's measurement.")
    var warmup: Double = 1

    @Option(help: "Seconds one connect, send or receive may block before it counts as a socket error.")
    var timeout: Double = 30

    @Flag(help: "Print one JSON object per level instead of the table.")
    var json = false

    var levels: [Int] { concurrencyLists.flatMap(\.levels) }

    func validate() throws {
        guard duration > 0, duration.isFinite else { throw ValidationError("--duration must be more than 0") }
        guard warmup >= 0, warmup.isFinite else { throw ValidationError("--warmup must be 0 or more") }
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be more than 0") }
        guard levels.allSatisfy({ (1...ConcurrencyList.maximum).contains($0) }) else {
            throw ValidationError("--concurrency must be from 1 to \(ConcurrencyList.maximum)")
        }
        do { _ = try TargetURL(url) } catch { throw ValidationError(error.description) }
        for header in headers {
            do { _ = try HeaderField(parsing: header) } catch { throw ValidationError(error.description) }
        }
    }

    func run() throws {
        let target = try TargetURL(url)
        let request = RequestTemplate(url: target, body: try readBody(),
                                      headers: try headers.map { try HeaderField(parsing: $0) })
        let endpoint: Endpoint
        do { endpoint = try Endpoint.resolve(host: target.host, port: target.port) } catch {
            fail("\(error) (check --url)")
        }
        let runner = LevelRunner(endpoint: endpoint, request: request, duration: duration, warmup: warmup,
                                 timeout: timeout)
        if !json {
            print("\(body == nil ? "GET" : "POST") \(url)\(body.map { ", body \($0)" } ?? ""); "
                  + "\(duration) s per level after \(warmup) s warm-up")
            print(LevelResult.tableHeader)
        }
        for concurrency in levels {
            let result: LevelResult
            do { result = try runner.run(concurrency: concurrency) } catch { fail("\(error)") }
            print(json ? result.jsonLine : result.tableRow)
            fflush(nil)
            result.socketErrorLines.forEach(printError)
        }
    }

    private func readBody() throws -> [UInt8]? {
        guard let body else { return nil }
        guard let data = FileManager.default.contents(atPath: body) else { fail("cannot read --body \(body)") }
        return [UInt8](data)
    }

    private func fail(_ message: String) -> Never {
        printError("PerceiverLoad: \(message)")
        Self.exit(withError: ExitCode.failure)
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

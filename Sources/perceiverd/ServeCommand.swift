import ArgumentParser
import Foundation
import Logging
import ModelServer
import PerceiverEngine

/// `perceiverd serve`: the daemon.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve models over HTTP: KServe V2 (/v2/...), the task endpoint /infer, /health and /metrics.",
        discussion: """
        Reads the configuration file (JSON; every key is in docs/serving.md, "Configuration"), then applies \
        the flags. Binds the listeners, loads and warms every model, then logs `ready`; until then \
        /v2/health/ready and the model routes answer 503.

        Signals: SIGTERM or SIGINT drains (readiness turns 503, the listener closes, in-flight requests \
        finish within drain_timeout_ms; then a pass still running is abandoned) and exits 0; a second SIGTERM \
        ends the drain at once, still exiting 0. A SIGTERM during start-up is a drain too. SIGHUP reads the \
        configuration file again (with the same flags) and applies what changed in `models`: new models load, \
        changed ones reload beside the running ones with no request lost, removed ones unload; other keys are \
        reported as needing a restart. SIGUSR1 and SIGUSR2 are logged and ignored. Under systemd \
        (Type=notify) it sends READY=1, RELOADING=1 around a SIGHUP, STOPPING=1 and, when WatchdogSec= is \
        set, WATCHDOG=1 every half period.

        Exit status: 0 after a drain; 1 when the configuration is invalid, a model does not load or a port \
        cannot be bound (one line on stderr, starting `perceiverd:`); 64 for a usage error.

        Environment: PERCEIVERD_TOKENS (bearer tokens, separated by commas or whitespace; with \
        auth.token_file in the config, every route but the health probes answers 401 without one); \
        NOTIFY_SOCKET and WATCHDOG_USEC (set by systemd); OMP_WAIT_POLICY=PASSIVE keeps idle compute \
        threads from spinning. Logs go to stderr; with admin.logging on, GET and POST /v2/logging read \
        and change what is logged while the daemon runs.

        Examples:
          perceiverd serve --config config.json
          perceiverd serve --model words=models/words --port 8080 --threads 2
          perceiverd serve --config /etc/perceiverd/config.json --host 0.0.0.0
        """)

    @Option(help: "Configuration file (JSON). Without it, defaults plus --model.")
    var config: String?

    @Option(help: "Listen address (overrides the config's host).")
    var host: String?

    @Option(help: "HTTP port, 0 for any free port (overrides the config's port).")
    var port: Int?

    @Option(name: .customLong("model"), help: ArgumentHelp("Serve the model directory DIR as NAME (repeatable); replaces the path of a configured model of that name or adds one.", valueName: "NAME=DIR"))
    var models: [String] = []

    @Option(help: "Cores the forward passes share, 0 = all cores (overrides the config's threads).")
    var threads: Int?

    func validate() throws {
        if config == nil && models.isEmpty { throw ValidationError("give --config FILE or at least one --model NAME=DIR") }
    }

    func run() throws {
        // Before anything starts a thread: a SIGTERM from now on is a drain, never an abrupt end.
        Daemon.holdSignals()
        // Activations reuse resident heap memory between passes (see HeapPolicy and docs/engine.md "Memory").
        HeapPolicy.retainFreedMemory()
        let settings: ServerConfiguration
        do {
            let base = try config.map(ServerConfiguration.load(path:))
                ?? ServerConfiguration(models: [])
            settings = try base.overriding(host: host, port: port, threads: threads, models: models)
        } catch {
            printError("perceiverd: \(error)")
            throw ExitCode.failure
        }
        // One switch for every logger of the process: `POST /v2/logging` changes what the next line does. The
        // stream handler lets everything through; the switch decides (docs/api.md "Logging").
        let logSwitch = LogSwitch(LogSettings(level: settings.logLevel.loggerLevel))
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .trace
            return SwitchedLogHandler(wrapping: handler, logSwitch: logSwitch)
        }
        let (file, host, port, threads, models) = (config, self.host, self.port, self.threads, self.models)
        let directory = file.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
            ?? FileManager.default.currentDirectoryPath
        let daemon = Daemon(configuration: settings, logger: Logger(label: "perceiverd"), version: perceiverdVersion,
                            configurationDirectory: directory, logSwitch: logSwitch) { () throws(ConfigurationError) in
            let base = try file.map(ServerConfiguration.load(path:)) ?? ServerConfiguration(models: [])
            return try base.overriding(host: host, port: port, threads: threads, models: models)
        }
        do {
            try daemon.run()
        } catch {
            printError("perceiverd: \(error)")
            throw ExitCode.failure
        }
        // End here, without the libraries' static destructors (oneDNN's primitive cache, OpenMP's thread pool):
        // another thread may still be inside oneDNN when the drain is over, a pass stuck past the grace (the
        // daemon logged it) or the release of a model unloaded just before the signal, whose last reference
        // destroys its primitives on whichever thread drops it. Exiting normally ran those destructors under
        // it once in Tests/clients (a SIGTERM right after an unload; the daemon crashed on its way out). The
        // daemon needs none of them: the kernel frees the memory and closes the sockets.
        fflush(nil)
        _exit(0)
    }
}

/// The daemon's version, reported by `GET /v2` and `--version`.
let perceiverdVersion = "0.4.0"

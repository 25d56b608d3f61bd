import Foundation
import Glibc

/// Receives the daemon's signals on a thread of its own with `sigwait` (the pattern of signal(7) and "The
/// Linux Programming Interface" 33.2.4 for threaded programs): the signals are blocked in every thread, so
/// one that arrives before the watcher runs stays pending instead of killing the process, and none
/// interrupts a system call elsewhere.
final class SignalWatcher: Sendable {
    /// SIGTERM and SIGINT drain and stop; SIGHUP, SIGUSR1 and SIGUSR2 are the daemon's to interpret.
    static let handled: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2]

    /// Blocks `handled` on the calling thread; threads it creates afterwards inherit the mask. Call it first
    /// thing in the process, before any thread exists, so a signal can only ever reach the watcher.
    static func blockHandledSignals() {
        var set = signalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Starts the thread that calls `handler` with each signal of `handled`, one at a time, for the life of
    /// the process.
    init(handler: @escaping @Sendable (Int32) -> Void) {
        Self.blockHandledSignals()
        let thread = Thread {
            var set = Self.signalSet()
            while true {
                var signal: Int32 = 0
                guard sigwait(&set, &signal) == 0 else { continue }
                handler(signal)
            }
        }
        thread.name = "perceiverd.signals"
        thread.start()
    }

    private static func signalSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in handled { sigaddset(&set, signal) }
        return set
    }

    /// The signal's name for logs.
    static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case SIGHUP: return "SIGHUP"
        case SIGUSR1: return "SIGUSR1"
        case SIGUSR2: return "SIGUSR2"
        default: return "signal \(signal)"
        }
    }
}

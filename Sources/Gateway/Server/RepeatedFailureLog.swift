import Foundation
import Logging
import Synchronization

/// The log of a task that runs every second and may fail the same way for hours (a full disk):
/// the first failure is a warning, then one a minute saying how many there were, and the end of
/// the run of failures a notice. Without it a full disk writes a warning every second.
struct RepeatedFailureLog {
    let what: String
    let interval: Duration
    private var failures = 0
    private var unlogged = 0
    private var lastLogged: ContinuousClock.Instant?

    init(what: String, interval: Duration = .seconds(60)) {
        self.what = what
        self.interval = interval
    }

    mutating func failed(_ error: any Error, _ logger: Logger, now: ContinuousClock.Instant = .now) {
        failures += 1
        unlogged += 1
        if let lastLogged, now - lastLogged < interval { return }
        let message: Logger.Message = failures == 1
            ? "\(what) failed" : "\(what) failed again (\(unlogged) times since the last warning, \(failures) in a row)"
        logger.warning(message, metadata: ["error": .string("\(error)")])
        lastLogged = now
        unlogged = 0
    }

    mutating func succeeded(_ logger: Logger) {
        guard failures > 0 else { return }
        logger.notice("\(what) works again after \(failures) failed attempts")
        failures = 0
        unlogged = 0
        lastLogged = nil
    }
}

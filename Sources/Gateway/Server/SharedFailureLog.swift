import DejaSupport
import Foundation
import Logging
import struct Synchronization.Atomic

/// A ``RepeatedFailureLog`` shared by concurrent tasks (lookups, answers stored in the
/// background). A success while nothing failed, the common case, is one atomic load.
final class SharedFailureLog: Sendable {
    private let state: Mutex<RepeatedFailureLog>
    private let failing = Atomic<Bool>(false)

    init(what: String) {
        state = Mutex(RepeatedFailureLog(what: what))
    }

    func failed(_ error: any Error, _ logger: Logger) {
        state.withLock { s in
            failing.store(true, ordering: .relaxed)
            s.failed(error, logger)
        }
    }

    func succeeded(_ logger: Logger) {
        guard failing.load(ordering: .relaxed) else { return }
        state.withLock { s in
            failing.store(false, ordering: .relaxed)
            s.succeeded(logger)
        }
    }
}

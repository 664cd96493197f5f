import DejaSupport
import Dispatch
import Foundation
import VectorIndex

/// Collects the first error thrown on any thread.
final class Failures: Sendable {
    private let errors = Mutex<[any Error]>([])

    func record(_ error: any Error) {
        errors.withLock { $0.append(error) }
    }

    var first: (any Error)? {
        errors.withLock { $0.first }
    }
}

import Dispatch
import Foundation
import VectorIndex

/// Hands a value that is only read to `concurrentPerform`'s threads.
/// `@unchecked Sendable`: the threads only read the value while the caller waits for them.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

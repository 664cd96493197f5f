import Foundation
import Logging

/// A log handler that keeps the messages it is given, for tests that read the log.
final class LogCapture: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
        function: String, line: UInt
    ) {
        lock.withLock { lines.append(message.description) }
    }

    var messages: [String] { lock.withLock { lines } }

    /// A logger at `info` that writes here.
    var logger: Logger { Logger(label: "deja.test") { _ in self } }
}

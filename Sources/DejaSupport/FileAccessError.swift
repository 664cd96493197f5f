public import Foundation

/// A file that could not be read or written, and why, in one line.
public struct FileAccessError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Operation: String, Sendable {
        case read, write
    }

    public var operation: Operation
    public var path: String
    /// What went wrong, in lower case: `no such file or directory`, `is a directory`, ...
    public var reason: String

    public init(_ operation: Operation, path: String, reason: String) {
        self.operation = operation
        self.path = path
        self.reason = reason
    }

    /// The error of a Foundation file operation, with the system's reason when it carries one.
    public init(_ operation: Operation, path: String, error: any Error) {
        self.init(operation, path: path, reason: Self.reason(error))
    }

    public var description: String { "cannot \(operation.rawValue) \(path): \(reason)" }

    /// The reason of a Foundation file error: the POSIX error underneath it (`strerror`), a
    /// plain word for the cases that have none, Foundation's own text otherwise.
    public static func reason(_ error: any Error) -> String {
        var message: String
        if let cocoa = error as? CocoaError {
            if let posix = cocoa.underlying as? POSIXError {
                message = String(cString: strerror(posix.code.rawValue))
            } else if cocoa.code == .fileReadInapplicableStringEncoding || cocoa.code == .fileReadCorruptFile {
                message = "it is not UTF-8 text"
            } else if cocoa.code == .fileReadNoSuchFile || cocoa.code == .fileNoSuchFile {
                message = "no such file or directory"
            } else {
                message = cocoa.localizedDescription
            }
        } else if let posix = error as? POSIXError {
            message = String(cString: strerror(posix.code.rawValue))
        } else {
            message = String(describing: error)
        }
        if let first = message.first, first.isUppercase, message.dropFirst().first?.isLowercase == true {
            message = first.lowercased() + message.dropFirst()
        }
        return message
    }
}

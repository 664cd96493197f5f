import Embedding
import Foundation
import SemanticCache
import Yams

/// A configuration that cannot be used: one line per problem, each starting with its path in
/// the file (`cache.threshold: must be between 0 and 1, got 1.7`), or with what is wrong with the
/// file as a whole (`cannot read the configuration file: no such file or directory`).
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var problems: [String]
    /// The file the problems are in; `nil` for the defaults with `DEJA_*` variables.
    public var file: String?

    public init(_ problems: [String], file: String? = nil) {
        self.problems = problems
        self.file = file
    }

    /// One line per problem, each prefixed with the file when there is one.
    public var description: String {
        problems.map { problem in file.map { "\($0): \(problem)" } ?? problem }.joined(separator: "\n")
    }
}

import AsyncHTTPClient
import Foundation
import Gateway
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1
import SemanticCache

/// A command that failed part way: one line, exit status 1 (a `ValidationError` would exit 64,
/// which means a wrong command line).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

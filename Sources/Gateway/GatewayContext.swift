import Foundation
public import Hummingbird
import Logging

/// The request context of Deja's routes: Hummingbird's core context, the request id and the
/// facts for the log line.
public struct GatewayContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's `x-request-id` when it sent a usable one, else a new random id.
    public var requestID: String
    public let facts: RequestFacts

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        requestID = ""
        facts = RequestFacts()
    }
}

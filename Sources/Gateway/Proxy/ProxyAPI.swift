import DejaSupport
import SemanticCache

/// The APIs the proxy caches.
enum ProxyAPI: Sendable {
    case chat
    case completions
    case responses

    var path: String {
        switch self {
        case .chat: "/chat/completions"
        case .completions: "/completions"
        case .responses: "/responses"
        }
    }

    /// The `object` of a whole answer.
    var object: String {
        switch self {
        case .chat: "chat.completion"
        case .completions: "text_completion"
        case .responses: "response"
        }
    }

    var assembler: StreamAssembler.API {
        switch self {
        case .chat: .chat
        case .completions: .completions
        case .responses: .responses
        }
    }

    /// The cache request of a body of this API.
    func cacheRequest(_ body: JSONValue, tenant: String, partition: String?) -> CacheRequest {
        switch self {
        case .chat: CacheKeys.chat(body, tenant: tenant, partition: partition)
        case .completions: CacheKeys.completion(body, tenant: tenant, partition: partition)
        case .responses: CacheKeys.responses(body, tenant: tenant, partition: partition)
        }
    }
}

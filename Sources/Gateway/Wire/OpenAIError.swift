public import DejaSupport
import Foundation
public import HTTPTypes
public import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat
public import SemanticCache
public import Embedding

/// An error in the OpenAI wire shape, `{"error": {"message", "type", "param", "code"}}`, with its
/// HTTP status, so that official client libraries raise their usual exceptions.
public struct OpenAIError: HTTPResponseError, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?
    /// Extra response headers (e.g. `retry-after`).
    public var headers: [String: String] = [:]

    public init(status: HTTPResponse.Status, message: String, type: String, param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    public static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> OpenAIError {
        OpenAIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    public static func notFound(_ message: String, code: String? = nil) -> OpenAIError {
        OpenAIError(status: .notFound, message: message, type: "invalid_request_error", code: code)
    }

    /// A model that no route of `models:` takes.
    public static func modelNotFound(_ model: String) -> OpenAIError {
        notFound("The model '\(model)' does not exist or is not configured in Deja", code: "model_not_found")
    }

    public static func unauthorized(_ message: String) -> OpenAIError {
        OpenAIError(status: .unauthorized, message: message, type: "authentication_error", code: "invalid_api_key")
    }

    public static func upstream(_ status: HTTPResponse.Status, _ message: String, code: String? = nil) -> OpenAIError {
        OpenAIError(status: status, message: message, type: "upstream_error", code: code)
    }

    public static func server(_ message: String) -> OpenAIError {
        OpenAIError(status: .internalServerError, message: message, type: "server_error")
    }

    /// Deja's own embedder failed (`/v1/embeddings`, the lookup API).
    public static func embedderUnavailable(_ error: EmbeddingError) -> OpenAIError {
        OpenAIError(
            status: .serviceUnavailable, message: "Deja's embedder failed: \(error)", type: "server_error",
            code: "embedder_unavailable")
    }

    /// What a client is told when the cache engine fails during its request (the lookup API;
    /// the proxy answers from the provider instead). The store's own reason is given, its file's
    /// path is not: that goes to the log, found by `requestID`.
    public static func cache(_ error: CacheError, requestID: String) -> OpenAIError {
        switch error {
        case .storeFailed(let operation, _, let reason):
            return OpenAIError(
                status: .serviceUnavailable,
                message: "The cache store failed (\(operation): \(reason)); nothing was changed. Try again later; "
                    + "Deja's log has more under request \(requestID)",
                type: "server_error", code: "cache_store_unavailable")
        case .store:
            return OpenAIError(
                status: .serviceUnavailable,
                message: "The cache store failed; nothing was changed. Deja's log has more under request \(requestID)",
                type: "server_error", code: "cache_store_unavailable")
        case .embedding(let e):
            return embedderUnavailable(e)
        case .invalidEntry(let reason):
            return invalidRequest("The entry cannot be cached: \(reason)")
        case .invalidConfiguration, .embedderMismatch, .storeLost, .index, .labelledPairs:
            return server("Internal error (request \(requestID))")
        }
    }

    /// The JSON body.
    public var body: JSONValue {
        var error: [String: JSONValue] = ["message": .string(message), "type": .string(type)]
        error["param"] = param.map(JSONValue.string) ?? .null
        error["code"] = code.map(JSONValue.string) ?? .null
        return ["error": .object(error)]
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response()
    }

    public func response() -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        for (name, value) in headers {
            if let field = HTTPField.Name(name) { fields[field] = value }
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(data: body.canonicalData)))
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The outermost middleware: gives every request an id, turns every error into an OpenAI-shaped
/// response, writes one log line per request and records the request metrics.
///
/// The log line holds the request id, method, path, model, cache result, similarity, status and
/// latency (to the response head; a stream may go on after it). Prompt text only when
/// `logging.prompts` is on; never a header, so never a key.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = GatewayContext

    let logger: Logger
    let metrics: GatewayMetrics
    let logPrompts: Bool

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response)
        async throws -> Response
    {
        let start = ContinuousClock.now
        var context = context
        context.requestID = Self.requestID(from: request.headers[.xRequestID])
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = Self.errorResponse(error, request: request, logger: logger, requestID: context.requestID)
        }
        response.headers[.xRequestID] = context.requestID
        let elapsed = ContinuousClock.now - start
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        let route = context.coreContext.endpointPath.value ?? "unmatched"
        metrics.request(route: route, status: Int(response.status.code), nanoseconds: nanoseconds)
        let facts = context.facts.snapshot
        var metadata: Logger.Metadata = [
            "request_id": .string(context.requestID), "method": .string(request.method.rawValue),
            "path": .string(request.uri.path), "status": .stringConvertible(response.status.code),
            "latency_ms": .string(String(format: "%.2f", Double(nanoseconds) / 1e6)),
        ]
        if let model = facts.model { metadata["model"] = .string(model) }
        if let cache = facts.cache { metadata["cache"] = .string(cache) }
        if let similarity = facts.similarity { metadata["similarity"] = .string(String(format: "%.4f", similarity)) }
        if let upstream = facts.upstream { metadata["upstream_ms"] = .string(String(format: "%.2f", upstream)) }
        if let note = facts.note { metadata["note"] = .string(note) }
        if logPrompts, let prompt = facts.prompt { metadata["prompt"] = .string(prompt) }
        logger.info("request", metadata: metadata)
        return response
    }

    /// The client's id when it is short and printable, else a new one.
    static func requestID(from header: String?) -> String {
        if let header, !header.isEmpty, header.count <= 128,
           header.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        {
            return header
        }
        var bytes = [UInt8](repeating: 0, count: 12)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        return "req_" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func errorResponse(_ error: any Error, request: Request, logger: Logger, requestID: String) -> Response {
        switch error {
        case let e as OpenAIError:
            return e.response()
        case let e as HTTPError where e.status == .notFound:
            return OpenAIError.notFound("Unknown route: \(request.method.rawValue) \(request.uri.path)", code: "unknown_route")
                .response()
        case let e as HTTPError where e.status == .contentTooLarge:
            return OpenAIError(status: .contentTooLarge, message: "Request body too large", type: "invalid_request_error")
                .response()
        case let e as HTTPError:
            return OpenAIError(status: e.status, message: e.body ?? e.status.reasonPhrase, type: "invalid_request_error")
                .response()
        case is NIOTooManyBytesError:
            return OpenAIError(status: .contentTooLarge, message: "Request body too large", type: "invalid_request_error")
                .response()
        default:
            logger.error("unhandled error", metadata: ["request_id": .string(requestID), "error": .string("\(error)")])
            return OpenAIError.server("Internal error (request \(requestID))").response()
        }
    }
}

extension HTTPField.Name {
    static let xRequestID = HTTPField.Name("x-request-id")!
    static let xDejaCache = HTTPField.Name("x-deja-cache")!
    static let xDejaSimilarity = HTTPField.Name("x-deja-similarity")!
    static let xDejaEntry = HTTPField.Name("x-deja-entry")!
    static let xDejaThreshold = HTTPField.Name("x-deja-threshold")!
    static let xDejaTTL = HTTPField.Name("x-deja-ttl")!
    static let xDejaNamespace = HTTPField.Name("x-deja-namespace")!
}

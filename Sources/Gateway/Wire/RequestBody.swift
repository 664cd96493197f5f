import DejaSupport
import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// Reading a request's JSON body, the same way for every route that takes one.
enum RequestBody {
    /// The request body as a JSON object: 415 unless it is JSON, 413 above `limit` bytes,
    /// 400 when it does not parse or is not an object.
    static func object(_ request: inout Request, limit: Int) async throws -> JSONValue {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/json") else {
            throw OpenAIError(
                status: .unsupportedMediaType,
                message: "Content-Type must be application/json, got '\(type.isEmpty ? "none" : type)'",
                type: "invalid_request_error", code: "unsupported_media_type")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw tooLarge(limit)
        }
        let bytes: ByteBuffer
        do {
            bytes = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw tooLarge(limit)
        }
        let body: JSONValue
        do {
            body = try JSONValue.parse(Data(buffer: bytes))
        } catch {
            throw OpenAIError.invalidRequest("The request body is not valid JSON: \(error)", code: "invalid_json")
        }
        guard case .object = body else {
            throw OpenAIError.invalidRequest("The request body must be a JSON object, got \(body.typeName)", code: "invalid_json")
        }
        return body
    }

    static func tooLarge(_ limit: Int) -> OpenAIError {
        OpenAIError(status: .contentTooLarge, message: "The request body is larger than \(limit) bytes (server.max_body_bytes)",
                    type: "invalid_request_error", code: "request_too_large")
    }
}

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
            try await discardBody(of: &request, length: length)
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

    /// The most bytes of an oversized body read and thrown away so that its client gets the 413.
    static let discardLimit = 64 << 20

    /// Reads and drops the body of a request about to be refused as too large.
    ///
    /// A client that writes its whole body before it reads (Python's `http.client`, many others)
    /// never sees a 413 sent at the headers: the server stops reading, the socket's buffers fill,
    /// and the client blocks until a timeout, then retries. Reading the rest (up to
    /// ``discardLimit``; beyond it the connection is given up) lets it finish and read the answer.
    static func discardBody(of request: inout Request, length: Int) async throws {
        guard length <= discardLimit else { return }
        // The HTTP framing ends the body at its Content-Length, so this reads at most `length`.
        for try await _ in request.body {}
    }

    static func tooLarge(_ limit: Int) -> OpenAIError {
        OpenAIError(status: .contentTooLarge, message: "The request body is larger than \(limit) bytes (server.max_body_bytes)",
                    type: "invalid_request_error", code: "request_too_large")
    }
}

import DejaSupport
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat

extension ProxyRoutes {
    /// `POST /v1/messages`: Anthropic's Messages API, for Anthropic's SDKs and the tools built on
    /// them. The request is read as the chat completion it stands for and goes through the same
    /// path (cache, guards, routing to any provider, OpenAI-compatible or Anthropic); the answer,
    /// a hit replayed or a stream passed on included, comes back in the Messages API's shape, and
    /// so do errors.
    func messages(_ request: Request, _ context: GatewayContext) async throws -> Response {
        do {
            var request = request
            let raw = try await body(&request)
            let chat = try AnthropicWire.chatRequest(fromMessages: raw)
            let chatRequest = Request(head: request.head, body: .init(buffer: ByteBuffer(data: chat.canonicalData)))
            var response = try await complete(.chat, chatRequest, context)
            guard response.status == .ok else { return response }
            if chat["stream"]?.boolValue == true {
                let body = response.body
                response.body = ResponseBody { writer in try await body.write(MessagesStreamWriter(writer)) }
                return response
            }
            // The writer keeps what it is given in a box it shares with this copy.
            let collector = CollectingWriter()
            try await response.body.write(collector)
            let answer = (try? JSONValue.parse(Data(buffer: collector.buffer))) ?? [:]
            response.body = .init(byteBuffer: ByteBuffer(data: AnthropicWire.message(fromChat: answer).canonicalData))
            response.headers[.contentLength] = nil
            return response
        } catch let error as OpenAIError {
            var headers = HTTPFields([HTTPField(name: .contentType, value: "application/json")])
            for (name, value) in error.headers { if let n = HTTPField.Name(name) { headers[n] = value } }
            return Response(status: error.status, headers: headers,
                            body: .init(byteBuffer: ByteBuffer(data: AnthropicWire.errorBody(error).canonicalData)))
        }
    }

    /// `POST /v1/messages/count_tokens`: Deja's estimate (words × 4/3 of the text), without a
    /// provider call; close enough to size a prompt, not a tokenizer's count.
    func countMessageTokens(_ request: Request, _ context: GatewayContext) async throws -> Response {
        var request = request
        var raw = try await body(&request)
        if raw["max_tokens"] == nil, case .object(var fields) = raw {
            fields["max_tokens"] = 1
            raw = .object(fields)
        }
        let chat = try AnthropicWire.chatRequest(fromMessages: raw)
        return Response.json(["input_tokens": .int(Int64(ProxyAPI.estimatedPromptTokens(chat)))])
    }
}

/// Keeps what a response body writes, for a body that is rewritten whole. Copies share what they
/// keep (a body consumes the writer it is given).
struct CollectingWriter: ResponseBodyWriter {
    private let box = Box()
    var buffer: ByteBuffer { box.buffer }

    final class Box: @unchecked Sendable {
        var buffer = ByteBuffer()
    }

    mutating func write(_ buffer: ByteBuffer) async throws {
        var b = buffer
        box.buffer.writeBuffer(&b)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

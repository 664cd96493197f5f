import Gateway
import DejaSupport
import Embedding
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import NIOFoundationEssentialsCompat
import SemanticCache

extension MockUpstream {
    func buildRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/v1/models") { request, _ -> Response in
            self.counters.record("/v1/models", body: nil, headers: Self.headers(request))
            let ids = ["mock-gpt", "mock-embed", "mock-tools", "mock-slow-stream"]
            let list: [JSONValue] = ids.map { ["id": .string($0), "object": "model", "created": 1_700_000_000, "owned_by": "deja-mock"] }
            return Self.json(["object": "list", "data": .array(list)])
        }
        router.post("/v1/chat/completions") { request, _ -> Response in
            try await self.handle(request, path: "/v1/chat/completions") { body, model in
                try await self.chat(body, model: model)
            }
        }
        router.post("/v1/messages") { request, _ -> Response in
            try await self.handle(request, path: "/v1/messages", openAIFaults: false) { body, model in
                try await self.messages(body, model: model)
            }
        }
        router.post("/v1/completions") { request, _ -> Response in
            try await self.handle(request, path: "/v1/completions") { body, model in
                try await self.completion(body, model: model)
            }
        }
        router.post("/v1/responses") { request, _ -> Response in
            try await self.handle(request, path: "/v1/responses") { body, model in self.responses(body, model: model) }
        }
        // Stored responses by id: the mock keeps none, so it answers as if it had every id.
        router.get("/v1/responses/{id}") { request, context -> Response in
            let id = try context.parameters.require("id")
            self.counters.record("/v1/responses/{id}", body: nil, headers: Self.headers(request))
            return Self.json(["id": .string(id), "object": "response", "status": "completed", "output": [],
                              "query": .string(request.uri.query ?? "")])
        }
        router.delete("/v1/responses/{id}") { request, context -> Response in
            let id = try context.parameters.require("id")
            self.counters.record("/v1/responses/{id}", body: nil, headers: Self.headers(request))
            return Self.json(["id": .string(id), "object": "response.deleted", "deleted": true])
        }
        router.post("/v1/responses/{id}/cancel") { request, context -> Response in
            let id = try context.parameters.require("id")
            self.counters.record("/v1/responses/{id}/cancel", body: nil, headers: Self.headers(request))
            if id == "resp_missing" {
                return OpenAIError.notFound("mock: no response with id 'resp_missing'").response()
            }
            return Self.json(["id": .string(id), "object": "response", "status": "cancelled", "output": []])
        }
        router.post("/v1/moderations") { request, _ -> Response in
            try await self.handle(request, path: "/v1/moderations") { _, model in
                Self.json(["id": "modr-mock", "model": .string(model),
                           "results": [["flagged": false, "categories": [:], "category_scores": [:]]]])
            }
        }
        router.post("/v1/embeddings") { request, _ -> Response in
            try await self.handle(request, path: "/v1/embeddings") { body, model in
                try self.embeddings(body, model: model)
            }
        }
        return router
    }

    /// Records the request, parses its body, applies latency and the model's fault, then answers.
    func handle(
        _ request: Request, path: String, openAIFaults: Bool = true, answer: (JSONValue, String) async throws -> Response
    ) async throws -> Response {
        var request = request
        let bytes = try await request.collectBody(upTo: 16 << 20)
        let body: JSONValue
        do {
            body = try JSONValue.parse(Data(buffer: bytes))
        } catch {
            counters.record(path, body: nil, headers: Self.headers(request))
            return OpenAIError.invalidRequest("mock: body is not JSON: \(error)").response()
        }
        counters.record(path, body: body, headers: Self.headers(request))
        let model = body["model"]?.stringValue ?? "mock-gpt"
        counters.enter()
        defer { counters.leave() }
        if configuration.latency > .zero { try await Task.sleep(for: configuration.latency) }
        var response: Response
        if openAIFaults, let fault = try await fault(model: model) {
            response = fault
        } else {
            response = try await answer(body, model)
        }
        response.headers.append(contentsOf: Self.providerHeaders)
        return response
    }

    /// Headers OpenAI sends with every answer (its request id, rate limits, processing time), and
    /// a cookie, which a gateway should not pass on.
    static let providerHeaders: HTTPFields = [
        HTTPField.Name("x-request-id")!: "req_mock",
        HTTPField.Name("x-ratelimit-limit-requests")!: "10000",
        HTTPField.Name("x-ratelimit-remaining-requests")!: "9999",
        HTTPField.Name("openai-processing-ms")!: "1",
        .setCookie: "mock-session=1",
    ]

    private func fault(model: String) async throws -> Response? {
        switch model {
        case "mock-error-500":
            return OpenAIError.server("mock: internal error").response()
        case "mock-error-429":
            var e = OpenAIError(status: .tooManyRequests, message: "mock: rate limited", type: "rate_limit_error")
            e.headers["retry-after"] = "0"
            e.headers["retry-after-ms"] = "20"
            e.headers["x-should-retry"] = "true"
            return e.response()
        case "mock-error-400":
            return OpenAIError.invalidRequest("mock: bad request").response()
        case "mock-error-context":
            return OpenAIError.invalidRequest(
                "mock: This model's maximum context length is 8 tokens", param: "messages", code: "context_length_exceeded").response()
        case "mock-error-content":
            return OpenAIError.invalidRequest("mock: refused by the content policy", code: "content_policy_violation").response()
        case "mock-error-401":
            return OpenAIError.unauthorized("mock: incorrect API key provided").response()
        case "mock-timeout":
            try await Task.sleep(for: .seconds(60))
            return nil
        case "mock-garbage":
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: "<html>this is not JSON")))
        default:
            if model.hasPrefix("mock-flaky-"), let failures = Int(model.dropFirst("mock-flaky-".count)),
               counters.next(model: model) <= failures {
                return OpenAIError(status: .serviceUnavailable, message: "mock: try again", type: "server_error").response()
            }
            return nil
        }
    }

    /// The mock's answer to a prompt: a fixed function of it.
    static func answer(to prompt: String) -> String {
        let trimmed = prompt.trimmingCharacters(in: .whitespacesAndNewlines)
        return "This is the mock upstream's answer to \"\(trimmed.prefix(200))\"."
    }

    /// A Responses API answer (`object: response`), plain or as its event stream.
    private func responses(_ body: JSONValue, model: String) -> Response {
        let input = body["input"]?.stringValue ?? body["input"]?.arrayValue?.last.map(Self.text(of:)) ?? ""
        let (text, outputTokens, cut) = Self.limited(
            Self.answer(to: input), model: model, limit: body["max_output_tokens"]?.intValue)
        let id = "resp_mock_\(counters.next(model: "#responses"))"
        let status: JSONValue = cut ? "incomplete" : "completed"
        let message: JSONValue = [
            "type": "message", "id": "msg_mock", "status": status, "role": "assistant",
            "content": [["type": "output_text", "text": .string(text), "annotations": []]],
        ]
        let tokens = Int64(Self.words(input) + outputTokens)
        let response: JSONValue = [
            "id": .string(id), "object": "response", "created_at": .int(Int64(Date().timeIntervalSince1970)),
            "status": status, "model": .string(model), "output": [message],
            "usage": ["input_tokens": .int(Int64(Self.words(input))), "output_tokens": .int(Int64(outputTokens)),
                      "total_tokens": .int(tokens)],
            "incomplete_details": cut ? ["reason": "max_output_tokens"] : .null,
        ]
        guard body["stream"]?.boolValue == true else { return Self.json(response) }
        return stream(StreamReplay.responses(response), model: model, done: false)
    }

    /// An answer under a token limit, as a provider cuts it: at most `limit` tokens (a word
    /// each here), then `finish_reason: length` or `status: incomplete` (`cut`). `mock-reasoning`
    /// first spends 50 tokens thinking, so a small limit leaves it nothing to say.
    static func limited(_ answer: String, model: String, limit: Int?) -> (text: String, tokens: Int, cut: Bool) {
        let thinking = model == "mock-reasoning" ? 50 : 0
        let tokens = thinking + words(answer)
        guard let limit, limit < tokens else { return (answer, tokens, false) }
        return (answer.split(separator: " ").prefix(max(0, limit - thinking)).joined(separator: " "), limit, true)
    }

    static func words(_ text: String) -> Int {
        max(1, text.split(whereSeparator: { $0 == " " || $0 == "\n" }).count)
    }

    private func chat(_ body: JSONValue, model: String) async throws -> Response {
        guard let messages = body["messages"]?.arrayValue, !messages.isEmpty else {
            return OpenAIError.invalidRequest("mock: 'messages' must be a non-empty array", param: "messages").response()
        }
        let lastUser = messages.last { $0["role"]?.stringValue == "user" }
        let prompt = lastUser.map(Self.text(of:)) ?? ""
        let promptTokens = messages.map { Self.words(Self.text(of: $0)) }.reduce(0, +)
        let (content, completionTokens, cut) = Self.limited(
            Self.answer(to: prompt), model: model,
            limit: body["max_completion_tokens"]?.intValue ?? body["max_tokens"]?.intValue)
        let id = "chatcmpl-mock-\(counters.next(model: "#chat"))"
        let created = JSONValue.int(Int64(Date().timeIntervalSince1970))
        let usage: JSONValue = [
            "prompt_tokens": .int(Int64(promptTokens)), "completion_tokens": .int(Int64(completionTokens)),
            "total_tokens": .int(Int64(promptTokens + completionTokens)),
        ]
        let toolCall: JSONValue = [
            "id": "call_mock_1", "type": "function",
            "function": ["name": "lookup", "arguments": .string(#"{"query":"\#(prompt.prefix(50))"}"#)],
        ]
        let thinking = model == "mock-reasoning" ? "Thinking about what \"\(prompt)\" asks for." : nil
        let functionCall: JSONValue = ["name": "lookup", "arguments": toolCall["function"]!["arguments"]!]
        guard body["stream"]?.boolValue == true else {
            var message: JSONValue = ["role": "assistant", "content": .string(content)]
            var finish = cut ? "length" : "stop"
            if let thinking { message = ["role": "assistant", "content": .string(content), "reasoning_content": .string(thinking)] }
            if model == "mock-tools" {
                message = ["role": "assistant", "content": .null, "tool_calls": [toolCall]]
                finish = "tool_calls"
            } else if model == "mock-functions" {
                message = ["role": "assistant", "content": .null, "function_call": functionCall]
                finish = "function_call"
            }
            let full: JSONValue = [
                "id": .string(id), "object": "chat.completion", "created": created, "model": .string(model),
                "choices": [["index": 0, "message": message, "finish_reason": .string(finish), "logprobs": .null]],
                "usage": usage, "system_fingerprint": "fp_mock",
            ]
            if model == "mock-cut-stream" {
                let cut = full.canonicalData.prefix(40)
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(data: cut)))
            }
            return Self.json(full)
        }
        let includeUsage = body["stream_options"]?["include_usage"]?.boolValue == true
        func chunk(_ delta: JSONValue, finish: JSONValue = .null) -> JSONValue {
            [
                "id": .string(id), "object": "chat.completion.chunk", "created": created, "model": .string(model),
                "choices": [["index": 0, "delta": delta, "finish_reason": finish, "logprobs": .null]],
                "system_fingerprint": "fp_mock",
            ]
        }
        var events: [JSONValue] = []
        if model == "mock-filtered" {
            // As Azure OpenAI opens a stream: prompt filter results, no choices, id or model.
            events.append([
                "id": "", "object": "", "created": 0, "model": "", "choices": [],
                "prompt_filter_results": [["prompt_index": 0, "content_filter_results": ["hate": ["filtered": false]]]],
            ])
        }
        let calls = model == "mock-tools" || model == "mock-functions"
        events.append(chunk(["role": "assistant", "content": calls ? .null : ""]))
        var finish = cut ? "length" : "stop"
        if let thinking {
            events += thinking.split(separator: " ", omittingEmptySubsequences: false).enumerated().map { i, word in
                chunk(["reasoning_content": .string((i == 0 ? "" : " ") + word)])
            }
        }
        if model == "mock-tools" {
            events.append(chunk(["tool_calls": [["index": 0, "id": "call_mock_1", "type": "function",
                                                  "function": ["name": "lookup", "arguments": toolCall["function"]!["arguments"]!]]]]))
            finish = "tool_calls"
        } else if model == "mock-functions" {
            // The deprecated functions API: the name first, then the arguments in pieces.
            let arguments = functionCall["arguments"]!.stringValue!
            events.append(chunk(["function_call": ["name": "lookup", "arguments": ""]]))
            events.append(chunk(["function_call": ["arguments": .string(String(arguments.prefix(5)))]]))
            events.append(chunk(["function_call": ["arguments": .string(String(arguments.dropFirst(5)))]]))
            finish = "function_call"
        } else {
            var pieces: [String] = []
            var word = ""
            for ch in content {
                word.append(ch)
                if ch == " " { pieces.append(word); word = "" }
            }
            if !word.isEmpty { pieces.append(word) }
            events += pieces.map { chunk(["content": .string($0)]) }
        }
        events.append(chunk([:], finish: .string(finish)))
        if includeUsage {
            events.append([
                "id": .string(id), "object": "chat.completion.chunk", "created": created, "model": .string(model),
                "choices": [], "usage": usage,
            ])
        }
        return stream(events, model: model)
    }

    private func completion(_ body: JSONValue, model: String) async throws -> Response {
        let prompt: String
        switch body["prompt"] {
        case .string(let s)?: prompt = s
        case .array(let a)?: prompt = a.compactMap(\.stringValue).joined(separator: "\n")
        default: return OpenAIError.invalidRequest("mock: 'prompt' must be a string", param: "prompt").response()
        }
        let text = Self.answer(to: prompt)
        let id = "cmpl-mock-\(counters.next(model: "#completion"))"
        let created = JSONValue.int(Int64(Date().timeIntervalSince1970))
        let usage: JSONValue = [
            "prompt_tokens": .int(Int64(Self.words(prompt))), "completion_tokens": .int(Int64(Self.words(text))),
            "total_tokens": .int(Int64(Self.words(prompt) + Self.words(text))),
        ]
        guard body["stream"]?.boolValue == true else {
            return Self.json([
                "id": .string(id), "object": "text_completion", "created": created, "model": .string(model),
                "choices": [["text": .string(text), "index": 0, "logprobs": .null, "finish_reason": "stop"]],
                "usage": usage,
            ])
        }
        func chunk(_ piece: String, finish: JSONValue = .null) -> JSONValue {
            [
                "id": .string(id), "object": "text_completion", "created": created, "model": .string(model),
                "choices": [["text": .string(piece), "index": 0, "logprobs": .null, "finish_reason": finish]],
            ]
        }
        var events = text.split(separator: " ").map { chunk(String($0) + " ") }
        events.append(chunk("", finish: "stop"))
        return stream(events, model: model)
    }

    private func embeddings(_ body: JSONValue, model: String) throws -> Response {
        let inputs: [String]
        switch body["input"] {
        case .string(let s)?: inputs = [s]
        case .array(let a)? where !a.isEmpty && a.allSatisfy({ $0.stringValue != nil }): inputs = a.compactMap(\.stringValue)
        default:
            return OpenAIError.invalidRequest("mock: 'input' must be a string or an array of strings", param: "input")
                .response()
        }
        var dimension = configuration.embeddingDimension
        if model.hasPrefix("mock-embed-"), let d = Int(model.dropFirst("mock-embed-".count)) { dimension = d }
        let embedder = try HashingEmbedder(configuration: .init(dimension: max(8, dimension)))
        var data: [JSONValue] = inputs.enumerated().map { i, text in
            let v = embedder.vector(for: text).prefix(dimension)
            return ["object": "embedding", "index": .int(Int64(i)), "embedding": .array(v.map { .double(Double($0)) })]
        }
        // As servers that answer batches out of order do, indices kept; or with every index 0.
        if model == "mock-embed-reversed" { data.reverse() }
        if model == "mock-embed-index-0" { data = data.map { var d = $0.objectValue!; d["index"] = 0; return .object(d) } }
        let tokens = inputs.map(Self.words).reduce(0, +)
        return Self.json([
            "object": "list", "data": .array(data), "model": .string(model),
            "usage": ["prompt_tokens": .int(Int64(tokens)), "total_tokens": .int(Int64(tokens))],
        ])
    }

    static func text(of message: JSONValue) -> String {
        switch message["content"] {
        case .string(let s)?: return s
        case .array(let parts)?: return parts.compactMap { $0["text"]?.stringValue }.joined(separator: " ")
        default: return ""
        }
    }

    static func json(_ value: JSONValue) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(data: value.canonicalData)))
    }

    /// An SSE response; `mock-cut-stream` stops after two events, `mock-slow-stream` waits 200 ms
    /// between events. Chat and completion streams end with `[DONE]` (`done`), Responses API ones not.
    /// A stream whose reader goes away before the end is counted in ``MockUpstream/abandonedStreams``.
    func stream(_ events: [JSONValue], model: String, done: Bool = true) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: .init { writer in
                for (i, event) in events.enumerated() {
                    if model == "mock-cut-stream" && i == 2 { throw MockStreamCut() }
                    if model == "mock-slow-stream" && i > 0 { try await Task.sleep(for: .milliseconds(200)) }
                    if model == "mock-stall-stream" && i == 2 { try await Task.sleep(for: .seconds(5)) }
                    // Responses API events are named on an `event:` line too, as OpenAI does.
                    do {
                        try await writer.write(ServerSentEvents.event(event, name: done ? nil : event["type"]?.stringValue))
                    } catch {
                        self.counters.abandonStream()
                        throw error
                    }
                }
                if done { try await writer.write(ServerSentEvents.done) }
                try await writer.finish(nil)
            })
    }

    static func headers(_ request: Request) -> [String: String] {
        var out: [String: String] = [:]
        for field in request.headers { out[field.name.canonicalName] = field.value }
        return out
    }
}

/// Thrown inside a streamed body to cut the connection mid-stream.
struct MockStreamCut: Error {}

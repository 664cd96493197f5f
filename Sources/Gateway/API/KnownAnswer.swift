public import DejaSupport
import Foundation
public import SemanticCache

/// An answer someone gives for a prompt, to be stored as the cache would store a provider's:
/// the prompt-and-answer form of `POST /v1/cache/entries` and a line of `deja cache import`,
/// read and checked the same way for both, so that an import done offline stores what one
/// through a running gateway would.
public struct KnownAnswer: Sendable {
    /// The chat request the answer is for: what a client would send to ask that prompt.
    public var request: CacheRequest
    public var model: String
    /// A complete chat completion.
    public var response: JSONValue
    public var promptTokens: Int
    public var completionTokens: Int
    /// Seconds it lives; `nil` for `cache.ttl`.
    public var ttl: Double?

    /// `{"prompt", "response" (text) or "response_json" (a chat completion), "model", "system"?,
    /// "namespace"? (partition), "tenant"?, "ttl"?}`.
    ///
    /// - Throws: a 400 ``OpenAIError`` naming the field that is missing or wrong.
    public init(_ body: JSONValue) throws(OpenAIError) {
        let plain = try PlainPrompt(body)
        let (request, model, prompt) = (plain.request, plain.model, plain.prompt)
        ttl = try RequestFields.number(body, "ttl", in: 0...Double.greatestFiniteMagnitude, "0 (until evicted) or more seconds")
        if let json = body["response_json"], !json.isNull {
            // Held to what a provider's answer must be to be cached, since it will be replayed
            // as one, as JSON and as a stream.
            guard ProxyAPI.chat.isCompleteAnswer(json) else {
                throw .invalidRequest(
                    "'response_json' must be a complete chat completion: \"object\": \"chat.completion\" and choices that "
                    + "each finished (finish_reason stop, length, tool_calls or function_call)", param: "response_json")
            }
            response = json
        } else if let text = try RequestFields.string(body, "response") {
            response = OpenAIWire.chatCompletion(
                id: "chatcmpl-deja-\(UInt32.random(in: 0...UInt32.max))", model: model, content: text, created: Date(),
                promptTokens: OpenAIWire.estimatedTokens(prompt), completionTokens: OpenAIWire.estimatedTokens(text))
        } else {
            throw .invalidRequest("Give the answer as 'response' (text) or 'response_json'", param: "response")
        }
        let usage = response["usage"]
        self.request = request
        self.model = model
        promptTokens = usage?["prompt_tokens"]?.intValue ?? OpenAIWire.estimatedTokens(prompt)
        completionTokens = usage?["completion_tokens"]?.intValue ?? 0
    }

    /// Stores the answer; returns once it is durable.
    public func store(in cache: SemanticCache) async throws(CacheError) -> CacheEntry {
        try await cache.insert(
            request, response: response.canonicalData, model: model, promptTokens: promptTokens,
            completionTokens: completionTokens, ttl: ttl)
    }
}

public import DejaSupport
import Foundation
public import SemanticCache

/// A cache entry as JSON: what the lookup API answers for an entry, and, with its response, one
/// line of `deja cache export`, which `POST /v1/cache/entries` and `deja cache import` take back.
/// One shape for all of them, so that an export can be read with the API's documentation and a
/// running gateway can restore what another wrote.
public enum CacheEntryJSON {
    /// The entry without its response (lists, search matches).
    public static func summary(_ s: EntrySummary) -> [String: JSONValue] {
        var out: [String: JSONValue] = [
            "id": .string(String(s.key)), "object": "cache.entry", "namespace": .string(s.namespace.id.description),
            "label": .string(s.namespace.label), "prompt": .string(s.prompt), "model": .string(s.model),
            "created_at": seconds(s.createdAt), "expires_at": s.expiresAt.map(seconds) ?? .null,
            "last_hit_at": s.lastHitAt.map(seconds) ?? .null,
            "hits": .int(Int64(s.hitCount)), "prompt_tokens": .int(Int64(s.promptTokens)),
            "completion_tokens": .int(Int64(s.completionTokens)),
        ]
        if s.trust != EntryTrust() { out["trust"] = trust(s.trust) }
        return out
    }

    /// What feedback and verification taught about an entry (shown once there is something).
    /// Not restored with the entry: a restored entry starts unproven.
    static func trust(_ t: EntryTrust) -> JSONValue {
        [
            "right_hits": .int(Int64(t.rightHits)), "wrong_hits": .int(Int64(t.wrongHits)),
            "min_similarity": t.minSimilarity.map { .double(Double($0)) } ?? .null,
            "min_probability": t.minProbability.map { .double($0) } ?? .null,
            "trusted_probability": t.trustedProbability.map { .double($0) } ?? .null,
        ]
    }

    /// Whole seconds since 1970. A time no 64-bit integer holds (an entry stored with a `ttl` of
    /// 1e300 seconds, which the API accepts) stays a number rather than trapping the conversion.
    static func seconds(_ date: Date) -> JSONValue {
        let t = date.timeIntervalSince1970.rounded(.down)
        return Int64(exactly: t).map(JSONValue.int) ?? .double(t)
    }

    /// The whole entry: its summary and the stored response as JSON (`GET /v1/cache/entries/{key}`,
    /// a line of an export).
    public static func entry(_ entry: CacheEntry) -> JSONValue {
        var out = summary(entry.summary)
        out["response"] = (try? JSONValue.parse(entry.response)) ?? .string(String(decoding: entry.response, as: UTF8.self))
        return .object(out)
    }

    /// Whether `body` is an entry in this shape (`"object": "cache.entry"`) rather than the
    /// lookup API's prompt-and-answer form.
    public static func isEntry(_ body: JSONValue) -> Bool {
        body["object"]?.stringValue == "cache.entry"
    }

    /// The entry `json` describes, for ``SemanticCache/restore(_:)``: its `id` is ignored, and
    /// its response must be a complete answer of the API its `object` names, as anything the
    /// cache replays must be.
    ///
    /// - Throws: a 400 ``OpenAIError`` naming the field that is missing or wrong.
    public static func restorable(_ json: JSONValue) throws(OpenAIError) -> CacheEntry {
        func text(_ field: String, empty: Bool = false) throws(OpenAIError) -> String {
            guard let value = try RequestFields.string(json, field), empty || !value.isEmpty else {
                throw .invalidRequest("'\(field)' must be a\(empty ? "" : " non-empty") string", param: field)
            }
            return value
        }
        func time(_ field: String) throws(OpenAIError) -> Date? {
            try RequestFields.number(json, field, in: 0...Double.greatestFiniteMagnitude, "seconds since 1970")
                .map(Date.init(timeIntervalSince1970:))
        }
        func count(_ field: String) throws(OpenAIError) -> Int {
            try RequestFields.number(json, field, in: 0...Double(Int32.max), "a whole number, 0 or more", whole: true).map { Int($0) } ?? 0
        }
        guard let id = Digest128(hex: try text("namespace")) else {
            throw .invalidRequest("'namespace' must be a 32-digit namespace id", param: "namespace")
        }
        let label = try text("label")
        let model = try text("model")
        guard let response = json["response"], let api = api(answering: response), api.isCompleteAnswer(response) else {
            throw .invalidRequest(
                "'response' must be a complete answer: a chat completion, a text completion or a Responses API response "
                + "that finished, as the cache stores them", param: "response")
        }
        guard let created = try time("created_at") else {
            throw .invalidRequest("'created_at' must be seconds since 1970", param: "created_at")
        }
        return CacheEntry(
            namespace: Namespace(id: id, label: label), exactKey: Digest128(high: 0, low: 0), prompt: try text("prompt", empty: true),
            vector: nil, response: response.canonicalData, model: model, createdAt: created, expiresAt: try time("expires_at"),
            lastHitAt: try time("last_hit_at"), hitCount: try count("hits"), promptTokens: try count("prompt_tokens"),
            completionTokens: try count("completion_tokens"))
    }

    static func api(answering response: JSONValue) -> ProxyAPI? {
        [ProxyAPI.chat, .completions, .responses].first { $0.object == response["object"]?.stringValue }
    }
}

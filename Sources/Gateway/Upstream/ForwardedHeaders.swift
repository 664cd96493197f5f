import HTTPTypes
import NIOHTTP1

/// The headers that cross Deja besides the body, in each direction. Everything else stays on
/// its side: a client's cookies or proxy headers never reach a provider, and a provider's
/// cookies or server headers never reach a client.
enum ForwardedHeaders {
    /// Client headers that go on to the provider with a forwarded call.
    ///
    /// - `x-request-id` carries Deja's request id (the client's own when it sent one), so that a
    ///   call can be found in the provider's or a proxy's logs by the id in Deja's log line.
    /// - `openai-beta` opts a call into a beta API; the provider must see it to honour it.
    /// - `openai-organization` and `openai-project` choose which account a key bills to, so they
    ///   go only with the client's own key (`clientKey`), never with the key Deja holds.
    static func outgoing(from client: HTTPFields, requestID: String, clientKey: Bool) -> [(String, String)] {
        var out: [(String, String)] = []
        if !requestID.isEmpty { out.append(("x-request-id", requestID)) }
        var names = [beta]
        if clientKey { names += [organization, project] }
        for name in names {
            if let value = client[name] { out.append((name.canonicalName, value)) }
        }
        return out
    }

    /// Provider response headers that come back to the client with a forwarded answer or error:
    /// rate limits (`x-ratelimit-*`), so that a client can pace itself as it would talking to the
    /// provider; retry hints (the official clients read `retry-after-ms`, `retry-after` and
    /// `x-should-retry` to decide whether and when to retry); the provider's processing time; and
    /// the provider's request id as `x-upstream-request-id`, because `x-request-id` is Deja's.
    static func incoming(from upstream: HTTPHeaders) -> HTTPFields {
        var out = HTTPFields()
        for (name, value) in upstream {
            let lower = name.lowercased()
            if lower.hasPrefix("x-ratelimit-") || passedBack.contains(lower) {
                if let field = HTTPField.Name(lower) { out.append(HTTPField(name: field, value: value)) }
            } else if lower == "x-request-id" {
                out.append(HTTPField(name: upstreamRequestID, value: value))
            }
        }
        return out
    }

    static let beta = HTTPField.Name("openai-beta")!
    static let organization = HTTPField.Name("openai-organization")!
    static let project = HTTPField.Name("openai-project")!
    static let upstreamRequestID = HTTPField.Name("x-upstream-request-id")!
    static let passedBack: Set<String> = ["retry-after", "retry-after-ms", "x-should-retry", "openai-processing-ms"]
}

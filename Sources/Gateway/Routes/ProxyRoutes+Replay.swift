import DejaSupport
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import SemanticCache

extension ProxyRoutes {
    /// A cached answer, as JSON or replayed as a stream.
    /// - Parameter restoring: the request's redactions: numbered placeholders in the cached
    ///   answer are replaced with this request's values (reversible redaction).
    func replay(
        _ hit: CacheHit, api: ProxyAPI, stream: Bool, includeUsage: Bool, restoring: Redactions? = nil, context: GatewayContext
    ) -> Response {
        let kind = hit.kind == .exact ? "hit" : "semantic-hit"
        metrics.observe(hit)
        meterHit(hit, context)
        context.facts.set(cache: kind, similarity: hit.similarity)
        var headers: HTTPFields = [.xDejaCache: kind, .xDejaEntry: String(hit.key), .age: String(Int(max(0, hit.age)))]
        if hit.kind == .semantic { headers[.xDejaSimilarity] = Double(hit.similarity).fixed(4) }
        if let p = hit.probability { headers[.xDejaProbability] = p.fixed(4) }
        var restored: JSONValue?
        if let restoring, restoring.reversible, !restoring.values.isEmpty, let stored = try? JSONValue.parse(hit.response) {
            restored = DataGuard.mapTexts(stored) { restoring.restore($0) } ?? stored
        }
        guard stream else {
            headers[.contentType] = "application/json"
            let body = restored.map { ByteBuffer(data: $0.canonicalData) } ?? ByteBuffer(data: hit.response)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
        }
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let memoKey = ReplayMemo.Key(entry: hit.key, api: api, includeUsage: api == .chat && includeUsage)
        if restored == nil, let kept = replays.get(memoKey) {
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: kept))
        }
        let stored = restored ?? (try? JSONValue.parse(hit.response)) ?? [:]
        var buffer = ByteBuffer()
        switch api {
        case .chat, .completions:
            let chunks = api == .chat ? StreamReplay.chat(stored, includeUsage: includeUsage) : StreamReplay.completions(stored)
            for chunk in chunks {
                var event = ServerSentEvents.event(chunk)
                buffer.writeBuffer(&event)
            }
            var done = ServerSentEvents.done
            buffer.writeBuffer(&done)
        case .responses:
            // Typed events, named on their `event:` line as OpenAI does, and no `[DONE]`.
            for event in StreamReplay.responses(stored) {
                var bytes = ServerSentEvents.event(event, name: event["type"]?.stringValue)
                buffer.writeBuffer(&bytes)
            }
        }
        if restored == nil { replays.put(memoKey, buffer) }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: buffer))
    }
}

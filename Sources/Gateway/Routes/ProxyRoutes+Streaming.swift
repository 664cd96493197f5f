import AsyncHTTPClient
import DejaSupport
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension ProxyRoutes {
    /// A streamed miss: every upstream chunk goes to the client as it arrives, while the stream
    /// is assembled into a complete answer that is stored only if it ended properly (`[DONE]`;
    /// for the Responses API, its final `response.completed` or `response.incomplete` event). If
    /// the upstream breaks off, the client gets an SSE error event and nothing is stored.
    func streamed(
        _ response: HTTPClientResponse, api: ProxyAPI, provider: UpstreamProvider, store: StoreAfterwards,
        started: ContinuousClock.Instant, stripUsage: Bool = false, upstreamModel: String, screen: AnswerScreen? = nil,
        includeUsage: Bool = false, context: GatewayContext
    ) -> Response {
        var headers: HTTPFields = [
            .contentType: "text/event-stream", .cacheControl: "no-cache", .xDejaCache: store.cacheHeader,
            .xDejaAttempts: String(store.attempts),
        ]
        headers.append(contentsOf: ForwardedHeaders.incoming(from: response.headers))
        return Response(status: .ok, headers: headers, body: .init { writer in
            var parser = ServerSentEvents.Parser()
            var assembler = StreamAssembler(api: api.assembler)
            var done = false
            var failure: OpenAIError?
            var chunks = response.body.makeAsyncIterator()
            // The answer's guards: events are rewritten, not passed through as they came.
            var screen = screen
            // An Anthropic provider's events become chat completion chunks.
            var translator = provider.configuration.kind == .anthropic
                ? AnthropicStreamTranslator(includeUsage: stripUsage || includeUsage) : nil
            let rewrites = screen != nil || translator != nil
            reading: while true {
                let next: ByteBuffer?
                do {
                    next = try await chunks.next()
                } catch {
                    failure = upstream.failure(error, provider: provider, midAnswer: true)
                    break
                }
                guard let chunk = next else { break }
                if !stripUsage && !rewrites { try await writer.write(chunk) }
                var payloads = parser.feed(chunk.readableBytesView)
                if translator != nil {
                    var translated: [String] = []
                    for payload in payloads {
                        do throws(OpenAIError) {
                            for c in try translator!.chunks(for: (try? JSONValue.parse(payload)) ?? .null) {
                                translated.append(c.map { $0.jsonString } ?? "[DONE]")
                            }
                        } catch {
                            failure = error
                            break reading
                        }
                    }
                    payloads = translated
                }
                for payload in payloads {
                    var value: JSONValue?
                    if payload == "[DONE]" {
                        done = true
                    } else {
                        value = try? JSONValue.parse(payload)
                    }
                    var events: [(stored: JSONValue, client: JSONValue)]?
                    if var current = screen, let value {
                        do throws(OpenAIError) {
                            events = try current.event(value, api: api)
                        } catch {
                            // A value this gateway blocks in answers: the client gets an error
                            // event in place of the rest, and nothing is stored.
                            guards?.record(current.found, .answer, metrics: metrics, context: context)
                            failure = error
                            break reading
                        }
                        screen = current
                    }
                    if payload != "[DONE]" {
                        if let events { for e in events { assembler.add(e.stored) } } else { assembler.add(value ?? .null) }
                    }
                    guard stripUsage || rewrites else { continue }
                    // The usage Deja asked for on the client's behalf ends in a chunk of its own
                    // (no choices), which the client did not ask for.
                    if stripUsage && value?["choices"]?.arrayValue?.isEmpty == true && value?["usage"]?.isNull == false { continue }
                    if let events {
                        for e in events {
                            try await writer.write(ServerSentEvents.event(e.client, name: api == .responses ? e.client["type"]?.stringValue : nil))
                        }
                    } else {
                        try await writer.write(ServerSentEvents.data(payload))
                    }
                }
            }
            if let screen, failure == nil { guards?.record(screen.found, .answer, metrics: metrics, context: context) }
            recordUpstream(provider, since: started, context: context)
            if api == .responses { done = assembler.ended }
            if !done && failure == nil {
                metrics.upstreamError(provider: provider.name, kind: "stream")
                failure = .upstream(.badGateway, "The upstream provider '\(provider.name)' ended the stream before it was complete",
                                    code: "upstream_stream_cut")
            }
            let answer = assembler.completion()
            meterAnswer(answer, provider: provider, upstreamModel: upstreamModel, estimatedPrompt: store.estimatedPromptTokens,
                        lease: store.lease, context)
            if let failure {
                try await writer.write(ServerSentEvents.error(failure))
            } else if let answer, api.isCompleteAnswer(answer) {
                storeAnswer(answer, store)
            }
            try await writer.finish(nil)
        })
    }
}

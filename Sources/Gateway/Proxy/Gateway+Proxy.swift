import DejaSupport
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import NIOFoundationEssentialsCompat
import SemanticCache
import Logging
import NIOHTTP1
import Embedding

extension Gateway {
    /// `POST /v1/chat/completions`, `POST /v1/completions` and `POST /v1/responses`: look up, or
    /// forward and store.
    func proxy(_ api: ProxyAPI, _ request: Request, _ context: GatewayContext) async throws -> Response {
        var request = request
        let body = try await readJSON(&request)
        try Self.validate(api, body)
        let model = body["model"]!.stringValue!
        context.facts.set(model: model)
        let (route, upstreamModel, provider) = try destination(of: model)
        let controls = try RequestControls(request.headers)
        let stream = body["stream"]?.boolValue == true
        let includeUsage = body["stream_options"]?["include_usage"]?.boolValue == true
        let authorization = request.headers[.authorization]
        let tenant = tenant(provider, authorization: authorization)
        let cacheRequest = api.cacheRequest(body, tenant: tenant, partition: controls.namespace)
        context.facts.set(prompt: cacheRequest.prompt)
        let choices = body["n"]?.intValue ?? 1
        let cacheable = route.cache && !controls.noStore
            && (choices <= 1 || configuration.server.cacheMultipleChoices)
            && (api != .completions || body["prompt"]?.stringValue != nil)
            && !(api == .responses && Self.hasProviderSideEffects(body))

        var vector: [Float]?
        var flight: MissFlights.Ticket?
        if cacheable && !controls.noCache {
            do {
                let options = LookupOptions(threshold: controls.threshold, maxAge: controls.maxAge)
                let result = try await cache.lookup(cacheRequest, options: options)
                lookupFailures.succeeded(logger)
                switch result {
                case .hit(let hit):
                    return replay(hit, api: api, stream: stream, includeUsage: includeUsage, context: context)
                case .miss(let miss):
                    if configuration.server.coalesceMisses {
                        flight = flights.lead(miss.exactKey)
                        if flight == nil, !stream,
                           let hit = try await followed(
                               miss.exactKey, cacheRequest, wait: provider.configuration.timeout, maxAge: controls.maxAge)
                        {
                            let reply = replay(hit, api: api, stream: false, includeUsage: false, context: context)
                            context.facts.set(note: "waited for an identical request in flight")
                            return reply
                        }
                    }
                    vector = miss.vector
                    metrics.observe(miss)
                    context.facts.set(cache: "miss", similarity: miss.bestSimilarity, note: miss.rejection?.description)
                }
            } catch {
                // Fail open: the cache is an optimisation; the answer comes from the upstream.
                metrics.lookup("error")
                // Each request's log line says so; the warning is once a minute while it lasts.
                context.facts.set(cache: "error", note: "cache lookup failed: \(error)")
                lookupFailures.failed(error, logger)
            }
        } else {
            metrics.lookup("bypass")
            context.facts.set(cache: "bypass")
            if cacheable { cache.recordMiss(cacheRequest) }
        }

        let started = ContinuousClock.now
        let response = try await upstream.send(
            provider, path: api.path, body: Self.renamed(body, to: upstreamModel), clientHeaders: request.headers,
            requestID: context.requestID)
        guard response.status == .ok else {
            throw await upstream.error(for: response, provider: provider)
        }
        let store = StoreAfterwards(
            cacheable: cacheable, request: cacheRequest, model: model, ttl: controls.ttl, vector: vector,
            estimatedPromptTokens: Self.estimatedPromptTokens(body), requestID: context.requestID, flight: flight)
        let cacheHeader = cacheable ? (controls.noCache ? "bypass" : "miss") : "bypass"
        if stream {
            return streamed(response, api: api, provider: provider, store: store, cacheHeader: cacheHeader,
                            started: started, context: context)
        }
        let bytes: ByteBuffer
        do {
            bytes = try await response.body.collect(upTo: 64 << 20)
        } catch {
            throw upstream.failure(error, provider: provider, midAnswer: true)
        }
        recordUpstream(provider, since: started, context: context)
        guard let answer = try? JSONValue.parse(Data(buffer: bytes)),
              api == .responses ? answer["object"]?.stringValue == "response" : answer["choices"]?.arrayValue != nil
        else {
            metrics.upstreamError(provider: provider.name, kind: "invalid")
            throw OpenAIError.upstream(
                .badGateway, "The upstream provider '\(provider.name)' answered with something that is not a \(api.object)",
                code: "upstream_invalid_response")
        }
        if Self.isCompleteAnswer(answer, api: api) {
            storeAnswer(answer, store)
        }
        var headers: HTTPFields = [.contentType: "application/json", .xDejaCache: cacheHeader]
        headers.append(contentsOf: ForwardedHeaders.incoming(from: response.headers))
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: bytes))
    }

    /// A Responses API request whose call does more at the provider than answer: a background
    /// response is collected later by its id (there is no answer to store now), and a request in
    /// a `conversation` appends its turn to that conversation, which a hit would silently skip.
    static func hasProviderSideEffects(_ body: JSONValue) -> Bool {
        body["background"]?.boolValue == true || (body["conversation"].map { !$0.isNull } ?? false)
    }

    /// What a miss needs to store its answer once it has one.
    struct StoreAfterwards: Sendable {
        var cacheable: Bool
        var request: CacheRequest
        var model: String
        var ttl: Double?
        var vector: [Float]?
        /// For answers that come without usage (a stream the client did not ask usage for).
        var estimatedPromptTokens: Int
        /// The request's id, for the warning when storing fails.
        var requestID: String
        /// Held by a request that leads identical ones; landed once the answer is stored (or
        /// when the ticket is dropped, on every other way out).
        var flight: MissFlights.Ticket?
    }

    /// A request identical to one in flight: waits for that one to land (at most the provider's
    /// timeout), then looks its exact key up again. The hit it finds is counted in place of the
    /// miss; `nil` (the leader failed, or its answer was not cacheable) sends it upstream itself.
    func followed(_ key: Digest128, _ request: CacheRequest, wait seconds: Double, maxAge: Double?) async throws -> CacheHit? {
        await flights.wait(for: key, upTo: .milliseconds(Int64(seconds * 1000)))
        let options = LookupOptions(semantic: false, record: false, maxAge: maxAge)
        guard let hit = try await cache.lookup(request, options: options).hit else {
            return nil
        }
        cache.recordHitAfterMiss(hit)
        metrics.coalesced()
        return hit
    }

    /// A rough token count of a request's text, for answers that do not report usage.
    static func estimatedPromptTokens(_ body: JSONValue) -> Int {
        if let prompt = body["prompt"]?.stringValue ?? body["input"]?.stringValue { return OpenAIWire.estimatedTokens(prompt) }
        let texts = (body["messages"]?.arrayValue ?? body["input"]?.arrayValue ?? []).compactMap { m -> String? in
            m["content"]?.stringValue ?? m["content"]?.arrayValue?.compactMap { $0["text"]?.stringValue }.joined(separator: " ")
        }
        return OpenAIWire.estimatedTokens(texts.joined(separator: " "))
    }

    /// Stores `answer` in the background, after the response went out. An answer without usage
    /// (a stream the client did not ask usage for) gets an estimate (words × 4/3), so that a
    /// replay can report usage and the statistics can count tokens saved.
    func storeAnswer(_ answer: JSONValue, _ store: StoreAfterwards) {
        guard store.cacheable else { return }
        var answer = answer
        if OpenAIWire.tokens(answer) == nil, case .object(var fields) = answer {
            let prompt = Int64(store.estimatedPromptTokens)
            let completion = Int64(OpenAIWire.estimatedTokens(OpenAIWire.firstText(answer) ?? ""))
            let responses = fields["object"]?.stringValue == "response"
            fields["usage"] = [
                responses ? "input_tokens" : "prompt_tokens": .int(prompt),
                responses ? "output_tokens" : "completion_tokens": .int(completion), "total_tokens": .int(prompt + completion),
            ]
            answer = .object(fields)
        }
        let (promptTokens, completionTokens) = OpenAIWire.tokens(answer) ?? (0, 0)
        let data = answer.canonicalData
        background.run { [cache, logger, metrics, storeFailures] in
            do {
                try await cache.insert(
                    store.request, response: data, model: store.model, promptTokens: promptTokens,
                    completionTokens: completionTokens, ttl: store.ttl, vector: store.vector)
                storeFailures.succeeded(logger)
            } catch CacheError.invalidEntry(let reason) {
                // This answer's own problem (larger than the whole cache).
                logger.warning(
                    "could not cache an answer", metadata: ["request_id": .string(store.requestID), "error": .string(reason)])
            } catch {
                // A store or an embedder that is down fails every miss the same way until it
                // recovers: warned once a minute.
                if case CacheError.storeFailed = error { metrics.storeFailure(during: "store_answer") }
                storeFailures.failed(error, logger)
            }
            store.flight?.land()
        }
    }

    /// A complete, successful answer: the right object, and every choice finished normally
    /// (`stop`, `length` with something said, `tool_calls` or `function_call`; never
    /// `content_filter` or none); for the Responses API, `status: completed`, or `incomplete`
    /// by `max_output_tokens` with something said (never `failed`, a content filter or still
    /// running).
    static func isCompleteAnswer(_ answer: JSONValue, api: ProxyAPI) -> Bool {
        if api == .responses {
            guard answer["object"]?.stringValue == "response" else { return false }
            switch answer["status"]?.stringValue {
            case "completed":
                return true
            case "incomplete":
                // Cut by max_output_tokens, like chat's `length`: kept when it said something.
                let said = !(OpenAIWire.firstText(answer) ?? "").isEmpty
                    || answer["output"]?.arrayValue?.contains { $0["type"]?.stringValue == "function_call" } == true
                return answer["incomplete_details"]?["reason"]?.stringValue == "max_output_tokens" && said
            default:
                return false
            }
        }
        guard answer["object"]?.stringValue == api.object, let choices = answer["choices"]?.arrayValue, !choices.isEmpty else {
            return false
        }
        let finished: Set<String> = ["stop", "length", "tool_calls", "function_call"]
        return choices.allSatisfy { choice in
            guard let reason = choice["finish_reason"]?.stringValue, finished.contains(reason) else { return false }
            // A call that ended the answer must be in it: without it a replay would be an answer
            // that asks for nothing and says nothing.
            if reason == "tool_calls" { return choice["message"]?["tool_calls"]?.arrayValue?.isEmpty == false }
            if reason == "function_call" { return choice["message"]?["function_call"]?["name"]?.stringValue?.isEmpty == false }
            // Cut off by the token limit before it said anything (a reasoning model that spent
            // the limit thinking): not an answer to serve again, where a retry might get one.
            if reason == "length" {
                let message = choice["message"]
                let text = message?["content"]?.stringValue ?? choice["text"]?.stringValue ?? ""
                return !text.isEmpty || message?["tool_calls"]?.arrayValue?.isEmpty == false
            }
            return true
        }
    }

    func recordUpstream(_ provider: UpstreamProvider, since started: ContinuousClock.Instant, context: GatewayContext) {
        let elapsed = ContinuousClock.now - started
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        metrics.upstream(provider: provider.name, nanoseconds: nanoseconds)
        context.facts.set(upstreamMilliseconds: Double(nanoseconds) / 1e6)
    }

    /// A cached answer, as JSON or replayed as a stream.
    func replay(_ hit: CacheHit, api: ProxyAPI, stream: Bool, includeUsage: Bool, context: GatewayContext) -> Response {
        let kind = hit.kind == .exact ? "hit" : "semantic-hit"
        metrics.observe(hit)
        context.facts.set(cache: kind, similarity: hit.similarity)
        var headers: HTTPFields = [.xDejaCache: kind, .xDejaEntry: String(hit.key), .age: String(Int(max(0, hit.age)))]
        if hit.kind == .semantic { headers[.xDejaSimilarity] = RequestLogMiddleware.fixed(Double(hit.similarity), places: 4) }
        guard stream else {
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(data: hit.response)))
        }
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let memoKey = ReplayMemo.Key(entry: hit.key, api: api, includeUsage: api == .chat && includeUsage)
        if let kept = replays.get(memoKey) {
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: kept))
        }
        let stored = (try? JSONValue.parse(hit.response)) ?? [:]
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
        replays.put(memoKey, buffer)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: buffer))
    }

    /// A streamed miss: every upstream chunk goes to the client as it arrives, while the stream
    /// is assembled into a complete answer that is stored only if it ended properly (`[DONE]`;
    /// for the Responses API, its final `response.completed` or `response.incomplete` event). If
    /// the upstream breaks off, the client gets an SSE error event and nothing is stored.
    func streamed(
        _ response: HTTPClientResponse, api: ProxyAPI, provider: UpstreamProvider, store: StoreAfterwards,
        cacheHeader: String, started: ContinuousClock.Instant, context: GatewayContext
    ) -> Response {
        var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache", .xDejaCache: cacheHeader]
        headers.append(contentsOf: ForwardedHeaders.incoming(from: response.headers))
        return Response(status: .ok, headers: headers, body: .init { writer in
            var parser = ServerSentEvents.Parser()
            var assembler = StreamAssembler(api: api.assembler)
            var done = false
            var failure: OpenAIError?
            var chunks = response.body.makeAsyncIterator()
            while true {
                let next: ByteBuffer?
                do {
                    next = try await chunks.next()
                } catch {
                    failure = self.upstream.failure(error, provider: provider, midAnswer: true)
                    break
                }
                guard let chunk = next else { break }
                try await writer.write(chunk)
                for payload in parser.feed(chunk.readableBytesView) {
                    if payload == "[DONE]" {
                        done = true
                    } else if let value = try? JSONValue.parse(payload) {
                        assembler.add(value)
                    } else {
                        assembler.add(.null)
                    }
                }
            }
            self.recordUpstream(provider, since: started, context: context)
            if api == .responses { done = assembler.ended }
            if !done && failure == nil {
                self.metrics.upstreamError(provider: provider.name, kind: "stream")
                failure = .upstream(.badGateway, "The upstream provider '\(provider.name)' ended the stream before it was complete",
                                    code: "upstream_stream_cut")
            }
            if let failure {
                try await writer.write(ServerSentEvents.error(failure))
            } else if let answer = assembler.completion(), Self.isCompleteAnswer(answer, api: api) {
                self.storeAnswer(answer, store)
            }
            try await writer.finish(nil)
        })
    }

    /// The request body as a JSON object: 415 unless it is JSON, 413 above `max_body_bytes`,
    /// 400 when it does not parse or is not an object.
    func readJSON(_ request: inout Request) async throws -> JSONValue {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/json") else {
            throw OpenAIError(
                status: .unsupportedMediaType,
                message: "Content-Type must be application/json, got '\(type.isEmpty ? "none" : type)'",
                type: "invalid_request_error", code: "unsupported_media_type")
        }
        let limit = configuration.server.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw Self.tooLarge(limit)
        }
        let bytes: ByteBuffer
        do {
            bytes = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw Self.tooLarge(limit)
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

    /// The checks that give a clear 400 before anything is forwarded.
    static func validate(_ api: ProxyAPI, _ body: JSONValue) throws(OpenAIError) {
        guard let model = body["model"] else { throw .invalidRequest("You must provide a model parameter", param: "model") }
        guard let name = model.stringValue, !name.isEmpty else {
            let got = model.stringValue == nil ? model.typeName : "an empty string"
            throw .invalidRequest("'model' must be a non-empty string, got \(got)", param: "model")
        }
        if let stream = body["stream"], stream.boolValue == nil, !stream.isNull {
            throw .invalidRequest("'stream' must be true or false, got \(stream.typeName)", param: "stream")
        }
        if let n = body["n"], !n.isNull, (n.intValue ?? 0) < 1 {
            throw .invalidRequest("'n' must be a whole number of at least 1", param: "n")
        }
        switch api {
        case .chat:
            guard let messages = body["messages"] else {
                throw .invalidRequest("Missing required parameter: 'messages'", param: "messages")
            }
            guard let list = messages.arrayValue else {
                throw .invalidRequest("'messages' must be an array, got \(messages.typeName)", param: "messages")
            }
            guard !list.isEmpty else { throw .invalidRequest("'messages' must not be empty", param: "messages") }
            let roles: Set<String> = ["system", "developer", "user", "assistant", "tool", "function"]
            for (i, message) in list.enumerated() {
                guard case .object = message else {
                    throw .invalidRequest("'messages[\(i)]' must be an object, got \(message.typeName)", param: "messages[\(i)]")
                }
                guard let role = message["role"]?.stringValue, roles.contains(role) else {
                    throw .invalidRequest("'messages[\(i)].role' must be one of \(roles.sorted().joined(separator: ", "))",
                                          param: "messages[\(i)].role")
                }
            }
        case .responses:
            if let input = body["input"], input.stringValue == nil, input.arrayValue == nil {
                throw .invalidRequest("'input' must be a string or an array, got \(input.typeName)", param: "input")
            }
        case .completions:
            guard let prompt = body["prompt"] else { throw .invalidRequest("Missing required parameter: 'prompt'", param: "prompt") }
            guard prompt.stringValue != nil || prompt.arrayValue != nil else {
                throw .invalidRequest("'prompt' must be a string or an array, got \(prompt.typeName)", param: "prompt")
            }
        }
    }
}

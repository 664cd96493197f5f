import AsyncHTTPClient
import DejaSupport
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOFoundationCompat
import SemanticCache

extension ProxyRoutes {
    /// A cached API's request as the proxy works with it: read, checked and routed once.
    struct Completion: Sendable {
        var api: ProxyAPI
        var body: JSONValue
        /// The model the client asked for (entries are stored under it).
        var model: String
        var destination: ModelRouting.Destination
        var controls: RequestControls
        var stream: Bool
        var includeUsage: Bool
        var cacheRequest: CacheRequest
        /// `live`, or `shadow` (look up, but forward): the route's own mode, else `cache.mode`.
        var mode: CacheMode
        /// Whether the answer may be stored: the route caches, the client allows it, and the
        /// request is one whose answer can be served again.
        var cacheable: Bool
        var clientHeaders: HTTPFields
        /// What DLP redacted from the prompt (put back into the answer when reversible).
        var redactions: Redactions
        /// `x-deja-guard` for the answer: the injection guard flagged the prompt.
        var guardHeader: String?
        /// The prompt's tokens as estimated from its words (budgets, quotas, usage of answers
        /// that report none), counted once.
        var estimatedPromptTokens: Int
        var provider: UpstreamProvider { destination.provider }
    }

    /// What the cache had to say about a request.
    enum CacheOutcome {
        /// Answered from the cache (or by an identical request in flight).
        case served(Response)
        /// Not answered: forward, and store the answer with what the lookup worked out (compared
        /// first with a cached one, for a verification or in shadow mode).
        case forward(prepared: PreparedRequest, flight: MissFlights.Ticket?, check: AnswerCheck?)
        /// The cache was skipped or failed: forward; store (when cacheable) from scratch.
        case bypassed
    }

    /// `POST /v1/chat/completions`, `POST /v1/completions` and `POST /v1/responses`: look up,
    /// or forward and store.
    func complete(_ api: ProxyAPI, _ request: Request, _ context: GatewayContext) async throws -> Response {
        var request = request
        let completion = try await read(api, &request, context)
        var response = try await respond(completion, request, context)
        if let header = completion.guardHeader { response.headers[.xDejaGuard] = header }
        return response
    }

    /// The answer to a request read and checked: from the cache, or from the provider.
    func respond(_ completion: Completion, _ request: Request, _ context: GatewayContext) async throws -> Response {
        let api = completion.api
        let outcome = try await consultCache(completion, context)
        if case .served(let response) = outcome { return response }
        try await admitTokens(completion.body, promptTokens: completion.estimatedPromptTokens, context)
        var forwarded = completion.body
        let stripUsage = injectsStreamUsage(completion)
        if stripUsage, case .object(var fields) = forwarded {
            var options = fields["stream_options"]?.objectValue ?? [:]
            options["include_usage"] = true
            fields["stream_options"] = .object(options)
            forwarded = .object(fields)
        }
        let started = ContinuousClock.now
        let routed = try await sendRouted(completion, body: forwarded, headers: request.headers, started: started, context: context)
        // From here on, the deployment that answered is the request's destination.
        var answering = completion
        answering.destination = routed.destination
        var store = storeAfterwards(answering, outcome, context)
        store.attempts = routed.attempts
        store.lease = routed.lease
        if routed.fallback && !completion.destination.route.cacheFallbackAnswers { store.request = nil }
        var response: Response
        if completion.stream {
            response = streamed(
                routed.response, api: api, provider: answering.provider, store: store, started: started, stripUsage: stripUsage,
                upstreamModel: answering.destination.upstreamModel,
                screen: AnswerScreen(dataGuard: guards?.dlp, model: completion.model, prompt: completion.redactions),
                includeUsage: completion.includeUsage, context: context)
        } else {
            response = try await answered(routed.response, answering, store: store, started: started, context: context)
        }
        response.headers[.xDejaUpstream] = routed.label
        return response
    }

    /// The request read, checked, routed and turned into a cache request.
    /// - Throws: 400 for a malformed body or control header, 404 for a model no route takes.
    func read(_ api: ProxyAPI, _ request: inout Request, _ context: GatewayContext) async throws -> Completion {
        var body = try await body(&request)
        try api.validate(body)
        try configuration.guards.limits.check(body)
        let model = body["model"]!.stringValue!
        context.facts.set(model: model)
        let destination = try routing.destination(of: model)
        try authorize(model: model, context)
        context.facts.meter { $0.priceModel = destination.upstreamModel }
        let controls = try RequestControls(request.headers)
        let tenant = context.facts.grant?.cacheTenant
            ?? destination.provider.tenant(authorization: request.headers[.authorization])
        var redactions = Redactions(reversible: false)
        if let guards { (body, redactions) = try guards.screenPrompt(body, model: model, metrics: metrics, context: context) }
        var cacheRequest = api.cacheRequest(body, tenant: tenant, partition: controls.namespace)
        if let guards, !guards.sharesRedacted, let digest = redactions.digest, case .object(var fields) = cacheRequest.context {
            // Prompts that differ only in a redacted value stay apart (`guards.dlp.share_redacted`).
            fields["redacted"] = .string(digest)
            cacheRequest.context = .object(fields)
        }
        context.facts.set(prompt: cacheRequest.prompt)
        let guardHeader = try guards?.checkInjection(
            prompt: cacheRequest.prompt, body: body, model: model, metrics: metrics, context: context)
        if let feedback = controls.feedback { applyFeedback(feedback, tenant: tenant, context: context) }
        let choices = body["n"]?.intValue ?? 1
        let cacheable = destination.route.cache && !controls.noStore
            && (choices <= 1 || configuration.server.cacheMultipleChoices)
            && (api != .completions || body["prompt"]?.stringValue != nil)
            && !(api == .responses && ProxyAPI.hasProviderSideEffects(body))
        return Completion(
            api: api, body: body, model: model, destination: destination, controls: controls,
            stream: body["stream"]?.boolValue == true,
            includeUsage: body["stream_options"]?["include_usage"]?.boolValue == true,
            cacheRequest: cacheRequest, mode: destination.route.mode ?? configuration.cache.mode, cacheable: cacheable,
            clientHeaders: request.headers, redactions: redactions, guardHeader: guardHeader,
            estimatedPromptTokens: ProxyAPI.estimatedPromptTokens(body))
    }

    /// Looks the request up: a hit is replayed; an identical request in flight is waited for;
    /// a miss goes on to the provider. If the cache fails (an embedder down), the request is
    /// answered from the provider anyway: the cache is an optimisation.
    func consultCache(_ completion: Completion, _ context: GatewayContext) async throws -> CacheOutcome {
        guard completion.cacheable && !completion.controls.noCache else {
            metrics.lookup("bypass")
            context.facts.set(cache: "bypass")
            if completion.cacheable { cache.recordMiss(completion.cacheRequest) }
            return .bypassed
        }
        do {
            let prepared = cache.prepare(completion.cacheRequest)
            let options = LookupOptions(
                threshold: completion.controls.threshold, maxAge: completion.controls.maxAge, verification: completion.mode == .live)
            let result = try await cache.lookup(prepared, options: options)
            lookupFailures.succeeded(logger)
            if completion.mode == .shadow {
                return try await shadowed(result, prepared: prepared, completion, context)
            }
            switch result {
            case .hit(let hit) where hit.verify:
                // Chosen for verification: forwarded, and the fresh answer judges the entry.
                metrics.lookup("verify")
                context.facts.set(cache: "verify", similarity: hit.similarity, note: "a would-be hit, verified against the provider")
                return .forward(prepared: prepared, flight: nil, check: .verify(
                    entry: hit.key, similarity: hit.similarity, probability: hit.probability, cached: hit.response,
                    asked: asked(prepared, hit)))
            case .hit(let hit):
                recentHits.record(context.requestID, RecentHits.Hit(
                    entry: hit.key, similarity: hit.similarity, probability: hit.probability, namespace: hit.namespace.id,
                    tenant: completion.cacheRequest.tenant, asked: hit.kind == .semantic ? asked(prepared, hit) : nil))
                return .served(replay(hit, api: completion.api, stream: completion.stream, includeUsage: completion.includeUsage,
                                      restoring: completion.redactions, context: context))
            case .miss(let miss):
                var flight: MissFlights.Ticket?
                if configuration.server.coalesceMisses {
                    flight = flights.lead(miss.exactKey)
                    if flight == nil, !completion.stream,
                       let hit = try await followed(miss.request, wait: completion.provider.configuration.timeout,
                                                    maxAge: completion.controls.maxAge)
                    {
                        let reply = replay(hit, api: completion.api, stream: false, includeUsage: false,
                                           restoring: completion.redactions, context: context)
                        context.facts.set(note: "waited for an identical request in flight")
                        return .served(reply)
                    }
                }
                metrics.observe(miss)
                context.facts.set(cache: "miss", similarity: miss.bestSimilarity, note: miss.rejection?.description)
                return .forward(prepared: miss.request, flight: flight, check: nil)
            }
        } catch {
            metrics.lookup("error")
            // Each request's log line says so; the warning is once a minute while it lasts.
            context.facts.set(cache: "error", note: "cache lookup failed: \(error)")
            lookupFailures.failed(error, logger)
            return .bypassed
        }
    }

    /// Shadow mode: every request goes on to the provider; what the cache would have served (the
    /// hit, else the best candidate) is kept for the comparison once the answer is in.
    func shadowed(
        _ result: LookupResult, prepared: PreparedRequest, _ completion: Completion, _ context: GatewayContext
    ) async throws -> CacheOutcome {
        let threshold = cache.threshold(completion.cacheRequest, in: prepared.namespace, options: LookupOptions())
        var record = ShadowLog.Record(
            kind: "none", model: completion.model, similarity: nil, probability: nil, threshold: threshold, agree: nil,
            answerSimilarity: nil, at: Date().timeIntervalSince1970)
        var cached: Data?
        var request = prepared
        switch result {
        case .hit(let hit):
            (record.kind, record.similarity, record.probability) = (hit.kind == .exact ? "exact" : "semantic", hit.similarity, hit.probability)
            cached = hit.response
            metrics.lookup(hit.kind == .exact ? "hit" : "semantic_hit")
        case .miss(let miss):
            request = miss.request
            metrics.observe(miss)
            if let key = miss.bestKey {
                (record.kind, record.similarity, record.probability) = ("candidate", miss.bestSimilarity, miss.bestProbability)
                cached = try await cache.entry(key: key)?.response
            }
        }
        context.facts.set(cache: "shadow", similarity: record.similarity, note: "shadow mode: would have been \(record.kind)")
        return .forward(prepared: request, flight: nil, check: .shadow(record, cached: cached))
    }

    /// A request identical to one in flight: waits for that one to land (at most the provider's
    /// timeout), then looks its exact key up again. The hit it finds is counted in place of the
    /// miss; `nil` (the leader failed, or its answer was not cacheable) sends it upstream itself.
    func followed(_ prepared: PreparedRequest, wait seconds: Double, maxAge: Double?) async throws -> CacheHit? {
        await flights.wait(for: prepared.exactKey, upTo: .milliseconds(Int64(seconds * 1000)))
        let options = LookupOptions(semantic: false, record: false, maxAge: maxAge)
        guard let hit = try await cache.lookup(prepared, options: options).hit else {
            return nil
        }
        cache.recordHitAfterMiss(hit)
        metrics.coalesced()
        return hit
    }

    /// What storing the answer of this request needs, once there is one.
    func storeAfterwards(_ completion: Completion, _ outcome: CacheOutcome, _ context: GatewayContext) -> StoreAfterwards {
        var prepared: PreparedRequest?
        var flight: MissFlights.Ticket?
        var check: AnswerCheck?
        if case .forward(let p, let f, let c) = outcome { (prepared, flight, check) = (p, f, c) }
        var header = completion.cacheable ? (completion.controls.noCache ? "bypass" : "miss") : "bypass"
        switch check {
        case .verify?: header = "verify"
        case .shadow?: header = "shadow"
        case nil: break
        }
        return StoreAfterwards(
            request: completion.cacheable ? prepared ?? cache.prepare(completion.cacheRequest) : nil,
            model: completion.model, ttl: completion.controls.ttl,
            estimatedPromptTokens: completion.estimatedPromptTokens, requestID: context.requestID,
            flight: flight, cacheHeader: header, check: check)
    }

    /// A plain (not streamed) answer: read whole, checked to be an answer of its API, stored if
    /// complete, and passed to the client as the provider sent it.
    func answered(
        _ response: HTTPClientResponse, _ completion: Completion, store: StoreAfterwards, started: ContinuousClock.Instant,
        context: GatewayContext
    ) async throws -> Response {
        let provider = completion.provider
        let bytes: ByteBuffer
        do {
            bytes = try await response.body.collect(upTo: 64 << 20)
        } catch {
            throw upstream.failure(error, provider: provider, midAnswer: true)
        }
        recordUpstream(provider, since: started, context: context)
        var parsed = try? JSONValue.parse(Data(buffer: bytes))
        var sent = bytes
        if provider.configuration.kind == .anthropic {
            parsed = parsed.flatMap(AnthropicWire.chatCompletion(fromMessage:))
            if let parsed { sent = ByteBuffer(data: parsed.canonicalData) }
        }
        meterAnswer(parsed, provider: provider, upstreamModel: completion.destination.upstreamModel,
                    estimatedPrompt: store.estimatedPromptTokens, lease: store.lease, context)
        guard let answer = parsed, completion.api.isAnswer(answer) else {
            metrics.upstreamError(provider: provider.name, kind: "invalid")
            throw OpenAIError.upstream(
                .badGateway, "The upstream provider '\(provider.name)' answered with something that is not a \(completion.api.object)",
                code: "upstream_invalid_response")
        }
        var stored = answer
        if var screen = AnswerScreen(dataGuard: guards?.dlp, model: completion.model, prompt: completion.redactions) {
            do {
                let (screened, client) = try screen.whole(answer)
                stored = screened ?? answer
                if let client = client ?? screened { sent = ByteBuffer(data: client.canonicalData) }
            } catch {
                guards?.record(screen.found, .answer, metrics: metrics, context: context)
                throw error
            }
            guards?.record(screen.found, .answer, metrics: metrics, context: context)
        }
        if completion.api.isCompleteAnswer(stored) {
            storeAnswer(stored, store)
        }
        var headers: HTTPFields = [.contentType: "application/json", .xDejaCache: store.cacheHeader, .xDejaAttempts: String(store.attempts)]
        headers.append(contentsOf: ForwardedHeaders.incoming(from: response.headers))
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: sent))
    }
}

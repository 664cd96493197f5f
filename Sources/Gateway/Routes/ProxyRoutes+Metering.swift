import DejaSupport
import SemanticCache

extension ProxyRoutes {
    /// - Throws: 403 `model_not_allowed` when the request's key may not use `model`.
    func authorize(model: String, _ context: GatewayContext) throws(OpenAIError) {
        guard let governance, let grant = context.facts.grant else { return }
        do {
            try governance.authorize(grant, model: model)
        } catch {
            metrics.governanceRefusal("model")
            throw error
        }
    }

    /// Admits a request going to the provider against its key's token allowances and budgets,
    /// for its prompt (estimated, unless the caller has `promptTokens` already) plus the
    /// completion it may ask for.
    /// - Throws: 429 when an allowance or a budget is spent.
    func admitTokens(
        _ body: JSONValue, promptTokens: Int? = nil, completes: Bool = true, _ context: GatewayContext
    ) async throws(OpenAIError) {
        guard let governance, let grant = context.facts.grant else { return }
        let prompt = promptTokens ?? ProxyAPI.estimatedPromptTokens(body)
        let estimate = prompt + (completes ? governance.completionAllowance(body) : 0)
        do {
            try await governance.admitTokens(grant, estimate: estimate)
        } catch {
            metrics.governanceRefusal(error.headers["x-deja-refusal"] ?? "tokens")
            throw error
        }
        context.facts.meter { $0.reserved = estimate }
    }

    /// Records the tokens of a provider's answer for the ledger, the settlement and the
    /// deployment's token quota (`lease`): its `usage`, or, when it has none, an estimate from
    /// its text.
    func meterAnswer(
        _ answer: JSONValue?, provider: UpstreamProvider, upstreamModel: String, estimatedPrompt: Int,
        lease: Deployment.Lease? = nil, _ context: GatewayContext
    ) {
        let usage = answer?["usage"]
        var prompt = 0, completion = 0
        if let answer, let tokens = OpenAIWire.tokens(answer) {
            (prompt, completion) = tokens
        } else if let answer {
            (prompt, completion) = (estimatedPrompt, OpenAIWire.estimatedTokens(OpenAIWire.firstText(answer) ?? ""))
        }
        if answer != nil { lease?.settle(tokens: prompt + completion) }
        let cached = usage?["prompt_tokens_details"]?["cached_tokens"]?.intValue
            ?? usage?["input_tokens_details"]?["cached_tokens"]?.intValue ?? 0
        context.facts.meter { m in
            m.provider = provider.name
            m.upstreamModel = upstreamModel
            m.promptTokens = prompt
            m.completionTokens = completion
            m.cachedTokens = Int(cached)
        }
    }

    /// A hit's would-be tokens, which the ledger prices as saved.
    func meterHit(_ hit: CacheHit, _ context: GatewayContext) {
        guard governance != nil else { return }
        context.facts.meter { m in
            m.savedPromptTokens = hit.promptTokens
            m.savedCompletionTokens = hit.completionTokens
        }
    }

    /// Whether to ask the provider for a streamed answer's usage (`stream_options.include_usage`)
    /// that the client did not ask for, to settle the request's tokens from the provider's count
    /// instead of an estimate; the usage chunk is then kept from the client.
    func injectsStreamUsage(_ completion: Completion) -> Bool {
        governance != nil && completion.stream && !completion.includeUsage && completion.api == .chat
    }
}

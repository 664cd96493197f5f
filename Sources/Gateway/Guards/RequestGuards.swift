import DejaSupport

/// The guards of `guards:` as the proxy applies them: DLP and deny-lists on the prompt (before
/// it is embedded, looked up or forwarded) and on the answer, and the injection guard on the
/// text the user controls.
final class RequestGuards: Sendable {
    let dlp: DataGuard?
    let injection: InjectionScorer?
    let injectionSettings: InjectionConfiguration
    let verdicts = InjectionVerdictMemo()
    /// `guards.injection.models` in name order, sorted once.
    let injectionOverrides: [(key: String, value: InjectionConfiguration.Override)]

    /// - Throws: when the injection guard is on and its patterns file cannot be read.
    init(_ configuration: GuardsConfiguration) throws(ConfigurationError) {
        dlp = DataGuard.make(configuration)
        injectionSettings = configuration.injection
        injectionOverrides = configuration.injection.models.sorted { $0.key < $1.key }
        if configuration.injection.isOn {
            do {
                injection = InjectionScorer(try InjectionPatterns.load(configuration.injection.patterns))
            } catch {
                throw ConfigurationError(["\(error)"])
            }
        } else {
            injection = nil
        }
    }

    /// `nil` when no guard is on, so that the proxy skips them all with one check.
    static func make(_ configuration: GuardsConfiguration) throws(ConfigurationError) -> RequestGuards? {
        let guards = try RequestGuards(configuration)
        return guards.dlp == nil && guards.injection == nil ? nil : guards
    }

    /// The prompt screened: values redacted, a blocked one refused.
    /// - Returns: the body to look up and forward (`body` itself when nothing changed) and what was found.
    func screenPrompt(_ body: JSONValue, model: String, metrics: GatewayMetrics, context: GatewayContext) throws(OpenAIError)
        -> (JSONValue, Redactions)
    {
        guard let dlp, dlp.screens(.prompt) else { return (body, Redactions(reversible: false)) }
        var redactions = Redactions(reversible: dlp.configuration.reversible)
        do {
            let screened = try dlp.screen(body, .prompt, model: model, &redactions)
            record(redactions, .prompt, metrics: metrics, context: context)
            return (screened ?? body, redactions)
        } catch {
            record(redactions, .prompt, metrics: metrics, context: context)
            throw error
        }
    }

    /// Whether prompts that differ only in redacted values share answers.
    var sharesRedacted: Bool { dlp?.configuration.shareRedacted ?? true }

    /// Scores the prompt (and tool results, when configured) for injection.
    /// - Returns: the `x-deja-guard` header of a flagged request.
    /// - Throws: 400 `prompt_injection` when the model's action is `block` and the score reaches its threshold.
    func checkInjection(prompt: String?, body: JSONValue, model: String, metrics: GatewayMetrics, context: GatewayContext)
        throws(OpenAIError) -> String?
    {
        guard let injection else { return nil }
        let (action, threshold) = InjectionConfiguration.settings(
            for: model, overrides: injectionOverrides, action: injectionSettings.action, threshold: injectionSettings.threshold)
        guard action != .off else { return nil }
        var texts = prompt.map { [$0] } ?? []
        if injectionSettings.toolResults { texts += Self.toolResults(body) }
        var best = InjectionScorer.Verdict(score: 0, reasons: [])
        for text in texts {
            let verdict = verdicts.verdict(text, injection)
            if verdict.score > best.score { best = verdict }
        }
        guard best.score >= threshold else {
            metrics.injection("pass")
            return nil
        }
        let score = best.score.fixed(2)
        context.facts.set(guardMark: "injection=\(score):\(best.reasons.joined(separator: "+"))")
        metrics.injection(action == .block ? "block" : "flag")
        if action == .block {
            throw OpenAIError.invalidRequest(
                "The request looks like a prompt injection (score \(score), at or above \(threshold): \(best.reasons.joined(separator: ", "))); "
                    + "this gateway refuses it (guards.injection)", param: "messages", code: "prompt_injection")
        }
        return "injection;score=\(score)"
    }

    /// Text of tool results: `role: tool` messages and `function_call_output` items.
    static func toolResults(_ body: JSONValue) -> [String] {
        var out: [String] = []
        for message in body["messages"]?.arrayValue ?? [] where message["role"]?.stringValue == "tool" {
            out.append(InputLimits.text(of: message["content"]))
        }
        for item in body["input"]?.arrayValue ?? [] where item["type"]?.stringValue == "function_call_output" {
            if let output = item["output"]?.stringValue { out.append(output) }
        }
        return out
    }

    /// Counts what DLP found and marks it in the request's log line.
    func record(_ found: Redactions, _ direction: GuardDirection, metrics: GatewayMetrics, context: GatewayContext) {
        guard !found.isEmpty else { return }
        for (key, count) in found.counts {
            metrics.detection(detector: key.detector, direction: direction.rawValue, action: key.action, count: count)
        }
        context.facts.set(guardMark: "dlp_\(direction.rawValue)=\(found.summary)")
    }
}

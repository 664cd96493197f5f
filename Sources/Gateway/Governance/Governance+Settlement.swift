import Foundation
import SemanticCache

extension Governance {
    /// The end of a metered request (its last byte written, or its failure): gives back its
    /// slot, settles its tokens against the allowances and its cost against the budgets, and
    /// appends its ledger row.
    func settle(
        _ m: RequestFacts.Metering, facts: RequestFacts.Snapshot, requestID: String, route: String, status: Int,
        latencyMs: Double, firstTokenMs: Double?
    ) -> UsageRecord {
        let now = clock.now()
        let priceModel = m.priceModel ?? facts.model
        let cost = prices.cost(model: m.upstreamModel ?? priceModel, prompt: m.promptTokens, cached: m.cachedTokens, completion: m.completionTokens)
        let saved = prices.cost(model: priceModel, prompt: m.savedPromptTokens, cached: 0, completion: m.savedCompletionTokens)
        if let grant = m.grant {
            if m.holdsSlot { quotas.release(grant) }
            if m.reserved > 0 || cost > 0 {
                quotas.settle(grant, reserved: m.reserved, used: m.promptTokens + m.completionTokens, cost: cost, now: now)
            }
        }
        var row = UsageRecord(
            at: now.timeIntervalSince1970, requestID: requestID, keyID: m.grant?.key.id, tenant: m.grant?.tenant.id ?? "",
            route: route, status: status, latencyMs: latencyMs)
        row.model = facts.model
        row.upstreamModel = m.upstreamModel
        row.provider = m.provider
        row.firstTokenMs = firstTokenMs
        row.promptTokens = m.promptTokens
        row.cachedTokens = m.cachedTokens
        row.completionTokens = m.completionTokens
        row.cost = cost
        row.savedPromptTokens = m.savedPromptTokens
        row.savedCompletionTokens = m.savedCompletionTokens
        row.savedCost = saved
        row.cache = facts.cache
        row.similarity = facts.similarity
        ledger.append(row)
        return row
    }
}

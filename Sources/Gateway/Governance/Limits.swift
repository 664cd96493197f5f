import Foundation
import SemanticCache

/// What a key or a tenant may do. Every field is optional: absent means no limit. A key is held
/// to its own limits and to its tenant's (a tenant's rates and budget are shared by all its
/// keys).
public struct Limits: Codable, Sendable, Equatable {
    /// Model names (globs, `gpt-4o*`) the holder may ask for; absent: any model.
    public var models: [String]?
    /// Requests per minute (a cache hit counts).
    public var rpm: Int?
    /// Provider tokens per minute (prompt plus completion; a cache hit spends none).
    public var tpm: Int?
    /// Requests in flight at once.
    public var maxConcurrent: Int?
    /// US dollars of provider cost per `budget_period`.
    public var budgetUSD: Double?
    /// `day` or `month` (UTC); `month` when absent.
    public var budgetPeriod: BudgetPeriod?

    public init(
        models: [String]? = nil, rpm: Int? = nil, tpm: Int? = nil, maxConcurrent: Int? = nil, budgetUSD: Double? = nil,
        budgetPeriod: BudgetPeriod? = nil
    ) {
        self.models = models
        self.rpm = rpm
        self.tpm = tpm
        self.maxConcurrent = maxConcurrent
        self.budgetUSD = budgetUSD
        self.budgetPeriod = budgetPeriod
    }

    enum CodingKeys: String, CodingKey {
        case models, rpm, tpm, maxConcurrent = "max_concurrent", budgetUSD = "budget_usd", budgetPeriod = "budget_period"
    }

    /// Whether `model` is one the holder may ask for.
    public func allows(model: String) -> Bool {
        guard let models else { return true }
        return models.contains { Glob.matches($0, model) }
    }

    var period: BudgetPeriod { budgetPeriod ?? .month }

    /// Each problem as `field: message`.
    var problems: [String] {
        var out: [String] = []
        if let rpm, rpm < 1 { out.append("rpm: must be at least 1, got \(rpm)") }
        if let tpm, tpm < 1 { out.append("tpm: must be at least 1, got \(tpm)") }
        if let c = maxConcurrent, c < 1 { out.append("max_concurrent: must be at least 1, got \(c)") }
        if let b = budgetUSD, !(b >= 0) { out.append("budget_usd: must be 0 or more, got \(b)") }
        if let models, models.contains(where: \.isEmpty) { out.append("models: a model pattern must not be empty") }
        return out
    }

    /// `self` with the fields `patch` sets.
    func merged(_ patch: Limits) -> Limits {
        Limits(
            models: patch.models ?? models, rpm: patch.rpm ?? rpm, tpm: patch.tpm ?? tpm,
            maxConcurrent: patch.maxConcurrent ?? maxConcurrent, budgetUSD: patch.budgetUSD ?? budgetUSD,
            budgetPeriod: patch.budgetPeriod ?? budgetPeriod)
    }
}

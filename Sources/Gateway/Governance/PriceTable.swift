import DejaSupport
import Foundation
import Logging
import Yams

/// Prices by model: the shipped table, then `governance.prices_file`, then `governance.prices`,
/// each over the one before. A dated model name (`gpt-4o-mini-2024-07-18`,
/// `claude-sonnet-4-20250514`) takes the price of the longest listed name it starts with; an
/// unknown model costs 0, with a warning once per model.
final class PriceTable: Sendable {
    let prices: [String: ModelPrice]
    /// Names resolved by prefix (or to no price), so that each is worked out once, not on every
    /// request; bounded like the warnings.
    private let resolved = Mutex([String: ModelPrice?]())
    private let logger: Logger

    init(_ prices: [String: ModelPrice], logger: Logger) {
        self.prices = prices
        self.logger = logger
    }

    /// - Throws: ``GovernanceError/invalid(_:)`` when the prices file cannot be read.
    convenience init(configuration: GovernanceConfiguration, logger: Logger) throws(GovernanceError) {
        var prices = DefaultPrices.table
        if !configuration.pricesFile.isEmpty {
            let text: String
            do {
                text = try TextFile.read(configuration.pricesFile)
            } catch {
                throw .invalid("governance.prices_file: \(error)")
            }
            do {
                for (model, price) in try YAMLDecoder().decode([String: ModelPrice].self, from: text) { prices[model] = price }
            } catch {
                throw .invalid("governance.prices_file: \(configuration.pricesFile) is not a map of model: {input, cached_input, output}: \(error)")
            }
        }
        for (model, price) in configuration.prices { prices[model] = price }
        self.init(prices, logger: logger)
    }

    /// The price of `model`; `nil` (and a warning the first time) when none is known.
    func price(of model: String) -> ModelPrice? {
        if let price = prices[model] { return price }
        if let known = resolved.withLock({ $0[model] }) { return known }
        var best: (String, ModelPrice)?
        for (name, price) in prices where model.hasPrefix(name + "-") && name.count > (best?.0.count ?? 0) {
            best = (name, price)
        }
        let first = resolved.withLock { r -> Bool in
            guard r.count < 1_000, r[model] == nil else { return false }
            r[model] = .some(best?.1)
            return true
        }
        if best == nil && first {
            logger.warning("no price is known for the model '\(model)': its requests cost 0; add it to governance.prices")
        }
        return best?.1
    }

    func cost(model: String?, prompt: Int, cached: Int, completion: Int) -> Double {
        guard let model, prompt + completion > 0, let price = price(of: model) else { return 0 }
        return price.cost(prompt: prompt, cached: cached, completion: completion)
    }
}

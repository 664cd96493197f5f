import DejaSupport

/// Providers' model lists, kept a minute: front ends ask for the list on every page load, and
/// it changes when a provider ships a model, not from one request to the next. Kept per
/// provider and tenant (a client's own key may see other models), by the tenant's digest, never
/// the key.
final class ProviderModelLists: Sendable {
    static let lifetime: Duration = .seconds(60)
    private let lists = Mutex<[String: (fetched: ContinuousClock.Instant, models: [JSONValue])]>([:])

    func get(_ key: String) -> [JSONValue]? {
        lists.withLock { lists in
            guard let kept = lists[key], ContinuousClock.now - kept.fetched < Self.lifetime else { return nil }
            return kept.models
        }
    }

    /// Lists kept at most: one per tenant would otherwise grow with every key ever seen.
    static let most = 1024

    func put(_ key: String, _ models: [JSONValue]) {
        lists.withLock { lists in
            if lists.count >= Self.most, lists[key] == nil {
                let now = ContinuousClock.now
                lists = lists.filter { now - $0.value.fetched < Self.lifetime }
                // All still fresh: a burst of new tenants; they are asked again within the minute.
                if lists.count >= Self.most { lists.removeAll(keepingCapacity: true) }
            }
            lists[key] = (.now, models)
        }
    }

    var count: Int { lists.withLock { $0.count } }
}

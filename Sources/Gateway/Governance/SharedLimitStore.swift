/// A governance store several instances share: besides keys, tenants and the ledger, it holds
/// each key's and tenant's per-minute buckets, from which every instance takes leases
/// (``QuotaLeases``), so that a limit holds across instances rather than per instance.
public protocol SharedLimitStore: GovernanceStore {
    /// Gives back what each lease has left and takes a new one, in one transaction: the shared
    /// bucket is refilled for the time since it was last touched (`capacity / 60` per second, at
    /// most `capacity`), the rest returned, and as much of `wanted` as it holds taken out.
    /// - Returns: one grant per lease, in order.
    func exchange(_ leases: [BucketLease], now: Double) async throws -> [BucketGrant]
    /// Waits until another instance may have changed keys or tenants (a notification), or
    /// `timeout` seconds; may return early without a change.
    func waitForKeyChanges(timeout: Double) async
}

/// What one instance gives back to, and asks of, one shared bucket.
public struct BucketLease: Sendable, Equatable {
    public enum Kind: Int16, Sendable {
        case requests = 1
        case tokens = 2
    }

    /// `k:<key id>` or `t:<tenant id>`.
    public var holder: String
    public var kind: Kind
    /// The per-minute limit.
    public var capacity: Int
    /// The unused rest of the last lease; negative when more was spent than it held (an answer
    /// longer than its estimate).
    public var returned: Double
    public var wanted: Double

    public init(holder: String, kind: Kind, capacity: Int, returned: Double, wanted: Double) {
        self.holder = holder
        self.kind = kind
        self.capacity = capacity
        self.returned = returned
        self.wanted = wanted
    }
}

/// What a shared bucket gave, and what it holds after.
public struct BucketGrant: Sendable, Equatable {
    public var granted: Double
    public var left: Double

    public init(granted: Double, left: Double) {
        self.granted = granted
        self.left = left
    }
}

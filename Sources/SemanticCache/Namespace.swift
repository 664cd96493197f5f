import Crypto
import Embedding
public import Foundation

/// A partition of the cache: a hit is only possible between requests of the same namespace.
public struct Namespace: Hashable, Sendable, CustomStringConvertible {
    /// The digest of everything that must agree (see ``CacheRequest``).
    public let id: Digest128
    /// A readable name, `tenant/model` or `tenant/model/partition` (`shared/...` for a shared
    /// namespace), for thresholds, statistics and logs. Not unique: two system prompts give two
    /// namespaces with one label.
    public let label: String

    public init(id: Digest128, label: String) {
        self.id = id
        self.label = label
    }

    /// The vector index's partition tag: 32 bits of the id. Two namespaces may share a tag; the
    /// cache checks the full id of every candidate, so a shared tag costs recall, never isolation.
    public var tag: UInt32 { UInt32(truncatingIfNeeded: id.high >> 32) }

    public var description: String { "\(label)#\(id.description.prefix(8))" }
}

public import Foundation
public import VectorIndex

public enum LookupResult: Sendable {
    case hit(CacheHit)
    case miss(CacheMiss)

    public var hit: CacheHit? {
        if case .hit(let h) = self { return h }
        return nil
    }

    public var miss: CacheMiss? {
        if case .miss(let m) = self { return m }
        return nil
    }

    /// The namespace the request fell in.
    public var namespace: Namespace {
        switch self {
        case .hit(let h): h.namespace
        case .miss(let m): m.namespace
        }
    }
}

/// `cache.mode` (and `models.NAME.mode`): whether the cache answers, or only watches.
public enum CacheMode: String, Codable, Sendable, CaseIterable {
    /// Hits are served.
    case live
    /// Lookups run and are counted, answers are stored, but every request is forwarded; each
    /// would-be hit's cached answer is compared with the provider's and the verdict written to
    /// `cache.shadow_log`, so that `deja tune --shadow` can say what each threshold would have
    /// served on the traffic before any of it is served from the cache.
    case shadow
}

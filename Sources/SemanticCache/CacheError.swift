public import Embedding
public import VectorIndex

/// Everything that can go wrong in the cache engine, with a message that says what to do.
public enum CacheError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The configuration has problems, one `path: message` per problem.
    case invalidConfiguration([String])
    /// The store could not be opened or is not a Deja cache; the string names the file and why.
    case store(String)
    /// A read or write of an open store failed (a full disk, a lock held too long, an I/O error):
    /// `operation` says what was being done, `reason` is the database's own message, and
    /// `location` names the store. Kept apart so that the gateway can tell a client the reason
    /// without the file's path.
    case storeFailed(operation: String, location: String, reason: String)
    /// The store's vectors come from another embedder than the configured one.
    case embedderMismatch(store: String, stored: String, configured: String)
    /// The store holds no cache (a new, empty or replaced file) but the index snapshot beside it
    /// holds `entries`: the store was most likely truncated or lost.
    case storeLost(store: String, snapshot: String, entries: Int)
    /// The embedder failed (a gateway answers from the LLM without the cache).
    case embedding(EmbeddingError)
    /// The vector index refused an operation.
    case index(IndexError)
    /// An entry cannot be stored as given.
    case invalidEntry(String)
    /// The labelled pairs for `deja tune` cannot be read; the string names the file (and line).
    case labelledPairs(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let problems):
            return problems.joined(separator: "\n")
        case .store(let message):
            return "cache store: \(message)"
        case .storeFailed(let operation, let location, let reason):
            return "cache store: \(operation) in \(location) failed: \(reason)"
        case .embedderMismatch(let store, let stored, let configured):
            return "the cache in \(store) was built with embedder \(stored), but the configuration uses "
                + "\(configured); vectors of different embedders cannot be compared. Set "
                + "cache.rebuild_on_embedder_change: true to re-embed every entry, or use another store file"
        case .storeLost(let store, let snapshot, let entries):
            return "the cache store \(store) is empty or new, but the index snapshot \(snapshot) holds \(entries) "
                + "entries: the store was probably truncated or replaced. Restore it from a backup, or delete "
                + "\(snapshot) to start an empty cache"
        case .embedding(let error):
            return error.description
        case .index(let error):
            return "vector index: \(error)"
        case .invalidEntry(let message):
            return "cannot cache this entry: \(message)"
        case .labelledPairs(let message):
            return message
        }
    }
}

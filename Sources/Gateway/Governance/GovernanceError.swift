/// A failure of the governance store or of an administrative request, with what to do.
public enum GovernanceError: Error, CustomStringConvertible, Equatable {
    /// The store cannot be opened or written.
    case store(String)
    /// An administrative request that cannot be carried out (an unknown key, a bad field).
    case invalid(String)
    case notFound(String)

    public var description: String {
        switch self {
        case .store(let message), .invalid(let message), .notFound(let message): message
        }
    }
}

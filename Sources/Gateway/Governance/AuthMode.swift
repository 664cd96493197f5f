/// Who may call the proxied routes (`server.auth`).
public enum AuthMode: String, Codable, Sendable, Equatable {
    /// Anyone who reaches the port (a warning at start when that is more than this machine).
    case none
    /// Only holders of a Deja key (`deja keys create`), sent as `Authorization: Bearer dj-...`
    /// or `x-api-key`.
    case keys
}

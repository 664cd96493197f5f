import HTTPTypes
import Hummingbird

/// Refuses requests addressed to a name the gateway does not answer to, against DNS rebinding.
///
/// A web page cannot read answers from `http://127.0.0.1:8080` (another origin), but it can make
/// its own name resolve to 127.0.0.1 after the page has loaded; its scripts then reach Deja as
/// their own origin, with `Host: attacker.example`, and could spend the provider key Deja holds
/// and read the answers (Ollama had this bug, CVE-2024-28224). Browsers always send the name they
/// resolved, so a gateway that listens on a loopback address answers only loopback names
/// (`localhost`, `*.localhost`, `127.x.x.x`, `[::1]`) and the names in `server.allowed_hosts`.
/// Listening on another address (`0.0.0.0` in a container), any name is answered unless
/// `server.allowed_hosts` lists them. A request without `Host` (HTTP/1.0 tools) is answered.
///
/// Not a middleware of its own: ``RequestLogMiddleware`` runs it first thing, so that a refusal
/// is logged as any other answer and no request pays for one more layer of middleware (each
/// layer cost about six task switches a request under NIO's executor, counted with a uprobe).
struct HostCheck: Sendable {
    /// `nil`: every name is answered.
    let allowed: Set<String>?
    let listening: String

    init(configuration: ServerConfiguration) {
        listening = configuration.host
        let listed = Set(configuration.allowedHosts.map { $0.lowercased() })
        if listed.contains("*") || (listed.isEmpty && !Self.isLoopback(configuration.host)) {
            allowed = nil
        } else {
            allowed = listed
        }
    }

    /// Throws the refusal of a request addressed to a name Deja does not answer to.
    func check(_ request: Request) throws(OpenAIError) {
        guard let allowed, let authority = request.head.authority else { return }
        let name = Self.hostName(authority)
        guard Self.isLoopback(name) || allowed.contains(name) else {
            throw OpenAIError(
                status: .forbidden,
                message: "Requests addressed to '\(name)' are refused: Deja listens on \(listening) and answers only "
                    + "localhost names; add '\(name)' to server.allowed_hosts if you reach it by that name",
                type: "invalid_request_error", code: "host_not_allowed")
        }
    }

    /// The name of a `Host` value, without its port, in lower case: `[::1]:8080` → `::1`.
    static func hostName(_ authority: String) -> String {
        var name = Substring(authority.lowercased())
        if name.hasPrefix("[") {
            name = name.dropFirst().prefix { $0 != "]" }
        } else if let colon = name.firstIndex(of: ":"), colon == name.lastIndex(of: ":"),
                  name[name.index(after: colon)...].allSatisfy(\.isNumber) {
            // One colon: a name and its port (an address of IPv6 has several and comes in brackets).
            name = name[..<colon]
        }
        if name.hasSuffix(".") { name = name.dropLast() }
        return String(name)
    }

    /// `localhost`, a name under `.localhost` (RFC 6761), an address of 127.0.0.0/8, or `::1`.
    static func isLoopback(_ name: String) -> Bool {
        let name = hostName(name)
        if name == "localhost" || name.hasSuffix(".localhost") || name == "::1" { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}

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
        if Self.isLoopback(authority) { return }
        let name = Self.hostName(authority)
        guard allowed.contains(name) else {
            throw OpenAIError(
                status: .forbidden,
                message: "Requests addressed to '\(name)' are refused: Deja listens on \(listening) and answers only "
                    + "localhost names; add '\(name)' to server.allowed_hosts if you reach it by that name",
                type: "invalid_request_error", code: "host_not_allowed")
        }
    }

    /// The name of a `Host` value, without its port, in lower case: `[::1]:8080` → `::1`.
    static func hostName(_ authority: String) -> String {
        var authority = authority
        return authority.withUTF8 { String(decoding: nameBytes($0), as: UTF8.self).lowercased() }
    }

    /// `localhost`, a name under `.localhost` (RFC 6761), an address of 127.0.0.0/8, or `::1`;
    /// `name` may carry a port. Read from the UTF-8 bytes without building a string: every
    /// request asks, and the version over `Character`s was 2 % of a cache hit's CPU.
    static func isLoopback(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { isLoopback(name: nameBytes($0)) }
    }

    /// The name in the bytes of a `Host` value: without brackets, port and final dot.
    static func nameBytes(_ bytes: UnsafeBufferPointer<UInt8>) -> Slice<UnsafeBufferPointer<UInt8>> {
        var name = bytes[...]
        if name.first == UInt8(ascii: "[") {
            name = name.dropFirst().prefix { $0 != UInt8(ascii: "]") }
        } else if let colon = name.firstIndex(of: UInt8(ascii: ":")), colon == name.lastIndex(of: UInt8(ascii: ":")),
                  name[(colon + 1)...].allSatisfy(isDigit) {
            // One colon: a name and its port (an address of IPv6 has several and comes in brackets).
            name = name[..<colon]
        }
        if name.last == UInt8(ascii: ".") { name = name.dropLast() }
        return name
    }

    static func isLoopback(name: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        let localhost = "localhost".utf8
        if name.count == localhost.count && equalIgnoringCase(name, localhost) { return true }
        if name.count > localhost.count && name[name.endIndex - localhost.count - 1] == UInt8(ascii: ".")
            && equalIgnoringCase(name.suffix(localhost.count), localhost) {
            return true
        }
        if name.elementsEqual("::1".utf8) { return true }
        // 127.x.x.x: four parts of decimal digits, each at most 255, the first "127".
        var part = 0
        var value = 0
        var digits = 0
        for byte in name {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, value <= 255, part > 0 || (value == 127 && digits == 3) else { return false }
                part += 1
                value = 0
                digits = 0
            } else if isDigit(byte) {
                value = min(value * 10 + Int(byte - UInt8(ascii: "0")), 256)
                digits += 1
            } else {
                return false
            }
        }
        return part == 3 && digits > 0 && value <= 255
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// Whether `bytes` spell `lowercase` (ASCII) in any case.
    private static func equalIgnoringCase(_ bytes: some Collection<UInt8>, _ lowercase: String.UTF8View) -> Bool {
        bytes.elementsEqual(lowercase) { byte, expected in
            (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte) == expected
        }
    }
}

import DejaSupport
import Foundation

/// The dashboard's logins: a random session token in an HttpOnly cookie, mapped here to its
/// CSRF token and expiry. In memory: a restart logs everyone out, which costs a person one
/// more typing of the admin key and keeps the key's stand-in off the disk.
public final class DashboardSessions: Sendable {
    struct Session: Sendable {
        let csrf: String
        let expires: Double
    }

    static let cookieName = "deja_session"
    /// How long a login lasts.
    let lifetime: Double
    private let sessions = Mutex<[String: Session]>([:])

    public init(lifetime: Double = 12 * 3600) {
        self.lifetime = lifetime
    }

    /// A new session: its cookie token and its CSRF token.
    func create(now: Double = Date().timeIntervalSince1970) -> (token: String, csrf: String) {
        let token = Self.randomHex(), csrf = Self.randomHex()
        sessions.withLock { s in
            s = s.filter { $0.value.expires > now }
            s[token] = Session(csrf: csrf, expires: now + lifetime)
        }
        return (token, csrf)
    }

    /// The live session of `token`, if any.
    func session(_ token: String, now: Double = Date().timeIntervalSince1970) -> Session? {
        sessions.withLock { s in
            guard let session = s[token] else { return nil }
            guard session.expires > now else {
                s[token] = nil
                return nil
            }
            return session
        }
    }

    func end(_ token: String) {
        _ = sessions.withLock { $0.removeValue(forKey: token) }
    }

    /// The session token in a `Cookie` header, if any.
    static func token(cookieHeader: String?) -> String? {
        guard let cookieHeader else { return nil }
        for part in cookieHeader.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.hasPrefix(cookieName + "=") { return String(pair.dropFirst(cookieName.count + 1)) }
        }
        return nil
    }

    /// 256 random bits as hex.
    static func randomHex() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    /// Whether two strings are equal, in time that depends on their lengths only.
    static func same(_ a: String, _ b: String) -> Bool {
        same(Array(a.utf8), Array(b.utf8))
    }

    /// Whether two byte strings are equal, in time that depends on their lengths only.
    static func same(_ x: [UInt8], _ y: [UInt8]) -> Bool {
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for (p, q) in zip(x, y) { difference |= p ^ q }
        return difference == 0
    }
}

import Crypto
import Foundation

/// Making and checking Deja keys: `dj-` and 43 base62 characters (256 random bits), stored only
/// as their SHA-256.
public enum KeySecret {
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// A new secret, from the system's random source.
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var out = Array("dj-".utf8)
        // 43 characters of 62 carry 256 bits; rejection keeps every character uniform.
        while out.count < 46 {
            let byte = UInt8.random(in: 0...255, using: &generator)
            if byte < 248 { out.append(alphabet[Int(byte % 62)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A new key id: `key_` and 16 hex digits.
    public static func makeID() -> String {
        "key_" + hex(UInt64.random(in: 0...UInt64.max))
    }

    /// The digest the store knows a secret by, in hex.
    public static func hexDigest(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { hex8($0) }.joined()
    }

    static func hex(_ value: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<16 { out[i] = digits[Int((value >> (60 - 4 * UInt64(i))) & 15)] }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex8(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
    }

    /// The key a request presents: `Authorization: Bearer <key>` (OpenAI's clients) or
    /// `x-api-key` (Anthropic's).
    static func presented(authorization: String?, apiKey: String?) -> Substring? {
        if let authorization, authorization.utf8.starts(with: "Bearer ".utf8) {
            var key = authorization.utf8.dropFirst(7)
            while key.first == 0x20 { key = key.dropFirst() }
            while key.last == 0x20 { key = key.dropLast() }
            if !key.isEmpty { return Substring(key) }
        }
        if let apiKey, !apiKey.isEmpty { return Substring(apiKey) }
        return nil
    }
}

import Crypto
import Embedding
public import Foundation

/// A 128-bit digest (the first half of a SHA-256): the identity of a namespace or of an exact
/// request. SHA-256 rather than a fast hash, because a collision would serve one request's
/// answer to another.
public struct Digest128: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init(hashing bytes: some DataProtocol) {
        let digest = Array(SHA256.hash(data: bytes))
        var h: UInt64 = 0
        var l: UInt64 = 0
        for i in 0..<8 { h = h << 8 | UInt64(digest[i]) }
        for i in 8..<16 { l = l << 8 | UInt64(digest[i]) }
        self.init(high: h, low: l)
    }

    /// 32 lower-case hex digits.
    public var description: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        appendHex(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``description``'s bytes to `bytes` (the exact key is hashed on every request).
    func appendHex(to bytes: inout [UInt8]) {
        for shift in stride(from: 124, through: 0, by: -4) {
            let nibble = UInt8(truncatingIfNeeded: (shift >= 64 ? high >> (shift - 64) : low >> shift) & 0xF)
            bytes.append(nibble < 10 ? 0x30 + nibble : 0x57 + nibble)
        }
    }

    /// Parses 32 hex digits.
    public init?(hex: String) {
        guard hex.count == 32, let h = UInt64(hex.prefix(16), radix: 16), let l = UInt64(hex.suffix(16), radix: 16) else {
            return nil
        }
        self.init(high: h, low: l)
    }

    public static func < (a: Digest128, b: Digest128) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }
}

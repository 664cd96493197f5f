import Crypto
import Foundation

/// The keys and tenants in memory: checking a key is one SHA-256 and one hash lookup. Rebuilt
/// whole from the store on every change, and swapped in.
struct KeyDirectory: Sendable {
    /// Every key not revoked, by the digest of its secret. Revoked keys stay out, so that a
    /// revoked key is refused exactly like an unknown one would be, without a store round trip.
    var grants: [KeyDigest: Grant] = [:]
    /// Digests of revoked keys, for a clearer refusal.
    var revoked: [KeyDigest: String] = [:]

    init() {}

    init(keys: [VirtualKey], tenants: [Tenant]) {
        let tenants = Dictionary(tenants.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for key in keys {
            guard let digest = Self.digest(hex: key.digest) else { continue }
            if key.revokedAt != nil {
                revoked[digest] = key.id
                continue
            }
            // A key whose tenant was deleted behaves as a key of an unlimited tenant of that name
            // would not: it is refused (a deleted tenant takes its keys with it).
            guard let tenant = tenants[key.tenant] else { continue }
            grants[digest] = Grant(key: key, tenant: tenant)
        }
    }

    static func digest(hex: String) -> KeyDigest? {
        let bytes = Array(hex.utf8)
        guard bytes.count == 64 else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for i in 0..<64 {
            guard let n = nibble(bytes[i]) else { return nil }
            words[i / 16] = words[i / 16] << 4 | UInt64(n)
        }
        return KeyDigest(words[0], words[1], words[2], words[3])
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }
}

/// A SHA-256 as four words: a dictionary key that hashes and compares without allocating.
struct KeyDigest: Hashable, Sendable {
    let a: UInt64, b: UInt64, c: UInt64, d: UInt64

    init(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) {
        (self.a, self.b, self.c, self.d) = (a, b, c, d)
    }

    /// The digest of a presented secret, hashed from its bytes where they lie.
    init(secret: Substring) {
        var hasher = SHA256()
        var secret = secret
        secret.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        self = hasher.finalize().withUnsafeBytes { raw in
            func word(_ i: Int) -> UInt64 { UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)) }
            return KeyDigest(word(0), word(1), word(2), word(3))
        }
    }
}

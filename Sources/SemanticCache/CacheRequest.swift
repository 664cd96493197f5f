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

/// A partition of the cache: a hit is only possible between requests of the same namespace.
public struct Namespace: Hashable, Sendable, CustomStringConvertible {
    /// The digest of everything that must agree (see ``CacheRequest``).
    public let id: Digest128
    /// A readable name, `tenant/model` or `tenant/model/partition` (`shared/...` for a shared
    /// namespace), for thresholds, statistics and logs. Not unique: two system prompts give two
    /// namespaces with one label.
    public let label: String

    public init(id: Digest128, label: String) {
        self.id = id
        self.label = label
    }

    /// The vector index's partition tag: 32 bits of the id. Two namespaces may share a tag; the
    /// cache checks the full id of every candidate, so a shared tag costs recall, never isolation.
    public var tag: UInt32 { UInt32(truncatingIfNeeded: id.high >> 32) }

    public var description: String { "\(label)#\(id.description.prefix(8))" }
}

/// What the cache needs to know of a request.
///
/// The namespace is the SHA-256 of the canonical JSON of
/// `{"tenant": …, "model": …, "partition": …, "context": …}`: the tenant (omitted when the
/// namespace is shared by configuration), the model the client asked for, the client-chosen
/// partition (the gateway's `x-deja-namespace` header), and the ``context``: everything else in
/// the request that shapes the answer. Only ``prompt``, the last user message, is embedded and
/// compared by similarity.
public struct CacheRequest: Sendable {
    /// The tenant (an API key's owner); empty for a single-tenant deployment.
    public var tenant: String
    public var model: String
    /// An extra partition chosen by the client.
    public var partition: String?
    /// Everything that shapes the answer except the last user message: for a chat, the system
    /// prompt, earlier turns and sampling parameters (the gateway documents the exact fields).
    public var context: JSONValue
    /// The last user message, the text that is embedded; `nil` when the request does not end with
    /// one (then only an exact match can hit).
    public var prompt: String?

    public init(tenant: String = "", model: String, partition: String? = nil, context: JSONValue = .null, prompt: String?) {
        self.tenant = tenant
        self.model = model
        self.partition = partition
        self.context = context
        self.prompt = prompt
    }

    /// The namespace; `shared` drops the tenant from it.
    public func namespace(shared: Bool) -> Namespace {
        var fields: [String: JSONValue] = ["model": .string(model), "context": context]
        if let partition { fields["partition"] = .string(partition) }
        if !shared { fields["tenant"] = .string(tenant) }
        let id = Digest128(hashing: JSONValue.object(fields).canonicalData)
        var label = shared ? "shared/\(model)" : "\(tenant.isEmpty ? "-" : tenant)/\(model)"
        if let partition { label += "/\(partition)" }
        return Namespace(id: id, label: label)
    }

    /// The label without the tenant, `model` or `model/partition`: what shared-namespace patterns match.
    public var sharedLabel: String {
        partition.map { "\(model)/\($0)" } ?? model
    }

    /// The exact-match key: the namespace and the prompt after light normalisation (NFKC, lower
    /// case, runs of white space as one space, sentence punctuation at the end dropped).
    /// Punctuation inside is kept: "2+2" and "2-2" must not match exactly.
    public func exactKey(in namespace: Namespace) -> Digest128 {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(33 + (prompt?.utf8.count ?? 0))
        namespace.id.appendHex(to: &bytes)
        bytes.append(0x0A)
        if let prompt { bytes.append(contentsOf: Self.normalizeForExactMatch(prompt).utf8) }
        return Digest128(hashing: bytes)
    }

    public static func normalizeForExactMatch(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return normalizeASCII(text) }
        let folded = text.precomposedStringWithCompatibilityMapping.lowercased()
        var out = ""
        out.reserveCapacity(folded.utf8.count)
        var pendingSpace = false
        for ch in folded {
            if ch.isWhitespace {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(ch)
            }
        }
        while let last = out.last, "?!.。？！ ".contains(last) { out.removeLast() }
        return out
    }

    /// The same for ASCII text, on bytes: it runs on every request.
    static func normalizeASCII(_ text: String) -> String {
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for b in text.utf8 {
            switch b {
            case 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D:
                pendingSpace = !out.isEmpty
            default:
                if pendingSpace { out.append(0x20) }
                pendingSpace = false
                out.append(b >= 0x41 && b <= 0x5A ? b + 0x20 : b)
            }
        }
        while let last = out.last, last == 0x3F || last == 0x21 || last == 0x2E || last == 0x20 { out.removeLast() }
        return String(decoding: out, as: UTF8.self)
    }
}

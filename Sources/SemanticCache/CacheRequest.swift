public import DejaSupport
import Crypto
import Embedding
public import Foundation

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
        let folded = prompt.flatMap { $0.utf8.allSatisfy({ $0 < 0x80 }) ? nil : NormalizedText.fold($0) }
        return Self.exactKey(prompt: prompt, folded: folded, in: namespace)
    }

    /// The exact key of `prompt` in `namespace`, given the prompt's fold when it is not ASCII.
    static func exactKey(prompt: String?, folded: String?, in namespace: Namespace) -> Digest128 {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(33 + (prompt?.utf8.count ?? 0))
        namespace.id.appendHex(to: &bytes)
        bytes.append(0x0A)
        if let prompt { bytes.append(contentsOf: normalizeForExactMatch(prompt, folded: folded).utf8) }
        return Digest128(hashing: bytes)
    }

    public static func normalizeForExactMatch(_ text: String) -> String {
        normalizeForExactMatch(text, folded: nil)
    }

    /// - Parameter folded: `text` folded (``NormalizedText/fold(_:)``) when the caller has it.
    static func normalizeForExactMatch(_ text: String, folded: String?) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return normalizeASCII(text) }
        let folded = folded ?? NormalizedText.fold(text)
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

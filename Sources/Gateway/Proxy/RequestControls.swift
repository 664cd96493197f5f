import Foundation
import HTTPTypes

/// The per-request cache controls a client can send.
///
/// | header | effect |
/// |--------|--------|
/// | `cache-control: no-cache` | skip the lookup, still store the answer |
/// | `cache-control: no-store` | neither look up nor store |
/// | `cache-control: max-age=600` | serve only an answer stored at most 600 s ago (`max-age=0` is `no-cache`) |
/// | `x-deja-threshold: 0.95` | a stricter threshold for this request (never a looser one) |
/// | `x-deja-ttl: 3600` | seconds the stored answer lives |
/// | `x-deja-namespace: team-a` | an extra partition: hits only among requests with the same value |
/// | `x-deja-feedback: req_123=wrong` | the answer served to request `req_123` was wrong (or `right`) |
/// | `x-deja-deadline-ms: 5000` | give up on the provider (retries included) after this long, if sooner than its timeout |
struct RequestControls {
    var noCache = false
    var noStore = false
    var maxAge: Double?
    var threshold: Float?
    var ttl: Double?
    var namespace: String?
    /// A verdict on an earlier request's hit: its request id, and whether the answer was right.
    var feedback: (requestID: String, correct: Bool)?
    /// Seconds the client will wait for the provider, retries included.
    var deadline: Double?

    init(_ headers: HTTPFields) throws(OpenAIError) {
        for value in headers[values: .cacheControl] {
            for token in value.split(separator: ",") {
                let directive = token.trimmingCharacters(in: .whitespaces).lowercased()
                switch directive {
                case "no-cache": noCache = true
                case "no-store": noStore = true
                case _ where directive.hasPrefix("max-age="):
                    // RFC 9111 delta-seconds: digits, optionally quoted.
                    let raw = directive.dropFirst("max-age=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    guard !raw.isEmpty, raw.allSatisfy(\.isASCII), raw.allSatisfy(\.isNumber) else {
                        throw .invalidRequest("cache-control max-age must be a whole number of seconds, got '\(token)'",
                                              param: "cache-control", code: "invalid_header")
                    }
                    let seconds = Double(raw) ?? .infinity  // more digits than a Double holds: no limit
                    maxAge = min(maxAge ?? .infinity, seconds)
                    if seconds == 0 { noCache = true }
                default: break
                }
            }
        }
        if let raw = headers[.xDejaThreshold] {
            guard let t = Float(raw.trimmingCharacters(in: .whitespaces)), (0...1).contains(t) else {
                throw .invalidRequest("x-deja-threshold must be a number between 0 and 1, got '\(raw)'",
                                      param: "x-deja-threshold", code: "invalid_header")
            }
            threshold = t
        }
        if let raw = headers[.xDejaTTL] {
            guard let t = Double(raw.trimmingCharacters(in: .whitespaces)), t >= 0, t <= 10 * 365 * 86_400 else {
                throw .invalidRequest("x-deja-ttl must be a number of seconds (0 for no expiry), got '\(raw)'",
                                      param: "x-deja-ttl", code: "invalid_header")
            }
            ttl = t
        }
        if let raw = headers[.xDejaFeedback] {
            let parts = raw.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, ["right", "wrong"].contains(parts[1].lowercased()) else {
                throw .invalidRequest("x-deja-feedback must be <request id>=right or <request id>=wrong, got '\(raw)'",
                                      param: "x-deja-feedback", code: "invalid_header")
            }
            feedback = (parts[0], parts[1].lowercased() == "right")
        }
        if let raw = headers[Self.deadlineHeader] {
            guard let ms = Double(raw.trimmingCharacters(in: .whitespaces)), ms > 0, ms <= 3_600_000 else {
                throw .invalidRequest("x-deja-deadline-ms must be a number of milliseconds between 1 and 3600000, got '\(raw)'",
                                      param: "x-deja-deadline-ms", code: "invalid_header")
            }
            deadline = ms / 1000
        }
        if let raw = headers[.xDejaNamespace] {
            if let problem = CacheKeys.partitionProblem(raw) {
                throw .invalidRequest("x-deja-namespace \(problem)", param: "x-deja-namespace", code: "invalid_header")
            }
            namespace = raw
        }
    }

    static let deadlineHeader = HTTPField.Name("x-deja-deadline-ms")!
}

import DejaSupport
import Foundation
import HTTPTypes
import SemanticCache
import VectorIndex
import Hummingbird
import Logging
import NIOCore

/// The outermost middleware: gives every request an id, refuses it if it was addressed to a
/// name Deja does not answer to (``HostCheck``), turns every error into an OpenAI-shaped
/// response, writes one log line per request and records the request metrics.
///
/// The log line holds the request id, method, path, model, cache result, similarity, status and
/// latency. A response whose body is a stream (a streamed miss, a forwarded download) is logged
/// and timed when its last byte has been written, with `first_byte_ms` for its head and a note
/// if it broke off (the client left). Prompt text only when `logging.prompts` is on; never a
/// header, so never a key.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = GatewayContext

    let logger: Logger
    let metrics: GatewayMetrics
    let logPrompts: Bool
    /// `logging.format: json`: the line's fields go as metadata, which the JSON handler writes
    /// as an object's fields (numbers as numbers), instead of being written into the message.
    var json = false
    /// Settles metered requests and writes their ledger rows.
    var governance: Governance? = nil
    /// The check of the name the request was addressed to, against DNS rebinding.
    var hostCheck: HostCheck? = nil

    func handle(_ request: Request, context: GatewayContext, next: @concurrent (Request, GatewayContext) async throws -> Response)
        async throws -> Response
    {
        let start = ContinuousClock.now
        var context = context
        context.requestID = Self.requestID(from: request.headers[.xRequestID])
        var response: Response
        do {
            try hostCheck?.check(request)
            response = try await next(request, context)
        } catch {
            let failure = Self.openAIError(error, request: request, logger: logger, metrics: metrics, requestID: context.requestID)
            response = failure.response()
            // Why a request failed on Deja's or the provider's side goes in its log line (the
            // client's own mistakes, 4xx, are theirs to read in the answer).
            if failure.status.code >= 500 { context.facts.set(error: failure.message) }
        }
        response.headers[.xRequestID] = context.requestID
        let route = context.coreContext.endpointPath.value ?? "unmatched"
        let status = response.status.code
        guard response.body.contentLength == nil else {
            finish(request, context, route: route, status: status, since: start, firstByte: nil)
            return response
        }
        // A stream: the handler has returned its head; the body is written after this returns.
        let body = response.body
        let head = ContinuousClock.now
        let finalContext = context
        response.body = ResponseBody { writer in
            do {
                try await body.write(writer)
            } catch {
                finalContext.facts.set(note: "the stream broke off before its end: \(error)")
                finish(request, finalContext, route: route, status: status, since: start, firstByte: head)
                throw error
            }
            finish(request, finalContext, route: route, status: status, since: start, firstByte: head)
        }
        return response
    }

    /// The request's metrics and log line, once its response has been written (or its head, for
    /// a body of known length, which goes out at once).
    private func finish(
        _ request: Request, _ context: GatewayContext, route: String, status: Int, since start: ContinuousClock.Instant,
        firstByte: ContinuousClock.Instant?
    ) {
        let nanoseconds = Self.nanoseconds(ContinuousClock.now - start)
        metrics.request(route: route, status: status, nanoseconds: nanoseconds)
        let metering = context.facts.metering
        let facts = context.facts.snapshot
        if facts.cache != nil || facts.model != nil {
            let now = Date().timeIntervalSince1970, milliseconds = Double(nanoseconds) / 1e6
            if let cache = facts.cache { metrics.traffic.request(cache: cache, status: status, milliseconds: milliseconds, at: now) }
            metrics.traffic.recent.add(.init(
                sequence: 0, requestID: context.requestID, time: now, method: request.method.rawValue, path: request.uri.path,
                model: facts.model, cache: facts.cache, similarity: facts.similarity, status: status, latencyMs: milliseconds,
                key: metering?.grant?.key.id, tenant: metering?.grant?.tenant.id, prompt: logPrompts ? facts.prompt : nil))
        }
        if let governance, let metering {
            let row = governance.settle(
                metering, facts: facts, requestID: context.requestID, route: route, status: status,
                latencyMs: Double(nanoseconds) / 1e6, firstTokenMs: firstByte.map { Double(Self.nanoseconds($0 - start)) / 1e6 })
            metrics.usage(row)
        }
        if json {
            var fields = Self.fields(
                request: request, status: status, nanoseconds: nanoseconds, requestID: context.requestID,
                facts: facts, logPrompts: logPrompts)
            if let firstByte { fields["first_byte_ms"] = .stringConvertible(Self.roundedMilliseconds(Self.nanoseconds(firstByte - start))) }
            if let grant = metering?.grant {
                fields["key"] = .string(grant.key.id)
                fields["tenant"] = .string(grant.tenant.id)
            }
            logger.info("request", metadata: fields)
            return
        }
        var line = Self.line(
            request: request, status: status, nanoseconds: nanoseconds, requestID: context.requestID,
            facts: facts, logPrompts: logPrompts)
        if let grant = metering?.grant { line += " key=\(grant.key.id) tenant=\(grant.tenant.id)" }
        if let firstByte { line += " first_byte_ms=\(Self.milliseconds(Self.nanoseconds(firstByte - start)))" }
        logger.info("\(line)")
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    /// The log line, `key=value` pairs built by hand: at ten thousand requests a second,
    /// swift-log's metadata dictionaries and `String(format:)` cost more than the request.
    static func line(
        request: Request, status: Int, nanoseconds: Int64, requestID: String,
        facts: RequestFacts.Snapshot,
        logPrompts: Bool
    ) -> String {
        var line = "request request_id=\(requestID) method=\(request.method.rawValue) path=\(request.uri.path) status=\(status)"
        line += " latency_ms=\(milliseconds(nanoseconds))"
        if let model = facts.model { line += " model=\(model)" }
        if let cache = facts.cache { line += " cache=\(cache)" }
        if let s = facts.similarity { line += " similarity=\(Double(s).fixed(4))" }
        if let u = facts.upstream { line += " upstream_ms=\(milliseconds(Int64(u * 1e6)))" }
        if let mark = facts.guardMark { line += " guard=\(mark)" }
        if let note = facts.note { line += " note=\(JSONValue.quoted(note))" }
        if let error = facts.error { line += " error=\(JSONValue.quoted(error))" }
        if logPrompts, let prompt = facts.prompt { line += " prompt=\(JSONValue.quoted(prompt))" }
        return line
    }

    /// The log line's fields as metadata, for the JSON format: the same names as the text
    /// line's, numbers as numbers.
    static func fields(
        request: Request, status: Int, nanoseconds: Int64, requestID: String, facts: RequestFacts.Snapshot, logPrompts: Bool
    ) -> Logger.Metadata {
        var fields: Logger.Metadata = [
            "request_id": .string(requestID), "method": .string(request.method.rawValue), "path": .string(request.uri.path),
            "status": .stringConvertible(status), "latency_ms": .stringConvertible(roundedMilliseconds(nanoseconds)),
        ]
        if let model = facts.model { fields["model"] = .string(model) }
        if let cache = facts.cache { fields["cache"] = .string(cache) }
        if let s = facts.similarity { fields["similarity"] = .stringConvertible((Double(s) * 10_000).rounded() / 10_000) }
        if let u = facts.upstream { fields["upstream_ms"] = .stringConvertible((u * 100).rounded() / 100) }
        if let mark = facts.guardMark { fields["guard"] = .string(mark) }
        if let note = facts.note { fields["note"] = .string(note) }
        if let error = facts.error { fields["error"] = .string(error) }
        if logPrompts, let prompt = facts.prompt { fields["prompt"] = .string(prompt) }
        return fields
    }

    /// Nanoseconds as milliseconds rounded to two decimals.
    static func roundedMilliseconds(_ nanoseconds: Int64) -> Double {
        (Double(nanoseconds) / 10_000).rounded() / 100
    }

    /// Nanoseconds as milliseconds with two decimals.
    static func milliseconds(_ nanoseconds: Int64) -> String {
        (Double(nanoseconds) / 1e6).fixed(2)
    }

    /// The client's id when it is short and printable, else a new one: 96 random bits from a
    /// per-process generator (request ids need to be unique, not secret).
    static func requestID(from header: String?) -> String {
        if let header, !header.isEmpty, header.utf8.count <= 128,
           header.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        {
            return header
        }
        let (a, b) = RequestIDs.next()
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 28)
        out[0] = 0x72; out[1] = 0x65; out[2] = 0x71; out[3] = 0x5F  // "req_"
        for i in 0..<16 { out[4 + i] = digits[Int((a >> (60 - 4 * UInt64(i))) & 15)] }
        for i in 0..<8 { out[20 + i] = digits[Int((b >> (28 - 4 * UInt32(i))) & 15)] }
        return String(decoding: out, as: UTF8.self)
    }

    /// The OpenAI-shaped error a thrown `error` becomes.
    static func openAIError(
        _ error: any Error, request: Request, logger: Logger, metrics: GatewayMetrics, requestID: String
    ) -> OpenAIError {
        switch error {
        case let e as OpenAIError:
            return e
        case let e as CacheError:
            if case .invalidEntry = e {} else {
                logger.error("the cache failed a request", metadata: ["request_id": .string(requestID), "error": .string("\(e)")])
            }
            if case .storeFailed = e { metrics.storeFailure(during: "request") }
            return OpenAIError.cache(e, requestID: requestID)
        case let e as HTTPError where e.status == .notFound:
            return OpenAIError.notFound("Unknown route: \(request.method.rawValue) \(request.uri.path)", code: "unknown_route")
        case let e as HTTPError where e.status == .contentTooLarge:
            return OpenAIError(status: .contentTooLarge, message: "Request body too large", type: "invalid_request_error")
        case let e as HTTPError:
            return OpenAIError(status: e.status, message: e.body ?? e.status.reasonPhrase, type: "invalid_request_error")
        case is NIOTooManyBytesError:
            return OpenAIError(status: .contentTooLarge, message: "Request body too large", type: "invalid_request_error")
        default:
            logger.error("unhandled error", metadata: ["request_id": .string(requestID), "error": .string("\(error)")])
            return OpenAIError.server("Internal error (request \(requestID))")
        }
    }
}

extension HTTPField.Name {
    static let xRequestID = HTTPField.Name("x-request-id")!
    static let xDejaCache = HTTPField.Name("x-deja-cache")!
    static let xDejaSimilarity = HTTPField.Name("x-deja-similarity")!
    static let xDejaEntry = HTTPField.Name("x-deja-entry")!
    static let xDejaThreshold = HTTPField.Name("x-deja-threshold")!
    static let xDejaTTL = HTTPField.Name("x-deja-ttl")!
    static let xDejaNamespace = HTTPField.Name("x-deja-namespace")!
    static let xDejaFeedback = HTTPField.Name("x-deja-feedback")!
    static let xDejaProbability = HTTPField.Name("x-deja-probability")!
    static let xDejaAttempts = HTTPField.Name("x-deja-attempts")!
    static let xDejaGuard = HTTPField.Name("x-deja-guard")!
    static let xDejaUpstream = HTTPField.Name("x-deja-upstream")!
}

/// A per-process generator of request ids, seeded from the system's random source once.
enum RequestIDs {
    private static let rng = Mutex(SplitMix64(seed: UInt64.random(in: 0...UInt64.max)))

    static func next() -> (UInt64, UInt32) {
        rng.withLock { rng in (rng.next(), UInt32(truncatingIfNeeded: rng.next())) }
    }
}

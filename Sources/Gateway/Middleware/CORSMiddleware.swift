import Foundation
import HTTPTypes
import Hummingbird

/// Lets web pages served from the origins in `server.cors_origins` call Deja from the browser
/// (the OpenAI JavaScript client with `dangerouslyAllowBrowser`, a chat page served by another
/// port): it answers their preflight requests and marks the answers to them as readable.
///
/// Off unless configured: a browser then lets no other origin read Deja's answers, and
/// refuses to send it JSON bodies at all (they need a preflight). Origins are compared whole
/// (`scheme://host:port`, as browsers send them); `*` allows every origin. Requests are never
/// credentialed (no cookies are involved), so the allowed origin is echoed and no
/// `Access-Control-Allow-Credentials` is sent. The outermost middleware, so that errors, which
/// the request-log middleware turns into responses, carry the headers too and a page can read
/// why its request failed; preflights it answers itself are not logged.
struct CORSMiddleware: RouterMiddleware {
    typealias Context = GatewayContext

    /// Lower-cased origins; `nil`: every origin.
    let origins: Set<String>?

    init(origins: [String]) {
        let listed = Set(origins.map { $0.lowercased() })
        self.origins = listed.contains("*") ? nil : listed
    }

    /// The headers a page may read: Deja's own, and the provider's rate-limit and retry hints
    /// that the official clients read.
    static let exposed = [
        "x-request-id", "x-deja-cache", "x-deja-similarity", "x-deja-entry", "age", "retry-after", "retry-after-ms",
        "x-should-retry", "openai-processing-ms", "x-upstream-request-id", "x-ratelimit-limit-requests",
        "x-ratelimit-limit-tokens", "x-ratelimit-remaining-requests", "x-ratelimit-remaining-tokens",
        "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens",
    ].joined(separator: ", ")

    func handle(_ request: Request, context: GatewayContext, next: @concurrent (Request, GatewayContext) async throws -> Response)
        async throws -> Response
    {
        guard let origin = request.headers[.origin], allows(origin) else { return try await next(request, context) }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            var headers: HTTPFields = [
                .accessControlAllowOrigin: origin, .vary: "Origin",
                .accessControlAllowMethods: "GET, POST, DELETE, OPTIONS", .accessControlMaxAge: "600",
            ]
            // Any header the page asks for (authorization, content-type, the clients' x-stainless-*):
            // the origin is trusted, and the request still needs its keys like any other.
            headers[.accessControlAllowHeaders] = request.headers[.accessControlRequestHeaders] ?? "authorization, content-type"
            return Response(status: .noContent, headers: headers)
        }
        var response = try await next(request, context)
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = Self.exposed
        response.headers[.vary] = "Origin"
        return response
    }

    func allows(_ origin: String) -> Bool {
        guard let origins else { return true }
        return origins.contains(origin.lowercased())
    }

    /// An origin as browsers send it: `scheme://host[:port]`, nothing after the authority.
    static func isOrigin(_ text: String) -> Bool {
        guard let range = text.range(of: "://") else { return false }
        let scheme = text[..<range.lowerBound]
        let authority = text[range.upperBound...]
        return !scheme.isEmpty && scheme.allSatisfy { $0.isLetter || $0.isNumber || "+-.".contains($0) }
            && !authority.isEmpty && !authority.contains(where: { "/?# ".contains($0) })
    }
}

extension HTTPField.Name {
    static let origin = HTTPField.Name("origin")!
    static let vary = HTTPField.Name("vary")!
    static let accessControlRequestMethod = HTTPField.Name("access-control-request-method")!
    static let accessControlRequestHeaders = HTTPField.Name("access-control-request-headers")!
    static let accessControlAllowOrigin = HTTPField.Name("access-control-allow-origin")!
    static let accessControlAllowMethods = HTTPField.Name("access-control-allow-methods")!
    static let accessControlAllowHeaders = HTTPField.Name("access-control-allow-headers")!
    static let accessControlExposeHeaders = HTTPField.Name("access-control-expose-headers")!
    static let accessControlMaxAge = HTTPField.Name("access-control-max-age")!
}

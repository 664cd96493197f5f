import Crypto
import Foundation
import Hummingbird

/// Lets a request through only with `Authorization: Bearer <admin key>`, compared in constant
/// time, or with the dashboard's session cookie (and, to change anything, its CSRF token in
/// `x-csrf-token`); otherwise 401 in the OpenAI shape. One middleware on each group of admin routes (the
/// lookup API), never a check repeated in handlers. Without an admin key (the variable
/// `server.admin_key_env` unset) every admin route answers 401 and says how to turn it on.
struct AdminKeyMiddleware: RouterMiddleware {
    typealias Context = GatewayContext

    /// The SHA-256 of the admin key: compared digest to digest, so that the time taken says
    /// nothing of how much of a guess was right.
    private let keyDigest: [UInt8]?
    private let keyVariable: String
    /// The dashboard's logins, which stand for the admin key.
    let sessions: DashboardSessions

    init(adminKey: String?, keyVariable: String, sessions: DashboardSessions = DashboardSessions()) {
        keyDigest = adminKey.map { Array(SHA256.hash(data: Data($0.utf8))) }
        self.keyVariable = keyVariable
        self.sessions = sessions
    }

    /// Whether `given` is the admin key (constant time).
    func accepts(_ given: String) -> Bool {
        guard let keyDigest, !given.isEmpty else { return false }
        return DashboardSessions.same(Array(SHA256.hash(data: Data(given.utf8))), keyDigest)
    }

    func handle(_ request: Request, context: GatewayContext, next: @concurrent (Request, GatewayContext) async throws -> Response)
        async throws -> Response
    {
        guard keyDigest != nil else {
            throw OpenAIError.unauthorized("The admin API is disabled: set the admin key in \(keyVariable)")
        }
        let header = request.headers[.authorization] ?? ""
        if header.isEmpty, let token = DashboardSessions.token(cookieHeader: request.headers[.cookie]),
           let session = sessions.session(token)
        {
            if request.method != .get && request.method != .head {
                guard DashboardSessions.same(request.headers[.xCSRFToken] ?? "", session.csrf) else {
                    throw OpenAIError(status: .forbidden, message: "Missing or wrong CSRF token (x-csrf-token) for this session",
                                      type: "invalid_request_error", code: "csrf_failed")
                }
            }
            return try await next(request, context)
        }
        let given = header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : ""
        guard accepts(given) else {
            throw OpenAIError.unauthorized("Missing or wrong admin key for the admin API")
        }
        return try await next(request, context)
    }
}

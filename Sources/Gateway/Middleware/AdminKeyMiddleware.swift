import Crypto
import Foundation
import Hummingbird

/// Lets a request through only with `Authorization: Bearer <admin key>`, compared in constant
/// time; otherwise 401 in the OpenAI shape. One middleware on each group of admin routes (the
/// lookup API), never a check repeated in handlers. Without an admin key (the variable
/// `server.admin_key_env` unset) every admin route answers 401 and says how to turn it on.
struct AdminKeyMiddleware: RouterMiddleware {
    typealias Context = GatewayContext

    /// The SHA-256 of the admin key: compared digest to digest, so that the time taken says
    /// nothing of how much of a guess was right.
    private let keyDigest: [UInt8]?
    private let keyVariable: String

    init(adminKey: String?, keyVariable: String) {
        keyDigest = adminKey.map { Array(SHA256.hash(data: Data($0.utf8))) }
        self.keyVariable = keyVariable
    }

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response)
        async throws -> Response
    {
        guard let keyDigest else {
            throw OpenAIError.unauthorized("The admin API is disabled: set the admin key in \(keyVariable)")
        }
        let header = request.headers[.authorization] ?? ""
        let given = header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : ""
        let digest = SHA256.hash(data: Data(given.utf8))
        var difference: UInt8 = 0
        for (x, y) in zip(digest, keyDigest) { difference |= x ^ y }
        guard difference == 0, !given.isEmpty else {
            throw OpenAIError.unauthorized("Missing or wrong admin key for the admin API")
        }
        return try await next(request, context)
    }
}

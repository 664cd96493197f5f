import DejaSupport
import Foundation
import HTTPTypes
import Hummingbird

/// The dashboard at `/ui`: a login form that trades the admin key for a session cookie, and
/// one page per view, each a server-rendered shell whose script reads the same admin JSON
/// routes scripts use. Pages and assets carry a CSP of `default-src 'self'`: no inline script
/// or style, nothing fetched from elsewhere.
struct DashboardRoutes: Sendable {
    let adminKey: AdminKeyMiddleware
    /// Whether the key and tenant views have data (governance on).
    let governance: Bool
    /// `Secure` on the cookie: under TLS.
    let secureCookies: Bool
    /// The variable to set when no admin key is set (and no one can sign in).
    var missingKey: String? = nil

    var routes: RouteCollection<GatewayContext> {
        let routes = RouteCollection(context: GatewayContext.self)
        routes.get("") { _, _ in Self.redirect("/ui/overview") }
        routes.get("/login") { _, _ in
            Self.page(DashboardPage.login(error: missingKey.map { "The dashboard is off until an admin key is set in \($0)." }))
        }
        routes.post("/login") { request, _ in try await login(request) }
        routes.post("/logout") { request, _ in try await logout(request) }
        routes.get("/assets/app.js") { _, _ in Self.asset(DashboardScript.source, type: "text/javascript; charset=utf-8") }
        routes.get("/assets/app.css") { _, _ in Self.asset(DashboardStyle.source, type: "text/css; charset=utf-8") }
        routes.get("/assets/icon.svg") { _, _ in Self.asset(DashboardStyle.icon, type: "image/svg+xml") }
        routes.get("/:view") { request, context in
            guard let view = context.parameters.get("view").flatMap(DashboardPage.View.init(rawValue:)) else {
                throw OpenAIError.notFound("No dashboard page \(request.uri.path)", code: "unknown_route")
            }
            guard let token = DashboardSessions.token(cookieHeader: request.headers[.cookie]),
                  let session = adminKey.sessions.session(token)
            else { return Self.redirect("/ui/login") }
            return Self.page(DashboardPage.view(view, csrf: session.csrf, governance: governance))
        }
        return routes
    }

    /// `POST /ui/login` with the form field `key`: the right admin key gets a session cookie
    /// and goes to the overview; a wrong one gets the form again with 401.
    private func login(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 16 * 1024)
        let key = Self.formField("key", in: String(buffer: body)) ?? ""
        guard adminKey.accepts(key) else {
            // A wrong guess costs a second, so that guessing a key through the form is slow.
            try await Task.sleep(for: .seconds(1))
            var response = Self.page(DashboardPage.login(error: "Wrong admin key."))
            response.status = .unauthorized
            return response
        }
        let (token, _) = adminKey.sessions.create()
        var response = Self.redirect("/ui/overview")
        response.headers[.setCookie] = "\(DashboardSessions.cookieName)=\(token); Path=/; HttpOnly; SameSite=Strict"
            + (secureCookies ? "; Secure" : "") + "; Max-Age=\(Int(adminKey.sessions.lifetime))"
        return response
    }

    /// `POST /ui/logout` with the form field `csrf`: ends the session and clears the cookie.
    private func logout(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 16 * 1024)
        if let token = DashboardSessions.token(cookieHeader: request.headers[.cookie]),
           let session = adminKey.sessions.session(token),
           DashboardSessions.same(Self.formField("csrf", in: String(buffer: body)) ?? "", session.csrf)
        {
            adminKey.sessions.end(token)
        }
        var response = Self.redirect("/ui/login")
        response.headers[.setCookie] = "\(DashboardSessions.cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        return response
    }

    /// A field of an `application/x-www-form-urlencoded` body.
    static func formField(_ name: String, in body: String) -> String? {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { continue }
            return parts[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }

    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        .xContentTypeOptions: "nosniff", .referrerPolicy: "no-referrer",
    ]

    static func page(_ html: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func asset(_ text: String, type: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = type
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ location: String) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }
}

extension HTTPField.Name {
    static let xCSRFToken = HTTPField.Name("x-csrf-token")!
    static let referrerPolicy = HTTPField.Name("referrer-policy")!
}

import DejaSupport
import Foundation
import NIOHTTP1
import Gateway
import HTTPTypes
import Hummingbird
import Testing
import TestSupport
import Yams

/// `docs/openapi.yaml` against the gateway itself: the same routes, and every operation answers
/// with a status it documents.
@Suite("OpenAPI description")
struct OpenAPITests {
    typealias H = GatewayHarness

    /// Every operation of the description, as `METHOD /path`, with the statuses it documents.
    static func documented() throws -> [String: Set<String>] {
        let text = try TextFile.read("docs/openapi.yaml")
        guard let root = try Yams.load(yaml: text) as? [String: Any], let paths = root["paths"] as? [String: Any] else {
            Issue.record("docs/openapi.yaml has no paths")
            return [:]
        }
        var out: [String: Set<String>] = [:]
        for (path, item) in paths {
            for (method, operation) in (item as? [String: Any] ?? [:]) where method != "parameters" {
                let responses = (operation as? [String: Any])?["responses"] as? [String: Any] ?? [:]
                out["\(method.uppercased()) \(path)"] = Set(responses.keys)
            }
        }
        return out
    }

    @Test("docs/openapi.yaml describes exactly the routes the router serves")
    func sameRoutes() async throws {
        let documented = Set(try Self.documented().keys)
        #expect(documented.count > 20, "the description was read")
        try await H.run(inProcess: true) { h in
            let served = Set(h.gateway.buildRouter().routes.map { "\($0.method) \($0.path)" })
            #expect(served.count > 20)
            #expect(served.subtracting(documented).sorted() == [], "routes served but not described")
            #expect(documented.subtracting(served).sorted() == [], "routes described but not served")
        }
    }

    /// Each operation, called with an empty JSON object (or nothing) and the admin key, answers a
    /// status its description lists (or `default`), and every error it answers has OpenAI's shape.
    @Test("every operation answers a documented status, errors in OpenAI's shape")
    func documentedStatuses() async throws {
        let documented = try Self.documented()
        try await H.run(inProcess: true) { h in
            for (operation, statuses) in documented.sorted(by: { $0.key < $1.key }) {
                let parts = operation.split(separator: " ", maxSplits: 1)
                let method = HTTPMethod(rawValue: String(parts[0]))
                let path = String(parts[1]).replacingOccurrences(of: "{key}", with: "1")
                    .replacingOccurrences(of: "{id}", with: "resp_1").replacingOccurrences(of: "{model}", with: "gpt-test")
                let hasBody = method == .POST
                let reply = try await h.request(
                    method, path, body: hasBody ? Data("{}".utf8) : nil, headers: h.admin, contentType: hasBody ? "application/json" : nil)
                #expect(statuses.contains(String(reply.status)) || statuses.contains("default"),
                        "\(operation) answered \(reply.status), not in \(statuses.sorted())")
                // The dashboard's refused login is its HTML form again, for a person, not an API error.
                if reply.status >= 400 && operation != "POST /ui/login" {
                    #expect(reply.json["error"]?["message"]?.stringValue?.isEmpty == false, "\(operation): \(reply.text)")
                }
            }
        }
    }

    /// The description itself is valid OpenAPI 3.1 (openapi-spec-validator, from PyPI).
    @Test("docs/openapi.yaml is valid OpenAPI 3.1")
    func validDescription() throws {
        let python = ".build-py/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("\(python) is missing: run `make test`, which installs openapi-spec-validator there")
            return
        }
        let result = try ChildProcess.run(python, ["-m", "openapi_spec_validator", "docs/openapi.yaml"])
        #expect(result.status == 0, "\(result.output)")
    }
}

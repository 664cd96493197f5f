import DejaSupport
import AsyncHTTPClient
import Foundation
import Gateway
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1
import SemanticCache

/// The `deja cache` commands' way into a running gateway: its lookup API at `base`, with the
/// admin key from the environment variable `keyVariable`.
struct AdminClient {
    let base: String
    let key: String
    let client: HTTPClient

    init(url: String, keyVariable: String, client: HTTPClient) throws {
        guard let key = ProcessInfo.processInfo.environment[keyVariable], !key.isEmpty else {
            throw CommandFailure("--url needs the gateway's admin key in \(keyVariable) (or name another variable with --admin-key-env)")
        }
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
        self.key = key
        self.client = client
    }

    /// One request; the answer's status and JSON body (`null` when it is not JSON).
    func send(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil) async throws -> (status: UInt, json: JSONValue) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "authorization", value: "Bearer \(key)")
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body.canonicalData))
        }
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 64 << 20)
            return (response.status.code, (try? JSONValue.parse(Data(buffer: bytes))) ?? .null)
        } catch {
            throw CommandFailure("cannot reach the gateway at \(base): \(GatewayLoad.reason(error)); is it running?")
        }
    }

    /// The message of an OpenAI-shaped error answer, or its status.
    static func message(_ answer: (status: UInt, json: JSONValue)) -> String {
        answer.json["error"]?["message"]?.stringValue ?? "HTTP \(answer.status)"
    }
}

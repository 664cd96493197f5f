import AsyncHTTPClient
import Foundation
import Gateway
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL
import SemanticCache
import Testing
import TestSupport

/// `server.tls`: Deja serving HTTPS itself, for deployments without a proxy in front.
@Suite("TLS")
struct TLSTests {
    typealias H = GatewayHarness

    @Test("with server.tls the gateway answers HTTPS, hits included, and plain HTTP no longer")
    func servesHTTPS() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (cert, key) = try await TestCertificate.make(in: dir)
        try await H.run(configure: { $0.server.tls = TLSFiles(certFile: cert, keyFile: key) }) { h in
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(cert))
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
            defer { _ = client.shutdown() }
            func chat() async throws -> (status: UInt, cache: String?) {
                var request = HTTPClientRequest(url: "https://127.0.0.1:\(h.port)/v1/chat/completions")
                request.method = .POST
                request.headers.add(name: "content-type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: #"{"model":"gpt-test","messages":[{"role":"user","content":"Is this encrypted?"}]}"#))
                let response = try await client.execute(request, timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1 << 20)
                return (response.status.code, response.headers.first(name: "x-deja-cache"))
            }
            let first = try await chat()
            #expect(first.status == 200 && first.cache == "miss")
            await h.settle()
            #expect(try await chat().cache == "hit")
            // Plain HTTP on the same port gets no answer: the server speaks TLS.
            await #expect(throws: (any Error).self) { _ = try await h.chat("Is this encrypted?") }
        }
    }

    @Test("a missing, unreadable or mismatched certificate or key stops the start with one line naming it")
    func badFiles() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (cert, key) = try await TestCertificate.make(in: dir)
        let (_, otherKey) = try await TestCertificate.make(in: dir, name: "other")
        try "not a certificate".write(toFile: dir.path("garbage.pem"), atomically: true, encoding: .utf8)
        let cases: [(TLSFiles, String)] = [
            (TLSFiles(certFile: dir.path("missing.pem"), keyFile: key), "server.tls.cert_file: \(dir.path("missing.pem")) does not exist"),
            (TLSFiles(certFile: dir.path("garbage.pem"), keyFile: key), "server.tls.cert_file: \(dir.path("garbage.pem")) holds no PEM certificate"),
            (TLSFiles(certFile: cert, keyFile: cert), "server.tls.key_file: \(cert) holds no PEM private key"),
            (TLSFiles(certFile: cert, keyFile: otherKey), "server.tls.key_file: \(otherKey) is not the private key of the certificate"),
        ]
        for (files, message) in cases {
            await #expect {
                try await H.run(configure: { $0.server.tls = files }) { _ in }
            } throws: { error in
                (error as? ConfigurationError)?.description.contains(message) == true
            }
        }
    }
}

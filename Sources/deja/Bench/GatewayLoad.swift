import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// A closed-loop HTTP/1.1 load generator on SwiftNIO: each of `concurrency` keep-alive
/// connections sends a request, waits for the whole response, records its latency, the time to
/// its first body bytes and the `x-deja-cache` header, and sends the next, until the deadline.
///
/// It writes requests as prepared bytes and reads responses by their `Content-Length` or their
/// chunks (a stream) without an HTTP decoder, because it shares the machine with the server it
/// measures: every cycle it spends is one the gateway does not get.
struct GatewayLoad {
    struct Sample {
        var nanoseconds: UInt64
        /// Until the head and the first body bytes had arrived: for a stream, its first event.
        var firstByteNanoseconds: UInt64
        var cache: String
        var status: Int
    }

    var host: String
    var port: Int
    var path = "/v1/chat/completions"
    var concurrency: Int
    var duration: Double
    var threads: Int
    /// The body of request number `n` of connection `c`.
    var makeBody: @Sendable (_ connection: Int, _ n: Int) -> ByteBuffer
    /// Close a connection when its next body is empty (a fixed amount of work, as the warm-up).
    var stopOnEmptyBody = false
    /// Each connection sends its requests at most this far apart (`--rate`); `nil`: as soon as
    /// the last is answered.
    var interval: TimeAmount?
    /// Extra request headers.
    var headers: [(String, String)] = []
    /// Deja keys: connection `c` sends `Authorization: Bearer keys[c % keys.count]`.
    var keys: [String] = []
    /// Speak TLS with this context (an `https` URL).
    var tls: NIOSSLContext?

    func run() throws -> (samples: [Sample], seconds: Double, errors: Int) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        defer { try? group.syncShutdownGracefully() }
        let deadline = NIODeadline.now() + .milliseconds(Int64(duration * 1000))
        let start = DispatchTime.now().uptimeNanoseconds
        var prefix = "POST \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Type: application/json\r\n"
        for (name, value) in headers { prefix += "\(name): \(value)\r\n" }
        var futures: [EventLoopFuture<LoadHandler.Result>] = []
        for c in 0..<concurrency {
            let loop = group.next()
            let promise = loop.makePromise(of: LoadHandler.Result.self)
            let handler = LoadHandler(
                prefix: keys.isEmpty ? prefix : prefix + "Authorization: Bearer \(keys[c % keys.count])\r\n", connection: c, deadline: deadline, makeBody: makeBody, stopOnEmptyBody: stopOnEmptyBody,
                interval: interval, done: promise)
            let bootstrap = ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { [tls, host] channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            // Certificates name hosts; an address is checked against the certificate's IP entries.
                            let name = host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? nil : host
                            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: name))
                        }
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
            bootstrap.connect(host: host, port: port).whenFailure { [host, port] error in
                promise.fail(BenchError("cannot connect to \(host):\(port): \(Self.reason(error)); is the server running?"))
            }
            futures.append(promise.futureResult)
        }
        var samples: [Sample] = []
        var errors = 0
        // Every connection settles before a failure is reported, so that none outlives the loops.
        var failure: (any Error)?
        for f in futures {
            do {
                let r = try f.wait()
                samples += r.samples
                errors += r.errors
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return (samples, seconds, errors)
    }

    /// Why a connection failed, in a few words (NIO's own error lists every address it tried).
    static func reason(_ error: any Error) -> String {
        if let failure = error as? NIOConnectionError {
            if let first = failure.connectionErrors.first { return reason(first.error) }
            if failure.dnsAError != nil || failure.dnsAAAAError != nil { return "the name does not resolve" }
        }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        return "\(error)"
    }
}

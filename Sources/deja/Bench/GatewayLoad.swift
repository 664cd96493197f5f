import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A closed-loop HTTP/1.1 load generator on SwiftNIO: each of `concurrency` keep-alive
/// connections sends a request, waits for the whole response, records its latency and the
/// `x-deja-cache` header, and sends the next, until the deadline.
struct GatewayLoad {
    struct Sample {
        var nanoseconds: UInt64
        var cache: String
        var status: UInt
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
    /// Extra request headers.
    var headers: [(String, String)] = []

    func run() throws -> (samples: [Sample], seconds: Double, errors: Int) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        defer { try? group.syncShutdownGracefully() }
        let deadline = NIODeadline.now() + .milliseconds(Int64(duration * 1000))
        let start = DispatchTime.now().uptimeNanoseconds
        var futures: [EventLoopFuture<_LoadHandler.Result>] = []
        for c in 0..<concurrency {
            let loop = group.next()
            let promise = loop.makePromise(of: _LoadHandler.Result.self)
            let handler = _LoadHandler(
                host: host, port: port, path: path, connection: c, deadline: deadline, makeBody: makeBody,
                stopOnEmptyBody: stopOnEmptyBody, headers: headers, done: promise)
            let bootstrap = ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
            bootstrap.connect(host: host, port: port).whenFailure { promise.fail($0) }
            futures.append(promise.futureResult)
        }
        var samples: [Sample] = []
        var errors = 0
        for f in futures {
            let r = try f.wait()
            samples += r.samples
            errors += r.errors
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return (samples, seconds, errors)
    }
}

/// One connection of ``GatewayLoad``. Runs on its channel's event loop only.
final class _LoadHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    struct Result: Sendable {
        var samples: [GatewayLoad.Sample]
        var errors: Int
    }

    let host: String
    let port: Int
    let path: String
    let connection: Int
    let deadline: NIODeadline
    let makeBody: @Sendable (Int, Int) -> ByteBuffer
    let stopOnEmptyBody: Bool
    let extraHeaders: [(String, String)]
    let done: EventLoopPromise<Result>
    var samples: [GatewayLoad.Sample] = []
    var errors = 0
    var sent = 0
    var started: UInt64 = 0
    var cache = ""
    var status: UInt = 0

    init(host: String, port: Int, path: String, connection: Int, deadline: NIODeadline,
         makeBody: @escaping @Sendable (Int, Int) -> ByteBuffer, stopOnEmptyBody: Bool, headers: [(String, String)],
         done: EventLoopPromise<Result>)
    {
        self.stopOnEmptyBody = stopOnEmptyBody
        self.extraHeaders = headers
        self.host = host
        self.port = port
        self.path = path
        self.connection = connection
        self.deadline = deadline
        self.makeBody = makeBody
        self.done = done
        samples.reserveCapacity(1 << 16)
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context: context)
    }

    private func send(context: ChannelHandlerContext) {
        guard NIODeadline.now() < deadline else {
            context.close(promise: nil)
            return
        }
        let body = makeBody(connection, sent)
        if stopOnEmptyBody && body.readableBytes == 0 {
            context.close(promise: nil)
            return
        }
        sent += 1
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers.add(name: "host", value: "\(host):\(port)")
        head.headers.add(name: "content-type", value: "application/json")
        head.headers.add(name: "content-length", value: String(body.readableBytes))
        for (name, value) in extraHeaders { head.headers.add(name: name, value: value) }
        started = DispatchTime.now().uptimeNanoseconds
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status.code
            cache = head.headers.first(name: "x-deja-cache") ?? "-"
        case .body:
            break
        case .end:
            let elapsed = DispatchTime.now().uptimeNanoseconds - started
            if status == 200 {
                samples.append(.init(nanoseconds: elapsed, cache: cache, status: status))
            } else {
                errors += 1
            }
            send(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.succeed(Result(samples: samples, errors: errors))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        errors += 1
        context.close(promise: nil)
    }
}

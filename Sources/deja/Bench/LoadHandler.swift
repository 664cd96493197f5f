import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// One connection of ``GatewayLoad``. Runs on its channel's event loop only.
/// `@unchecked Sendable`: NIO hands handlers between threads by their event loop; this one
/// is touched on its channel's loop only.
final class LoadHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Result: Sendable {
        var samples: [GatewayLoad.Sample]
        var errors: Int
    }

    let prefix: String
    let connection: Int
    let deadline: NIODeadline
    let makeBody: @Sendable (Int, Int) -> ByteBuffer
    let stopOnEmptyBody: Bool
    /// The pace of `--rate`: request `n` goes out no earlier than `n` intervals after the first.
    let interval: TimeAmount?
    var firstSent: NIODeadline?
    let done: EventLoopPromise<Result>
    var samples: [GatewayLoad.Sample] = []
    var errors = 0
    var sent = 0
    var started: UInt64 = 0
    /// When the current response's first body bytes came; 0 until then.
    var firstByte: UInt64 = 0
    var received = ByteBuffer()

    init(prefix: String, connection: Int, deadline: NIODeadline, makeBody: @escaping @Sendable (Int, Int) -> ByteBuffer,
         stopOnEmptyBody: Bool, interval: TimeAmount? = nil, done: EventLoopPromise<Result>)
    {
        self.interval = interval
        self.prefix = prefix
        self.connection = connection
        self.deadline = deadline
        self.makeBody = makeBody
        self.stopOnEmptyBody = stopOnEmptyBody
        self.done = done
        samples.reserveCapacity(1 << 16)
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context: context)
    }

    private func send(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        guard now < deadline else {
            context.close(promise: nil)
            return
        }
        if let interval {
            let first = firstSent ?? now
            firstSent = first
            let due = first + interval * Int64(sent)
            if due > now {
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(deadline: due) {
                    let (handler, context) = loopBound.value
                    handler.sendNow(context: context)
                }
                return
            }
        }
        sendNow(context: context)
    }

    private func sendNow(context: ChannelHandlerContext) {
        guard NIODeadline.now() < deadline else {
            context.close(promise: nil)
            return
        }
        var body = makeBody(connection, sent)
        if stopOnEmptyBody && body.readableBytes == 0 {
            context.close(promise: nil)
            return
        }
        sent += 1
        var request = context.channel.allocator.buffer(capacity: prefix.utf8.count + 32 + body.readableBytes)
        request.writeString(prefix)
        request.writeString("Content-Length: \(body.readableBytes)\r\n\r\n")
        request.writeBuffer(&body)
        started = DispatchTime.now().uptimeNanoseconds
        firstByte = 0
        context.writeAndFlush(wrapOutboundOut(request), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        received.writeBuffer(&chunk)
        while let (length, status, cache) = parseResponse() {
            received.moveReaderIndex(forwardBy: length)
            received.discardReadBytes()
            if (200..<300).contains(status) {
                let now = DispatchTime.now().uptimeNanoseconds
                samples.append(.init(
                    nanoseconds: now - started, firstByteNanoseconds: (firstByte == 0 ? now : firstByte) - started,
                    cache: cache, status: status))
            } else {
                errors += 1
            }
            send(context: context)
        }
    }

    /// The length, status and `x-deja-cache` value of a complete response at the start of the
    /// buffer, or `nil` while it is incomplete (noting when its first body bytes came).
    private func parseResponse() -> (Int, Int, String)? {
        received.withUnsafeReadableBytes { raw -> (Int, Int, String)? in
            let bytes = raw.bindMemory(to: UInt8.self)
            let n = bytes.count
            guard n >= 16 else { return nil }
            var end = -1
            var i = 0
            while i + 3 < n {
                if bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
                    end = i + 4
                    break
                }
                i += 1
            }
            guard end > 0 else { return nil }
            let status = Int(bytes[9] &- 48) * 100 + Int(bytes[10] &- 48) * 10 + Int(bytes[11] &- 48)
            // Header lines, matched on bytes without building strings.
            func starts(_ at: Int, _ name: StaticString) -> Bool {
                let count = name.utf8CodeUnitCount
                guard at + count <= end else { return false }
                for k in 0..<count {
                    var b = bytes[at + k]
                    if b >= 65 && b <= 90 { b += 32 }
                    if b != name.utf8Start[k] { return false }
                }
                return true
            }
            func value(_ at: Int) -> (start: Int, end: Int) {
                var a = at
                while a < end && bytes[a] == 32 { a += 1 }
                var b = a
                while b < end && bytes[b] != 13 { b += 1 }
                return (a, b)
            }
            var length = 0
            var chunked = false
            var cache = "-"
            var line = 0
            while line < end {
                if starts(line, "content-length:") {
                    let v = value(line + 15)
                    for k in v.start..<v.end { length = length * 10 + Int(bytes[k] &- 48) }
                } else if starts(line, "transfer-encoding:") {
                    let v = value(line + 18)
                    chunked = v.end - v.start == 7 && bytes[v.start] | 32 == UInt8(ascii: "c")
                } else if starts(line, "x-deja-cache:") {
                    let v = value(line + 13)
                    cache = String(decoding: UnsafeBufferPointer(rebasing: bytes[v.start..<v.end]), as: UTF8.self)
                }
                while line < end && bytes[line] != 10 { line += 1 }
                line += 1
            }
            if n > end && firstByte == 0 { firstByte = DispatchTime.now().uptimeNanoseconds }
            guard chunked else {
                guard n >= end + length else { return nil }
                return (end + length, status, cache)
            }
            // Chunks: a hexadecimal size, CRLF, the data, CRLF; a size of 0 (and CRLF) ends them.
            var at = end
            while true {
                var size = 0
                var digits = 0
                var inSize = true  // until a chunk extension (";name=value")
                while at < n, bytes[at] != 13 {
                    let b = bytes[at] | 32
                    if inSize && b >= 48 && b <= 57 { size = size * 16 + Int(b - 48); digits += 1 }
                    else if inSize && b >= 97 && b <= 102 { size = size * 16 + Int(b - 87); digits += 1 }
                    else { inSize = false }
                    at += 1
                }
                guard at + 1 < n, digits > 0 else { return nil }
                at += 2
                if size == 0 {
                    guard at + 1 < n else { return nil }
                    return (at + 2, status, cache)
                }
                at += size + 2
                guard at < n else { return nil }
            }
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

import DejaSupport
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Holds each client connection to two limits: a request must arrive whole (head and body)
/// within `server.request_timeout` of its first byte, and no more than `server.max_connections`
/// connections are served at once.
///
/// The idle timeout alone does not stop a client that sends one byte every few seconds: each
/// byte restarts it, and the connection (with a handler task waiting on its body) stays as long
/// as the client likes. Here the clock starts at a request's first byte (seen by the
/// ``InboundActivity`` handler in front of the HTTP parser) and stops at its last; a request
/// still incomplete at the deadline gets a 408 in OpenAI's error shape and the connection is
/// closed. The time Deja takes to answer is not counted: a slow model is not a slow client.
///
/// A connection beyond the limit is accepted, its request answered with a 503 and the
/// connection closed, so that the client learns why at once instead of waiting in the listen
/// queue. No timer runs for a request that arrives within one read, the usual case: the
/// deadline is scheduled only when a read ends with a request incomplete.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// What every connection's guard shares.
    struct Limits: Sendable {
        /// Time to receive a whole request; `nil` for none.
        var requestTimeout: TimeAmount?
        var connections: OpenConnections
        /// Called when a request runs out of time (for a metric).
        var onTimeout: @Sendable () -> Void = {}
        /// Called when a connection is refused for the limit (for a metric).
        var onRefusal: @Sendable () -> Void = {}
    }

    private let limits: Limits
    private var context: ChannelHandlerContext?
    private var admitted = false
    /// When the request now arriving sent its first byte; `nil` between requests.
    private var receivingSince: NIODeadline?
    private var timer: Scheduled<Void>?
    private var requestsEnded = 0
    private var responsesEnded = 0
    /// A response head went out and its end has not.
    private var responding = false
    /// Bytes of a next request came while the last one was being answered.
    private var bytesWhileAnswering = false
    private var finished = false

    init(limits: Limits) {
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        admitted = limits.connections.admit()
        if !admitted { limits.onRefusal() }
        let activity = InboundActivity { [weak self] in self?.bytesArrived() }
        try? context.pipeline.syncOperations.addHandler(activity, position: .first)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if admitted {
            limits.connections.release()
            admitted = false
        }
        self.context = nil
    }

    private var answering: Bool { requestsEnded > responsesEnded }

    private func bytesArrived() {
        if answering {
            bytesWhileAnswering = true
        } else if receivingSince == nil {
            receivingSince = .now()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard admitted else {
            // Nothing of a refused connection reaches the server.
            if case .head = part { refuse(context: context) }
            return
        }
        switch part {
        case .head:
            if receivingSince == nil && !answering { receivingSince = .now() }
        case .body:
            break
        case .end:
            receivingSince = nil
            requestsEnded += 1
            bytesWhileAnswering = false
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let since = receivingSince, timer == nil, let timeout = limits.requestTimeout {
            schedule(at: since + timeout, context: context)
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.kind != .informational:
            responding = true
        case .head, .body:
            break
        case .end:
            responding = false
            responsesEnded += 1
            if bytesWhileAnswering && !answering {
                bytesWhileAnswering = false
                receivingSince = .now()
            }
        }
        context.write(data, promise: promise)
    }

    private func schedule(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            loopBound.value.deadlinePassed()
        }
    }

    /// The timer fired: the request that started it may have ended and another begun since.
    private func deadlinePassed() {
        timer = nil
        guard let context, let since = receivingSince, let timeout = limits.requestTimeout else { return }
        if NIODeadline.now() < since + timeout {
            schedule(at: since + timeout, context: context)
            return
        }
        limits.onTimeout()
        receivingSince = nil
        if responding {
            // Deja already answered (a 413 while the body was still coming): only close.
            context.close(promise: nil)
        } else {
            let seconds = Double(timeout.nanoseconds) / 1e9
            reply(
                OpenAIError(
                    status: .requestTimeout,
                    message: "The request did not arrive whole within \(seconds.formatted()) s "
                        + "(server.request_timeout); send it at once and retry",
                    type: "invalid_request_error", code: "request_timeout"),
                context: context)
        }
    }

    private func refuse(context: ChannelHandlerContext) {
        reply(
            OpenAIError(
                status: .serviceUnavailable,
                message: "Deja is serving its most connections at once (server.max_connections = "
                    + "\(limits.connections.limit)); retry shortly",
                type: "server_error", code: "too_many_connections"),
            retryAfter: 1, context: context)
    }

    /// Sends `error` and closes the connection, once.
    private func reply(_ error: OpenAIError, retryAfter: Int? = nil, context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        error.sendClosing(on: context, retryAfter: retryAfter)
    }
}

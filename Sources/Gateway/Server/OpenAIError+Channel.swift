import DejaSupport
import HTTPTypes
import NIOCore
import NIOHTTPTypes

extension OpenAIError {
    /// Writes this error as a whole response from a channel handler that sits where the
    /// pipeline carries `HTTPResponsePart`s, then closes the connection: for the refusals made
    /// below the router (a request the parser rejects, one too slow to arrive, a connection
    /// over the limit).
    func sendClosing(on context: ChannelHandlerContext, retryAfter: Int? = nil) {
        let body = self.body.canonicalData
        var head = HTTPResponse(status: status)
        head.headerFields[.contentType] = "application/json"
        head.headerFields[.contentLength] = String(body.count)
        head.headerFields[.connection] = "close"
        if let retryAfter { head.headerFields[.retryAfter] = String(retryAfter) }
        context.write(NIOAny(HTTPResponsePart.head(head)), promise: nil)
        context.write(NIOAny(HTTPResponsePart.body(ByteBuffer(bytes: body))), promise: nil)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(NIOAny(HTTPResponsePart.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }
}

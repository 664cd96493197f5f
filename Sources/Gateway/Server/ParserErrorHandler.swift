import DejaSupport
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request that is not valid HTTP/1.1 (an unknown method such as `FOO`, a control byte
/// in a header value) with a 400 in OpenAI's error shape, then closes the connection.
///
/// Hummingbird answers these itself with a 400 and an empty body; every error Deja sends has a
/// JSON body that says what was wrong, so this handler catches the parser's error first.
final class ParserErrorHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        let reply = OpenAIError(
            status: .badRequest, message: "The request is not valid HTTP/1.1 (\(parserError)); the connection is closed",
            type: "invalid_request_error", code: "invalid_http")
        reply.sendClosing(on: context)
    }
}

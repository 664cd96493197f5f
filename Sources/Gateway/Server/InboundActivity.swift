import NIOCore

/// Tells a ``ConnectionGuard`` that bytes arrived, before the HTTP parser has made a request of
/// them: the guard starts a request's deadline at its first byte, so that a client that sends
/// its headers a byte at a time is cut off like one that does so with its body.
///
/// It sits first in the pipeline (the guard puts it there) and passes everything on unchanged.
final class InboundActivity: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let onBytes: () -> Void

    /// `onBytes` runs on the channel's event loop, like every handler method.
    init(onBytes: @escaping () -> Void) {
        self.onBytes = onBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        onBytes()
        context.fireChannelRead(data)
    }
}

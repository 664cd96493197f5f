public import DejaSupport
public import Hummingbird
import NIOCore
import NIOFoundationCompat

extension Response {
    /// A JSON answer in canonical form (sorted keys, no spaces).
    public static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: value.canonicalData)))
    }
}

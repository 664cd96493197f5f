#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A blocking TCP connection to 127.0.0.1 for tests that must see the bytes of an exchange
/// (interim responses, which HTTP client libraries hide). Every read gives up after `timeout`.
public final class RawHTTPConnection {
    private let fd: Int32
    private var received: [UInt8] = []

    public init(port: Int, timeout: Double = 2) throws {
        // `self.fd` is set only once connected: `deinit` would otherwise close it a second time.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket() failed") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { Glibc.close(fd); throw Failure("cannot connect to 127.0.0.1:\(port)") }
        self.fd = fd
    }

    deinit { Glibc.close(fd) }

    public func send(_ bytes: some Collection<UInt8>) throws {
        let data = Array(bytes)
        var sent = 0
        while sent < data.count {
            let n = data[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw Failure("send failed") }
            sent += n
        }
    }

    /// The bytes up to and including the next blank line (a response head), or a failure when
    /// none arrives within the timeout.
    public func readHead() throws -> String {
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            if let range = received.firstRange(of: end) {
                let head = String(decoding: received[..<range.upperBound], as: UTF8.self)
                received.removeFirst(range.upperBound)
                return head
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw Failure("no complete response head within the timeout; got \(received.count) bytes") }
            received += buffer[..<n]
        }
    }

    /// The next response whole: its head, then as many body bytes as its `Content-Length` says,
    /// so that the connection is ready for the next exchange.
    public func readResponse() throws -> (head: String, body: String) {
        let head = try readHead()
        let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        while received.count < length {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw Failure("the body ended after \(received.count) of \(length) bytes") }
            received += buffer[..<n]
        }
        let body = String(decoding: received[..<length], as: UTF8.self)
        received.removeFirst(length)
        return (head, body)
    }

    /// Ends the connection from this side (the server sees it closed); the descriptor is
    /// released when the object goes.
    public func close() {
        shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Everything after the head until the server closes the connection (`Connection: close`).
    public func readToEnd() throws -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { throw Failure("the server did not close the connection within the timeout") }
            received += buffer[..<n]
        }
        defer { received.removeAll() }
        return String(decoding: received, as: UTF8.self)
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }
}

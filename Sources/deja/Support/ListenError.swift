#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// `deja serve` could not open its listening socket: what to do about it, in one line.
struct ListenError: Error, CustomStringConvertible {
    let host: String
    let port: Int
    let errno: Int32

    /// The error for a failed bind, or `nil` when `error` is something else.
    init?(_ error: any Error, host: String, port: Int) {
        guard let io = error as? IOError, io.description.hasPrefix("bind("),
              [EADDRINUSE, EADDRNOTAVAIL, EACCES].contains(io.errnoCode)
        else { return nil }
        self.host = host
        self.port = port
        self.errno = io.errnoCode
    }

    var description: String {
        let address = "\(host):\(port)"
        switch errno {
        case EADDRINUSE:
            return "cannot listen on \(address): another process is using that port; stop it or choose another (server.port or --port)"
        case EADDRNOTAVAIL:
            return "cannot listen on \(address): no network interface of this machine has that address (server.host or --host)"
        default:
            return "cannot listen on \(address): permission denied; ports below 1024 need privileges, choose another (server.port or --port)"
        }
    }
}

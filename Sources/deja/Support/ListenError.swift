#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// `deja serve` (or `deja mock-upstream`) could not open its listening socket: what to do about
/// it, in one line.
struct ListenError: Error, CustomStringConvertible {
    let host: String
    let port: Int
    /// Where the address is set: `server.host or --host` for the gateway, `--host` for the mock.
    let hostSetting: String
    let portSetting: String
    /// The bind's error number; 0 for an address that does not resolve.
    let errno: Int32

    /// The error for a failed bind or an address that does not resolve, or `nil` when `error`
    /// is something else.
    init?(_ error: any Error, host: String, port: Int, configurable: Bool = true) {
        if error is SocketAddressError.UnknownHost {
            self.errno = 0
        } else if let io = error as? IOError, io.description.hasPrefix("bind("),
                  [EADDRINUSE, EADDRNOTAVAIL, EACCES].contains(io.errnoCode) {
            self.errno = io.errnoCode
        } else {
            return nil
        }
        self.host = host
        self.port = port
        self.hostSetting = configurable ? "server.host or --host" : "--host"
        self.portSetting = configurable ? "server.port or --port" : "--port"
    }

    var description: String {
        let address = "\(host):\(port)"
        switch errno {
        case 0:
            return "cannot listen on \(address): \(host) is neither an address nor a name that resolves (\(hostSetting))"
        case EADDRINUSE:
            return "cannot listen on \(address): another process is using that port; stop it or choose another (\(portSetting))"
        case EADDRNOTAVAIL:
            return "cannot listen on \(address): no network interface of this machine has that address (\(hostSetting))"
        default:
            return "cannot listen on \(address): permission denied; ports below 1024 need privileges, choose another (\(portSetting))"
        }
    }
}

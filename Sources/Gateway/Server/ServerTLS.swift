import Foundation
import NIOSSL

/// `server.tls` read at start into the TLS configuration the server listens with, so that a
/// missing, unreadable or mismatched file stops `deja serve` (and `deja config check`) with one
/// line naming it, rather than failing every connection later.
public enum ServerTLS {
    /// Reads and checks `files` as `deja serve` will (for `deja config check`).
    public static func check(_ files: TLSFiles) throws(ConfigurationError) {
        _ = try configuration(files)
    }

    static func configuration(_ files: TLSFiles) throws(ConfigurationError) -> TLSConfiguration {
        for (option, path) in [("cert_file", files.certFile), ("key_file", files.keyFile)]
        where !FileManager.default.isReadableFile(atPath: path) {
            let why = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw ConfigurationError(["server.tls.\(option): \(path) \(why)"])
        }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certFile)
        } catch {
            throw ConfigurationError(["server.tls.cert_file: \(files.certFile) holds no PEM certificate"])
        }
        guard !chain.isEmpty else {
            throw ConfigurationError(["server.tls.cert_file: \(files.certFile) holds no PEM certificate"])
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.keyFile, format: .pem)
        } catch {
            throw ConfigurationError(["server.tls.key_file: \(files.keyFile) holds no PEM private key (an encrypted key is not supported)"])
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigurationError([
                "server.tls.key_file: \(files.keyFile) is not the private key of the certificate in \(files.certFile)",
            ])
        }
        return configuration
    }
}

public import Foundation

/// A self-signed certificate for 127.0.0.1 and localhost, made with `openssl` (which Debian's
/// ca-certificates, installed by `make test`, brings), for tests of HTTPS.
public enum TestCertificate {
    /// Writes `name`.pem and `name`-key.pem into `dir` and returns their paths.
    public static func make(in dir: TemporaryDirectory, name: String = "cert") async throws -> (cert: String, key: String) {
        let cert = dir.path("\(name).pem")
        let key = dir.path("\(name)-key.pem")
        let status = try await onOwnThread { () throws -> Int32 in
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            openssl.arguments = [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ]
            openssl.standardOutput = FileHandle.nullDevice
            openssl.standardError = FileHandle.nullDevice
            try openssl.run()
            openssl.waitUntilExit()
            return openssl.terminationStatus
        }
        guard status == 0 else { throw RawHTTPConnection.Failure("openssl could not make a test certificate (is it installed?)") }
        return (cert, key)
    }
}

public import Embedding
import Foundation
public import SemanticCache

/// The certificate chain and private key of `server.tls`, PEM files; both empty: plain HTTP.
public struct TLSFiles: Codable, Sendable, Equatable {
    public var certFile: String
    public var keyFile: String

    public init(certFile: String = "", keyFile: String = "") {
        self.certFile = certFile
        self.keyFile = keyFile
    }

    public var isEnabled: Bool { !certFile.isEmpty && !keyFile.isEmpty }

    enum CodingKeys: String, CodingKey {
        case certFile = "cert_file", keyFile = "key_file"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        certFile = try c.decodeIfPresent(String.self, forKey: .certFile) ?? ""
        keyFile = try c.decodeIfPresent(String.self, forKey: .keyFile) ?? ""
    }
}

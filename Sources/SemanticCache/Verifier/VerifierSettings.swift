/// `cache.verifier`: whether hits are decided by a learned verifier, and which.
public struct VerifierSettings: Codable, Sendable, Equatable {
    /// Off: the cosine threshold and the guard's vetoes decide, as before the verifier.
    public var enabled: Bool
    /// A model file written by `deja tune --train`; empty: the model Deja ships for the embedder.
    public var model: String

    public init(enabled: Bool = true, model: String = "") {
        self.enabled = enabled
        self.model = model
    }

    enum CodingKeys: String, CodingKey { case enabled, model }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? ""
    }
}

import DejaSupport
import Foundation

/// How the cache decides whether a similar cached prompt may answer a new one.
public enum HitDecision: Sendable, Equatable {
    /// A learned verifier gives each candidate a probability; the most probable one is served
    /// when it reaches the threshold (a probability).
    case verifier(VerifierModel)
    /// The most similar candidate is served when its similarity reaches the threshold (a
    /// cosine) and the false-positive guard does not veto it: for an embedder without a
    /// verifier, or with `cache.verifier.enabled: false`.
    case cosine

    /// The threshold that applies when the configuration sets none: the verifier's own, or the
    /// cosine where each embedder's similarities separated paraphrases best on
    /// `fixtures/pairs.jsonl` (`deja tune --no-verifier`): MiniLM's cosines run higher than the
    /// hashing embedder's.
    public func defaultThreshold(embedder identity: String) -> Float {
        switch self {
        case .verifier(let model): Float(model.threshold)
        case .cosine: identity.hasPrefix("minilm") ? 0.87 : 0.80
        }
    }

    /// The verifier for an embedder: the model file `cache.verifier.model` names, else the one
    /// Deja ships for that embedder, else none (cosine, with `reason` saying why).
    ///
    /// - Throws: ``CacheError/invalidConfiguration(_:)`` when the named file is unreadable or was
    ///   trained with another embedder.
    public static func resolve(
        _ settings: VerifierSettings, embedder identity: String
    ) throws(CacheError) -> (decision: HitDecision, note: String?) {
        guard settings.enabled else { return (.cosine, nil) }
        if !settings.model.isEmpty {
            let model = try VerifierModel.load(path: settings.model)
            guard model.embedder == identity else {
                throw .invalidConfiguration([
                    "cache.verifier.model: \(settings.model) was trained with embedder \(model.embedder), but this cache uses "
                        + "\(identity); train one with deja tune PAIRS --train --output FILE"
                ])
            }
            return (.verifier(model), nil)
        }
        if let model = VerifierModel.builtIn.first(where: { $0.embedder == identity }) {
            return (.verifier(model), nil)
        }
        return (.cosine, "no verifier ships for embedder \(identity): hits are decided by the cosine threshold and the guard; "
            + "train one with deja tune PAIRS --train --output FILE and set cache.verifier.model")
    }
}

extension VerifierModel {
    /// The models Deja ships (`models/verifier-*.json`), compiled in.
    public static let builtIn: [VerifierModel] = builtInFiles.compactMap { file in
        try? JSONDecoder().decode(VerifierModel.self, from: Data(file.json.utf8))
    }
}

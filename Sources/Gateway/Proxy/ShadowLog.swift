import DejaSupport
import Foundation
import Logging

/// The verdicts of shadow mode, one JSON object per line in `cache.shadow_log`: what the cache
/// would have served each request and whether it agreed with the provider's answer. No prompt
/// or answer text, so the file holds nothing a log must not. `deja tune --shadow FILE` reads it.
///
/// `@unchecked Sendable`: `FileHandle` is not `Sendable`; the one it holds is used under its mutex only.
final class ShadowLog: @unchecked Sendable {
    struct Record: Codable, Sendable {
        /// `exact` (the exact request is cached), `semantic` (the live cache would have served a
        /// similar entry), `candidate` (the best candidate, which the live cache would not have
        /// served), `none` (nothing to compare).
        var kind: String
        var model: String
        var similarity: Float?
        var probability: Double?
        /// The threshold that applied, on the decision's scale.
        var threshold: Float
        var agree: Bool?
        var answerSimilarity: Float?
        var at: Double

        enum CodingKeys: String, CodingKey {
            case kind, model, similarity, probability, threshold, agree, answerSimilarity = "answer_similarity", at
        }
    }

    private let handle: Mutex<FileHandle?>
    private let path: String
    private let logger: Logger

    /// Opens (creating, mode 0600) the file to append to.
    init(path: String, logger: Logger) {
        if !FileManager.default.fileExists(atPath: path) {
            FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        let opened = FileHandle(forWritingAtPath: path)
        if opened == nil { logger.warning("cannot open the shadow log \(path) for writing; shadow verdicts are not kept") }
        handle = Mutex(opened)
        self.path = path
        self.logger = logger
    }

    /// Appends one line. Called from the background work that compares answers, never from a
    /// request's own path, so the write does not hold up an answer.
    func record(_ record: Record) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let line = try? encoder.encode(record) else { return }
        handle.withLock { handle in
            guard let handle else { return }
            do {
                try handle.seekToEnd()
                try handle.write(contentsOf: line + Data([0x0A]))
            } catch {
                logger.warning("cannot write to the shadow log \(path): \(error)")
            }
        }
    }
}

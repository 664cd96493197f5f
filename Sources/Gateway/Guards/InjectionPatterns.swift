import DejaSupport
import Foundation

/// The prompt-injection guard's data (`guards.injection.patterns`, `models/injection-patterns.json`):
/// phrase patterns by family with their weights, literal markers, and the weights of the
/// obfuscation signals. Data, so that it can be tuned without a rebuild.
///
/// A phrase pattern is words separated by spaces, matched on the normalised words of the text:
/// `a|b` either word, `word*` any word starting so, `slot?` optional, `~` up to three words of
/// anything, `~N` up to N.
public struct InjectionPatterns: Codable, Sendable, Equatable {
    public struct Phrase: Codable, Sendable, Equatable {
        public var family: String
        public var pattern: String
        public var weight: Double
    }

    public struct Literal: Codable, Sendable, Equatable {
        public var family: String
        /// Matched anywhere in the lower-cased text, `\n` standing for a line start.
        public var text: String
        public var weight: Double
    }

    public var version: Int
    public var phrases: [Phrase]
    public var literals: [Literal]
    /// `zero_width`, `bidi`, `homoglyph`, `leetspeak`, `spaced_letters`, `base64`, `hex`.
    public var signals: [String: Double]

    /// Reads and checks the file.
    /// - Throws: ``ConfigurationError``-style one-line messages naming the file and what is wrong.
    public static func load(_ path: String) throws -> InjectionPatterns {
        let text: String
        do {
            text = try TextFile.read(path)
        } catch {
            throw InjectionPatternsError("guards.injection.patterns: cannot read \(path): \(error)")
        }
        let patterns: InjectionPatterns
        do {
            patterns = try JSONDecoder().decode(InjectionPatterns.self, from: Data(text.utf8))
        } catch {
            throw InjectionPatternsError("guards.injection.patterns: \(path) is not a patterns file: \(error)")
        }
        if let problem = patterns.problem { throw InjectionPatternsError("guards.injection.patterns: \(path): \(problem)") }
        return patterns
    }

    var problem: String? {
        guard version == 1 else { return "version \(version) is not one this Deja reads (1)" }
        for p in phrases {
            if !(p.weight > 0 && p.weight <= 1) { return "the weight of '\(p.pattern)' must be above 0 and at most 1" }
            if PhrasePattern(p.pattern) == nil { return "'\(p.pattern)' is not a phrase pattern" }
        }
        for l in literals where !(l.weight > 0 && l.weight <= 1) || l.text.isEmpty {
            return "the literal '\(l.text)' needs text and a weight above 0 and at most 1"
        }
        for (name, w) in signals where !(w >= 0 && w <= 1) { return "the signal \(name)'s weight must be between 0 and 1" }
        return nil
    }
}

public struct InjectionPatternsError: Error, CustomStringConvertible {
    public let description: String
    init(_ message: String) { description = message }
}

public import DejaSupport
import Foundation
public import SemanticCache
public import VectorIndex

/// Seeded random JSON values, for tests that feed parsers and request handlers input nobody wrote
/// by hand.
public enum RandomJSON {
    /// Characters that need escaping, two-byte and four-byte UTF-8, and plain ASCII.
    static let characters: [Character] = Array("ab z/\\\"\u{0}\u{1f}\n\t\r\u{8}\u{c}é€😀Z9{}[],:")

    /// A value of any type; arrays and objects hold up to four members, nested up to `maxDepth`.
    public static func value(_ rng: inout SplitMix64, depth: Int = 0, maxDepth: Int = 4) -> JSONValue {
        let kinds = depth >= maxDepth ? 5 : 7
        switch Int.random(in: 0..<kinds, using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int(Int64.random(in: -1_000_000_000_000...1_000_000_000_000, using: &rng))
        case 3:
            // Finite; its shortest spelling reads back as the same Double.
            let mantissa = Double(Int.random(in: -1_000_000...1_000_000, using: &rng)) / 1_024
            return .double(mantissa * pow(10, Double(Int.random(in: -20...20, using: &rng))))
        case 4: return .string(string(&rng))
        case 5:
            return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in
                value(&rng, depth: depth + 1, maxDepth: maxDepth)
            })
        default:
            var object: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &rng) {
                object[string(&rng)] = value(&rng, depth: depth + 1, maxDepth: maxDepth)
            }
            return .object(object)
        }
    }

    /// Up to eight characters, escapes and multi-byte ones included.
    public static func string(_ rng: inout SplitMix64) -> String {
        String((0..<Int.random(in: 0...8, using: &rng)).map { _ in characters.randomElement(using: &rng)! })
    }
}

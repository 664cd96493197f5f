import DejaSupport
import Foundation
import SemanticCache
import Testing
import TestSupport
import VectorIndex

/// Every request body goes through ``JSONValue/parse(_:)-(Data)``, our own parser: a crash in it
/// on some malformed body would take the whole gateway down. These tests feed it seeded random
/// documents, written with random white space and escapes, and damaged copies of them.
@Suite("JSONValue on random input")
struct JSONValueFuzzTests {
    @Test("random documents, however written, parse to the value they were written from")
    func randomDocuments() throws {
        var rng = SplitMix64(seed: 20261130)
        for _ in 0..<2_000 {
            let value = RandomJSON.value(&rng)
            var text = ""
            Self.write(value, to: &text, &rng)
            let parsed = try JSONValue.parse(Data(text.utf8))
            #expect(parsed == value, "\(text)")
            #expect(try JSONValue.parse(parsed.jsonString) == value)
        }
    }

    /// Foundation's parser is the reference for what must be refused, though a lenient one: it
    /// takes trailing commas (`{"a":1,}`) and stops at a NUL byte (`8\0`), which we refuse. So
    /// the check is one way: nothing we accept may be refused by Foundation.
    @Test("damaged documents: never a crash, nothing accepted that Foundation refuses, what is accepted reads back as itself")
    func damagedDocuments() throws {
        var rng = SplitMix64(seed: 7)
        var refused = 0
        for _ in 0..<20_000 {
            var text = ""
            Self.write(RandomJSON.value(&rng), to: &text, &rng)
            var bytes = Array(text.utf8)
            for _ in 0..<Int.random(in: 1...3, using: &rng) { Self.damage(&bytes, &rng) }
            let data = Data(bytes)
            do {
                let value = try JSONValue.parse(data)
                #expect(try JSONValue.parse(value.jsonString) == value)
                if (try? JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed)) == nil {
                    let shown = String(decoding: data, as: UTF8.self).debugDescription
                    Issue.record("accepted what Foundation refuses: \(shown)")
                }
            } catch {
                refused += 1
                let printable = error.description.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
                #expect(printable, "\(error.description.debugDescription)")
            }
        }
        // The damage really damages: most inputs must be refused, or this tests nothing.
        #expect(refused > 10_000)
    }

    // MARK: - Generator

    /// Writes `value` as JSON with random white space and, for each character, a random choice
    /// among its spellings (itself where allowed, a short escape, `\u` in either case, or a
    /// surrogate pair).
    static func write(_ value: JSONValue, to out: inout String, _ rng: inout SplitMix64) {
        func space() {
            for _ in 0..<(Int.random(in: 0...3, using: &rng) == 0 ? Int.random(in: 1...2, using: &rng) : 0) {
                out.append([" ", "\n", "\t", "\r"].randomElement(using: &rng)!)
            }
        }
        space()
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            var s = "\(d)"
            if !s.contains(".") && !s.contains("e") { s += ".0" }
            out += Bool.random(using: &rng) ? s : s.uppercased()
        case .string(let s): writeString(s, to: &out, &rng)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, to: &out, &rng)
            }
            space()
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (key, item)) in members.enumerated() {
                if i > 0 { out += "," }
                space()
                writeString(key, to: &out, &rng)
                space()
                out += ":"
                write(item, to: &out, &rng)
            }
            space()
            out += "}"
        }
        space()
    }

    static func writeString(_ s: String, to out: inout String, _ rng: inout SplitMix64) {
        out += "\""
        for scalar in s.unicodeScalars {
            let short: [Unicode.Scalar: String] = ["\"": "\\\"", "\\": "\\\\", "/": "\\/", "\n": "\\n", "\t": "\\t",
                                                   "\r": "\\r", "\u{8}": "\\b", "\u{c}": "\\f"]
            let mustEscape = scalar == "\"" || scalar == "\\" || scalar.value < 0x20
            switch Int.random(in: 0..<3, using: &rng) {
            case 0 where !mustEscape: out.unicodeScalars.append(scalar)
            case 1 where short[scalar] != nil: out += short[scalar]!
            default:
                let units = Array(String(scalar).utf16)
                for unit in units {
                    let hex = String(unit, radix: 16)
                    let padded = String(repeating: "0", count: 4 - hex.count) + hex
                    out += "\\u" + (Bool.random(using: &rng) ? padded : padded.uppercased())
                }
            }
        }
        out += "\""
    }

    /// One random change: cut the end off, drop a byte, put a byte in, or swap two; half the time
    /// next to a bracket, comma, colon or quote, where the grammar's edge cases are ("[1,]").
    static func damage(_ bytes: inout [UInt8], _ rng: inout SplitMix64) {
        let inserts = Array("{}[],:\"\\-+.eE0123456789tfnu \u{0}".utf8) + [0xC3, 0xFF, 0xED]
        guard !bytes.isEmpty else { bytes.append(inserts.randomElement(using: &rng)!); return }
        let marks = Set("{}[],:\"".utf8)
        let structural = bytes.indices.filter { marks.contains(bytes[$0]) }
        let at = Bool.random(using: &rng)
            ? structural.randomElement(using: &rng) ?? 0 : Int.random(in: 0..<bytes.count, using: &rng)
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: bytes.removeSubrange(at...)
        case 1: bytes.remove(at: at)
        case 2: bytes.insert(inserts.randomElement(using: &rng)!, at: at)
        default: bytes.swapAt(at, Int.random(in: 0..<bytes.count, using: &rng))
        }
    }
}

import DejaSupport
import Foundation
import SemanticCache
import Testing

@Suite("JSONValue")
struct JSONValueTests {
    @Test("parses every JSON type and writes canonical JSON")
    func roundTrip() throws {
        let text = #" {"b": [1, -2.5, 3e2, true, false, null], "a": "x\"y\\z\n\u00e9\ud83d\ude00", "c": {}} "#
        let value = try JSONValue.parse(text)
        #expect(value["a"]?.stringValue == "x\"y\\z\né😀")
        #expect(value["b"]?.arrayValue?[0] == .int(1))
        #expect(value["b"]?.arrayValue?[1] == .double(-2.5))
        #expect(value["b"]?.arrayValue?[2] == .double(300))
        #expect(value.jsonString == #"{"a":"x\"y\\z\né😀","b":[1,-2.5,300.0,true,false,null],"c":{}}"#)
        #expect(try JSONValue.parse(value.jsonString) == value)
    }

    @Test("rejects malformed JSON with the offset", arguments: [
        "", "{", "{\"a\" 1}", "[1,]", "tru", "\"abc", "{\"a\":1} x", "01", "1.", "\"\\q\"", "\"\\ud800\"",
    ])
    func malformed(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test("bytes that are not UTF-8 are refused, not replaced", arguments: [
        [0xFF], [0xC3], [0xF0, 0x90, 0x80], [0xED, 0xA0, 0x80],  // a lone lead byte, truncated, a UTF-8 surrogate
    ] as [[UInt8]])
    func invalidUTF8(bytes: [UInt8]) throws {
        for prefix in ["\"", "\"a\\n"] {  // the fast path, and the one that copies escapes
            let data = Data(prefix.utf8) + Data(bytes) + Data("\"".utf8)
            #expect(throws: JSONParseError.self) { try JSONValue.parse(data) }
        }
        #expect(try JSONValue.parse(Data("\"\u{e9}\"".utf8)) == .string("é"))
    }

    @Test("deep nesting is refused instead of exhausting the stack")
    func depth() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
    }

    @Test("key order does not change the canonical form or the namespace")
    func canonical() throws {
        let a = try JSONValue.parse(#"{"x":1,"y":{"b":2,"a":1}}"#)
        let b = try JSONValue.parse(#"{"y":{"a":1,"b":2},"x":1}"#)
        #expect(a.canonicalData == b.canonicalData)
        let r1 = CacheRequest(model: "m", context: a, prompt: "p")
        let r2 = CacheRequest(model: "m", context: b, prompt: "p")
        #expect(r1.namespace(shared: false) == r2.namespace(shared: false))
        #expect(Glob.matches("acme/gpt-*", "acme/gpt-4o"))
        #expect(!Glob.matches("acme/gpt-*", "globex/gpt-4o"))
        #expect(Glob.matches("*/m?del", "x/model"))
    }
}

import Benchmark
import DejaSupport
import Foundation

/// The request bodies the gateway parses, read three ways: Deja's own parser (`JSONValue.parse`,
/// which keeps integers apart from floating-point numbers and every field it does not know),
/// Foundation's `JSONSerialization`, and `JSONDecoder` into a Decodable tree of the same shape.
/// The faster one is what the gateway should use.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 20, maxDuration: .seconds(3))
    let bodies: [(String, Data)] = [("small chat request", Bodies.smallChat), ("100 KB conversation", Bodies.conversation)]
    for (name, body) in bodies {
        Benchmark("JSONValue.parse, \(name)") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try JSONValue.parse(body)) }
        }
        Benchmark("JSONSerialization, \(name)") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try JSONSerialization.jsonObject(with: body)) }
        }
        Benchmark("JSONDecoder, \(name)") { benchmark in
            let decoder = JSONDecoder()
            for _ in benchmark.scaledIterations { blackHole(try decoder.decode(DecodedJSON.self, from: body)) }
        }
    }
}

/// Any JSON value through `Decodable`: what replacing `JSONValue.parse` with `JSONDecoder`
/// would read into.
enum DecodedJSON: Decodable {
    case null, bool(Bool), int(Int64), double(Double), string(String), array([DecodedJSON]), object([String: DecodedJSON])

    init(from decoder: any Decoder) throws {
        if var list = try? decoder.unkeyedContainer() {
            var items: [DecodedJSON] = []
            while !list.isAtEnd { items.append(try list.decode(DecodedJSON.self)) }
            self = .array(items)
        } else if let object = try? decoder.container(keyedBy: AnyKey.self) {
            var fields: [String: DecodedJSON] = [:]
            for key in object.allKeys { fields[key.stringValue] = try object.decode(DecodedJSON.self, forKey: key) }
            self = .object(fields)
        } else {
            let value = try decoder.singleValueContainer()
            if value.decodeNil() { self = .null }
            else if let b = try? value.decode(Bool.self) { self = .bool(b) }
            else if let i = try? value.decode(Int64.self) { self = .int(i) }
            else if let d = try? value.decode(Double.self) { self = .double(d) }
            else { self = .string(try value.decode(String.self)) }
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// Request bodies as clients send them.
enum Bodies {
    /// A one-question chat request with a system prompt and sampling parameters (about 300 bytes).
    static let smallChat = Data(#"""
    {"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant for Acme's support desk."},{"role":"user","content":"How do I reset my password if I no longer have access to my e-mail?"}],"temperature":0.2,"max_tokens":512,"stream":false}
    """#.utf8)

    /// A long conversation: alternating turns of a few hundred characters, about 100 KB.
    static let conversation: Data = {
        var messages: [String] = [#"{"role":"system","content":"You are a careful code reviewer. Answer with concrete suggestions."}"#]
        var i = 0
        while messages.joined().utf8.count < 100_000 {
            let text = "Turn \(i): here is the next part of the file, with a loop over the items, a dictionary of counts, "
                + "and a question about whether the \\\"cache\\\" should be invalidated when the configuration changes. "
                + "It also mentions numbers like 3.14159, 42 and 1e-6, and some unicode: caf\\u00e9, na\\u00efve."
            messages.append(#"{"role":"\#(i % 2 == 0 ? "user" : "assistant")","content":"\#(text)"}"#)
            i += 1
        }
        return Data(#"{"model":"gpt-4o","messages":[\#(messages.joined(separator: ","))],"temperature":0,"tools":[]}"#.utf8)
    }()
}

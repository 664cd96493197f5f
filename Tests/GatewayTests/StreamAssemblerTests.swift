@testable import Gateway
import DejaSupport
import SemanticCache
import Testing

@Suite("StreamAssembler and what is a complete answer")
struct StreamAssemblerTests {
    @Test("an answer that ends in a call it does not hold is not complete, so it is never cached")
    func callsMustBeThere() {
        func answer(_ message: JSONValue, finish: String) -> JSONValue {
            ["object": "chat.completion", "choices": [["index": 0, "message": message, "finish_reason": .string(finish)]]]
        }
        let call: JSONValue = ["id": "c1", "type": "function", "function": ["name": "lookup", "arguments": "{}"]]
        #expect(ProxyAPI.chat.isCompleteAnswer(answer(["role": "assistant", "content": .null, "tool_calls": [call]], finish: "tool_calls")))
        #expect(!ProxyAPI.chat.isCompleteAnswer(answer(["role": "assistant", "content": .null], finish: "tool_calls")))
        #expect(!ProxyAPI.chat.isCompleteAnswer(answer(["role": "assistant", "content": .null, "tool_calls": []], finish: "tool_calls")))
        #expect(ProxyAPI.chat.isCompleteAnswer(answer(["role": "assistant", "content": .null, "function_call": ["name": "lookup", "arguments": "{}"]], finish: "function_call")))
        #expect(!ProxyAPI.chat.isCompleteAnswer(answer(["role": "assistant", "content": .null], finish: "function_call")))
    }

    @Test("Azure's opening chunk does not blank the id, model or time of the assembled answer")
    func azureOpening() {
        var assembler = StreamAssembler(api: .chat)
        assembler.add(["id": "", "object": "", "created": 0, "model": "", "choices": [], "prompt_filter_results": []])
        assembler.add(["id": "chatcmpl-1", "created": 1_700_000_000, "model": "gpt-4o",
                       "choices": [["index": 0, "delta": ["role": "assistant", "content": "Hi"], "finish_reason": .null]]])
        assembler.add(["id": "chatcmpl-1", "created": 1_700_000_000, "model": "gpt-4o",
                       "choices": [["index": 0, "delta": [:], "finish_reason": "stop"]]])
        let answer = assembler.completion()
        #expect(answer?["id"] == "chatcmpl-1")
        #expect(answer?["model"] == "gpt-4o")
        #expect(answer?["created"] == 1_700_000_000)
        #expect(answer?["choices"]?.arrayValue?.first?["message"]?["content"] == "Hi")
    }

    @Test("a stream that opens with empty content and then only calls a tool assembles to content null")
    func callWithoutWords() {
        var assembler = StreamAssembler(api: .chat)
        assembler.add(["id": "c", "choices": [["index": 0, "delta": ["role": "assistant", "content": ""]]]])
        assembler.add(["id": "c", "choices": [["index": 0, "delta": ["tool_calls": [
            ["index": 0, "id": "call_1", "type": "function", "function": ["name": "lookup", "arguments": "{}"]]]]]]])
        assembler.add(["id": "c", "choices": [["index": 0, "delta": [:], "finish_reason": "tool_calls"]]])
        let message = assembler.completion()?["choices"]?.arrayValue?.first?["message"]
        #expect(message?["content"] == .null)
        #expect(message?["tool_calls"]?.arrayValue?.first?["function"]?["name"] == "lookup")
    }

    /// A stream whose chunks hold a number or an object where the words of the answer go is not
    /// an answer Deja understood: assembled without that piece, the cached answer would differ
    /// from what the client was shown.
    @Test("a piece of the wrong type anywhere in a stream makes it not cacheable", arguments: [
        ["choices", 0, "delta", "content"], ["choices", 0, "delta", "role"], ["choices", 0, "delta", "refusal"],
        ["choices", 0, "delta", "reasoning_content"], ["choices", 0, "delta"], ["choices", 0], ["choices"],
        ["choices", 0, "delta", "tool_calls"], ["choices", 0, "delta", "tool_calls", 0, "function", "arguments"],
        ["choices", 0, "delta", "tool_calls", 0, "function"],
        ["choices", 0, "delta", "function_call"], ["choices", 0, "finish_reason"],
    ] as [[PathPart]])
    func wrongTypes(path: [PathPart]) {
        let chunks: [JSONValue] = [
            ["id": "c", "choices": [["index": 0, "delta": ["role": "assistant", "content": "The answer", "refusal": "",
                                                              "reasoning_content": "thinking",
                                                              "tool_calls": [["index": 0, "function": ["name": "f", "arguments": "{}"]]],
                                                              "function_call": ["name": "g", "arguments": "{}"]],
                                     "finish_reason": .null]]],
            ["id": "c", "choices": [["index": 0, "delta": ["content": " is 4."], "finish_reason": "stop"]]],
        ]
        func assembled(_ chunks: [JSONValue]) -> JSONValue? {
            var assembler = StreamAssembler(api: .chat)
            for chunk in chunks { assembler.add(chunk) }
            return assembler.completion()
        }
        #expect(assembled(chunks)?["choices"]?.arrayValue?.first?["message"]?["content"] == "The answer is 4.")
        var damaged = chunks
        // The last chunk's finish_reason is the one that counts; every other path is in the first.
        let target = path.last == .key("finish_reason") ? 1 : 0
        damaged[target] = Self.replacing(path[...], in: chunks[target], with: 42)
        #expect(assembled(damaged) == nil, "\(damaged[target].jsonString)")
    }

    enum PathPart: Hashable, Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, CustomTestStringConvertible {
        case key(String)
        case index(Int)
        init(stringLiteral value: String) { self = .key(value) }
        init(integerLiteral value: Int) { self = .index(value) }
        var testDescription: String {
            switch self {
            case .key(let k): return k
            case .index(let i): return String(i)
            }
        }
    }

    static func replacing(_ path: ArraySlice<PathPart>, in value: JSONValue, with new: JSONValue) -> JSONValue {
        guard let step = path.first else { return new }
        switch (step, value) {
        case (.key(let k), .object(var members)):
            members[k] = replacing(path.dropFirst(), in: members[k] ?? .null, with: new)
            return .object(members)
        case (.index(let i), .array(var items)):
            items[i] = replacing(path.dropFirst(), in: items[i], with: new)
            return .array(items)
        default:
            return value
        }
    }
}

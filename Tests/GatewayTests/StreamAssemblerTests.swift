@testable import Gateway
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
        #expect(Gateway.isCompleteAnswer(answer(["role": "assistant", "content": .null, "tool_calls": [call]], finish: "tool_calls"), api: .chat))
        #expect(!Gateway.isCompleteAnswer(answer(["role": "assistant", "content": .null], finish: "tool_calls"), api: .chat))
        #expect(!Gateway.isCompleteAnswer(answer(["role": "assistant", "content": .null, "tool_calls": []], finish: "tool_calls"), api: .chat))
        #expect(Gateway.isCompleteAnswer(
            answer(["role": "assistant", "content": .null, "function_call": ["name": "lookup", "arguments": "{}"]], finish: "function_call"),
            api: .chat))
        #expect(!Gateway.isCompleteAnswer(answer(["role": "assistant", "content": .null], finish: "function_call"), api: .chat))
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
}

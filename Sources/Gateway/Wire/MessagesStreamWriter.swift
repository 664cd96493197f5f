import DejaSupport
import Foundation
import Hummingbird
import NIOCore

/// Writes a chat completion event stream (a miss passed on, or a hit replayed) as Anthropic's
/// Messages event stream: `message_start`, a content block per text or tool call with its
/// deltas, `message_delta` with the stop reason and usage, `message_stop`.
struct MessagesStreamWriter: ResponseBodyWriter {
    var inner: any ResponseBodyWriter
    private var parser = ServerSentEvents.Parser()
    private var started = false
    /// The open content block's index and whether it is text (`nil`: none open).
    private var open: (index: Int, text: Bool)?
    private var next = 0
    private var toolBlocks: [Int: Int] = [:]
    private var stop: JSONValue = .null
    private var usage: JSONValue?
    private var ended = false

    init(_ inner: any ResponseBodyWriter) {
        self.inner = inner
    }

    @concurrent mutating func write(_ buffer: ByteBuffer) async throws {
        var out = ByteBuffer()
        for payload in parser.feed(buffer.readableBytesView) { translate(payload, into: &out) }
        if out.readableBytes > 0 { try await inner.write(out) }
    }

    @concurrent consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        var out = ByteBuffer()
        if !ended { translate("[DONE]", into: &out) }
        if out.readableBytes > 0 { try await inner.write(out) }
        try await inner.finish(trailingHeaders)
    }

    private mutating func translate(_ payload: String, into out: inout ByteBuffer) {
        func emit(_ name: String, _ value: JSONValue) {
            var event = ServerSentEvents.event(value, name: name)
            out.writeBuffer(&event)
        }
        if payload == "[DONE]" {
            guard started, !ended else { return }
            closeBlock(emit)
            emit("message_delta", [
                "type": "message_delta", "delta": ["stop_reason": stop, "stop_sequence": .null],
                "usage": ["output_tokens": .int(Int64(usage?["completion_tokens"]?.intValue ?? 0))],
            ])
            emit("message_stop", ["type": "message_stop"])
            ended = true
            return
        }
        guard let chunk = try? JSONValue.parse(payload) else { return }
        if let error = chunk["error"] {
            emit("error", ["type": "error", "error": ["type": "api_error", "message": error["message"] ?? "the stream failed"]])
            ended = true
            return
        }
        if !started {
            started = true
            emit("message_start", ["type": "message_start", "message": [
                "id": chunk["id"] ?? "", "type": "message", "role": "assistant", "model": chunk["model"] ?? "", "content": [],
                "stop_reason": .null, "stop_sequence": .null, "usage": ["input_tokens": 0, "output_tokens": 0],
            ]])
        }
        if let u = chunk["usage"], !u.isNull { usage = u }
        guard let choice = chunk["choices"]?.arrayValue?.first else { return }
        let delta = choice["delta"]
        if let text = delta?["content"]?.stringValue, !text.isEmpty {
            if open?.text != true {
                closeBlock(emit)
                open = (next, true)
                emit("content_block_start", ["type": "content_block_start", "index": .int(Int64(next)), "content_block": ["type": "text", "text": ""]])
                next += 1
            }
            emit("content_block_delta", ["type": "content_block_delta", "index": .int(Int64(open!.index)),
                                         "delta": ["type": "text_delta", "text": .string(text)]])
        }
        for call in delta?["tool_calls"]?.arrayValue ?? [] {
            let callIndex = call["index"]?.intValue ?? 0
            if toolBlocks[callIndex] == nil {
                closeBlock(emit)
                toolBlocks[callIndex] = next
                open = (next, false)
                emit("content_block_start", ["type": "content_block_start", "index": .int(Int64(next)), "content_block": [
                    "type": "tool_use", "id": call["id"] ?? "", "name": call["function"]?["name"] ?? "", "input": [:],
                ]])
                next += 1
            }
            if let json = call["function"]?["arguments"]?.stringValue, !json.isEmpty {
                emit("content_block_delta", ["type": "content_block_delta", "index": .int(Int64(toolBlocks[callIndex]!)),
                                             "delta": ["type": "input_json_delta", "partial_json": .string(json)]])
            }
        }
        if let finish = choice["finish_reason"]?.stringValue { stop = AnthropicWire.stopReason(finish) }
    }

    private mutating func closeBlock(_ emit: (String, JSONValue) -> Void) {
        guard let block = open else { return }
        emit("content_block_stop", ["type": "content_block_stop", "index": .int(Int64(block.index))])
        open = nil
    }
}

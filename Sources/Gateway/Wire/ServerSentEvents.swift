public import DejaSupport
import Foundation
public import NIOCore
import NIOFoundationEssentialsCompat
public import SemanticCache

/// Server-sent events as the OpenAI streaming API uses them: `data: <json>\n\n` per event and a
/// final `data: [DONE]\n\n`.
public enum ServerSentEvents {
    public static let done = ByteBuffer(string: "data: [DONE]\n\n")

    /// One event; `name` adds an `event:` line (the Responses API names each event by its type).
    public static func event(_ value: JSONValue, name: String? = nil) -> ByteBuffer {
        var buffer = ByteBuffer()
        if let name { buffer.writeString("event: \(name)\n") }
        buffer.writeString("data: ")
        buffer.writeBytes(value.canonicalData)
        buffer.writeString("\n\n")
        return buffer
    }

    /// One event of a payload as it came (`[DONE]`, or JSON text), written again. A payload of
    /// several lines becomes several `data:` lines.
    public static func data(_ payload: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        for line in payload.split(separator: "\n", omittingEmptySubsequences: false) {
            buffer.writeString("data: ")
            buffer.writeSubstring(line)
            buffer.writeString("\n")
        }
        buffer.writeString("\n")
        return buffer
    }

    /// An `error` event for a stream that already started, so a client learns why it ended.
    public static func error(_ error: OpenAIError) -> ByteBuffer {
        event(error.body)
    }

    /// Splits a stream of bytes into the `data:` payloads of complete events. Feed it chunks as they
    /// arrive; it keeps an incomplete event until the rest comes.
    public struct Parser {
        private var pending: [UInt8] = []

        public init() {}

        /// The payloads of the events completed by `chunk`: each event's `data:` lines joined by
        /// newlines. Lines may end in `\n` or `\r\n`; a blank line ends an event; other fields
        /// (`event:`, `id:`, comments) are skipped.
        ///
        /// Works on bytes, not `String` lines: it runs on every chunk of every streamed miss, and
        /// splitting strings by `Character` was a tenth of the gateway's time there.
        public mutating func feed(_ chunk: some Sequence<UInt8>) -> [String] {
            pending.append(contentsOf: chunk)
            var payloads: [String] = []
            var data: [UInt8] = []
            var hasData = false
            var consumed = 0  // bytes of complete events
            var lineStart = 0
            let count = pending.count
            pending.withUnsafeBufferPointer { bytes in
                while lineStart < count {
                    var newline = lineStart
                    while newline < count && bytes[newline] != 0x0A { newline += 1 }
                    guard newline < count else { break }
                    var lineEnd = newline
                    if lineEnd > lineStart && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                    if lineEnd == lineStart {
                        if hasData { payloads.append(String(decoding: data, as: UTF8.self)) }
                        data.removeAll(keepingCapacity: true)
                        hasData = false
                        consumed = newline + 1
                    } else if lineEnd - lineStart >= 5 && bytes[lineStart] == 0x64 && bytes[lineStart + 1] == 0x61
                        && bytes[lineStart + 2] == 0x74 && bytes[lineStart + 3] == 0x61 && bytes[lineStart + 4] == 0x3A
                    {  // "data:"
                        var value = lineStart + 5
                        if value < lineEnd && bytes[value] == 0x20 { value += 1 }
                        if hasData { data.append(0x0A) }
                        data.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[value..<lineEnd]))
                        hasData = true
                    }
                    lineStart = newline + 1
                }
            }
            // An unfinished event stays, to be read again whole when its end arrives.
            pending.removeFirst(consumed)
            return payloads
        }

        /// Whether bytes of an unfinished event are waiting.
        public var hasPartialEvent: Bool {
            !pending.allSatisfy { $0 == 0x0A || $0 == 0x0D || $0 == 0x20 }
        }
    }
}

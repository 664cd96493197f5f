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

    /// An `error` event for a stream that already started, so a client learns why it ended.
    public static func error(_ error: OpenAIError) -> ByteBuffer {
        event(error.body)
    }

    /// Splits a stream of bytes into the `data:` payloads of complete events. Feed it chunks as they
    /// arrive; it keeps an incomplete event until the rest comes.
    public struct Parser {
        private var pending: [UInt8] = []

        public init() {}

        /// The payloads of the events completed by `chunk`.
        public mutating func feed(_ chunk: some Sequence<UInt8>) -> [String] {
            pending.append(contentsOf: chunk)
            var payloads: [String] = []
            while let end = Self.eventEnd(in: pending) {
                let event = String(decoding: pending[0..<end.start], as: UTF8.self)
                pending.removeFirst(end.end)
                var data: [Substring] = []
                for line in event.split(separator: "\n", omittingEmptySubsequences: false) {
                    let line = line.hasSuffix("\r") ? line.dropLast() : line
                    if line.hasPrefix("data:") {
                        var value = line.dropFirst(5)
                        if value.first == " " { value = value.dropFirst() }
                        data.append(value)
                    }
                }
                if !data.isEmpty { payloads.append(data.joined(separator: "\n")) }
            }
            return payloads
        }

        /// Whether bytes of an unfinished event are waiting.
        public var hasPartialEvent: Bool {
            !pending.allSatisfy { $0 == 0x0A || $0 == 0x0D || $0 == 0x20 }
        }

        private static func eventEnd(in bytes: [UInt8]) -> (start: Int, end: Int)? {
            var i = 0
            while i + 1 < bytes.count {
                if bytes[i] == 0x0A && bytes[i + 1] == 0x0A { return (i, i + 2) }
                if i + 3 < bytes.count && bytes[i] == 0x0D && bytes[i + 1] == 0x0A && bytes[i + 2] == 0x0D
                    && bytes[i + 3] == 0x0A
                {
                    return (i, i + 4)
                }
                i += 1
            }
            return nil
        }
    }
}

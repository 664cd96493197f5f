import Gateway
import Testing

@Suite("Server-sent events parser")
struct ServerSentEventsTests {
    static let stream = Array((
        ": a comment\n"
        + "data: {\"a\":1}\n\n"
        + "event: response.created\r\ndata: {\"b\":2}\r\n\r\n"
        + "data: first line\ndata:second line\nid: 7\n\n"
        + "data: é😀\n\n"
        + "event: ping\n\n"  // no data: no payload
        + "data: [DONE]\n\n"
        + "data: unfinished"
    ).utf8)

    static let expected = [#"{"a":1}"#, #"{"b":2}"#, "first line\nsecond line", "é😀", "[DONE]"]

    @Test("payloads of complete events, however the bytes are cut into chunks")
    func chunks() {
        for size in [Self.stream.count, 1, 2, 3, 7, 16] {
            var parser = ServerSentEvents.Parser()
            var payloads: [String] = []
            var at = 0
            while at < Self.stream.count {
                payloads += parser.feed(Self.stream[at..<min(at + size, Self.stream.count)])
                at += size
            }
            #expect(payloads == Self.expected, "chunks of \(size) bytes")
            #expect(parser.hasPartialEvent, "the unfinished event waits")
            #expect(parser.feed(Array("\n\n".utf8)) == ["unfinished"])
            #expect(!parser.hasPartialEvent)
        }
    }
}

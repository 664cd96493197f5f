import DejaSupport
@testable import Gateway
import Testing
import VectorIndex

/// Redaction of streamed text: the client never receives a value in pieces, wherever the
/// stream is cut, and the result is the same as the whole text's.
@Suite("Stream redaction")
struct StreamRedactorTests {
    static let guards = DataGuard(GuardsConfiguration(dlp: DLPConfiguration(prompt: .redact, answer: .redact)))

    static let text = """
        Card 4111 1111 1111 1111, mail jane.doe@example.com, key sk-proj-abcdefghijklmnopqrstuvwx1234, \
        IBAN GB82 WEST 1234 5698 7654 32 and +44 20 7946 0958. -----BEGIN PRIVATE KEY-----
        MIIEvQIBADANBgkqhkiG9w0BAQEFAASC
        -----END PRIVATE KEY----- fin
        """

    static func whole(_ text: String) -> String {
        var r = Redactions(reversible: false)
        return (try? guards.screen(text, .answer, model: "m", &r)) ?? text
    }

    static func streamed(_ pieces: [String]) throws -> (String, [String]) {
        var redactor = StreamRedactor()
        var r = Redactions(reversible: false)
        var sent: [String] = []
        for p in pieces { sent.append(try redactor.feed(p, guards, model: "m", &r)) }
        sent.append(try redactor.finish(guards, model: "m", &r))
        return (sent.joined(), sent)
    }

    @Test("a text cut in two at every byte offset redacts as the whole does, and no piece sent holds a value's digits")
    func everyOffset() throws {
        let expected = Self.whole(Self.text)
        #expect(expected.contains("[CARD]") && expected.contains("[EMAIL]") && expected.contains("[SECRET]") && expected.contains("[IBAN]"))
        #expect(expected.contains("[PHONE]") && !expected.contains("MIIEv"))
        let bytes = Array(Self.text.utf8)
        for cut in 1..<bytes.count {
            let pieces = [String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self)]
            let (joined, sent) = try Self.streamed(pieces)
            #expect(joined == expected, "cut at \(cut)")
            for piece in sent {
                #expect(!piece.contains("4111") && !piece.contains("jane") && !piece.contains("abcdefgh") && !piece.contains("7946"),
                        "cut at \(cut) sent \(piece)")
            }
        }
    }

    @Test("token by token (one to four bytes a chunk), as providers stream")
    func tokens() throws {
        let bytes = Array(Self.text.utf8)
        var generator = SplitMix64(seed: 7)
        for _ in 0..<50 {
            var pieces: [String] = []
            var i = 0
            while i < bytes.count {
                let n = min(bytes.count - i, 1 + Int(generator.next() % 4))
                pieces.append(String(decoding: bytes[i..<(i + n)], as: UTF8.self))
                i += n
            }
            #expect(try Self.streamed(pieces).0 == Self.whole(Self.text))
        }
    }

    @Test("the hold-back is bounded: a run without an end is decided at max_hold_bytes")
    func bounded() throws {
        var redactor = StreamRedactor()
        var r = Redactions(reversible: false)
        let word = String(repeating: "a", count: 100)
        var sentBytes = 0
        for _ in 0..<200 { sentBytes += try redactor.feed(word, Self.guards, model: "m", &r).utf8.count }
        #expect(sentBytes >= 200 * 100 - Self.guards.configuration.maxHoldBytes)
    }

    @Test("placeholders split across chunks are put back")
    func restorer() {
        var redactions = Redactions(reversible: true)
        let placeholder = redactions.placeholder(for: "jane@example.com", word: "EMAIL")
        #expect(placeholder == "[EMAIL_1]")
        #expect(redactions.placeholder(for: "jane@example.com", word: "EMAIL") == "[EMAIL_1]")
        #expect(redactions.placeholder(for: "bob@example.com", word: "EMAIL") == "[EMAIL_2]")
        let answer = "Write to [EMAIL_1] and [EMAIL_2], not [EMAIL_3] or [x."
        let bytes = Array(answer.utf8)
        for cut in 1..<bytes.count {
            var restorer = PlaceholderRestorer()
            let out = restorer.feed(String(decoding: bytes[..<cut], as: UTF8.self), redactions)
                + restorer.feed(String(decoding: bytes[cut...], as: UTF8.self), redactions) + restorer.finish(redactions)
            #expect(out == "Write to jane@example.com and bob@example.com, not [EMAIL_3] or [x.", "cut at \(cut)")
        }
    }
}

import DejaSupport
@testable import Gateway
import Testing

/// The built-in DLP detectors, each on values it must find and look-alikes it must leave alone.
@Suite("PII scanner")
struct PIIScannerTests {
    static let all = PIIScanner(PIIDetector.allCases)

    /// The values found in `text`, as (detector, text).
    static func found(_ text: String, scanner: PIIScanner = all) -> [(String, String)] {
        var matches: [PIIMatch] = []
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBufferPointer { scanner.scan($0, final: true, into: &matches) }
        return matches.map { (PIIDetector(rawValue: $0.detector)!.name, String(decoding: bytes[$0.start..<$0.end], as: UTF8.self)) }
    }

    static let positives: [(String, String, String)] = [
        ("email", "write to jane.doe+news@example.co.uk today", "jane.doe+news@example.co.uk"),
        ("email", "(bob_smith@mail-server.example.org)", "bob_smith@mail-server.example.org"),
        ("phone", "call +1 415 555 2671 now", "+1 415 555 2671"),
        ("phone", "call +44 20 7946 0958.", "+44 20 7946 0958"),
        ("phone", "tel: (415) 555-2671", "(415) 555-2671"),
        ("phone", "us 415-555-2671 or", "415-555-2671"),
        ("phone", "us 415.555.2671 or", "415.555.2671"),
        ("phone", "dial 1-800-555-0199", "1-800-555-0199"),
        ("phone", "uk 020 7946 0958", "020 7946 0958"),
        ("phone", "fr 01 23 45 67 89", "01 23 45 67 89"),
        ("phone", "de 030 12345678", "030 12345678"),
        ("phone", "intl +4930123456789", "+4930123456789"),
        ("card", "visa 4111 1111 1111 1111 exp", "4111 1111 1111 1111"),
        ("card", "mc 5555-5555-5555-4444", "5555-5555-5555-4444"),
        ("card", "amex 378282246310005", "378282246310005"),
        ("card", "amex 3782 822463 10005", "3782 822463 10005"),
        ("iban", "pay DE89370400440532013000 now", "DE89370400440532013000"),
        ("iban", "pay GB82 WEST 1234 5698 7654 32.", "GB82 WEST 1234 5698 7654 32"),
        ("iban", "FR1420041010050500013M02606", "FR1420041010050500013M02606"),
        ("ssn", "ssn 123-45-6789 on file", "123-45-6789"),
        ("ssn", "ssn 123 45 6789", "123 45 6789"),
        ("ip", "host 192.168.1.20:8080", "192.168.1.20"),
        ("ip", "v6 2001:db8::8a2e:370:7334 end", "2001:db8::8a2e:370:7334"),
        ("ip", "loopback ::1 ok", "::1"),
        ("ip", "mapped ::ffff:192.0.2.128.", "::ffff:192.0.2.128"),
        ("ip", "full fe80:0:0:0:202:b3ff:fe1e:8329", "fe80:0:0:0:202:b3ff:fe1e:8329"),
        ("secret", "key sk-proj-abcdefghijklmnopqrstuvwx1234 here", "sk-proj-abcdefghijklmnopqrstuvwx1234"),
        ("secret", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789AB", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789AB"),
        ("secret", "aws AKIAIOSFODNN7EXAMPLE ok", "AKIAIOSFODNN7EXAMPLE"),
        ("secret", "gh ghp_abcdefghijklmnopqrstuvwxyz0123456789 ok", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
        ("secret", "github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyz", "github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyz"),
        ("secret", "slack xoxb-123456789012-abcdefghij", "xoxb-123456789012-abcdefghij"),
        ("secret", "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok",
         "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
        ("secret", "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY----- done",
         "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----"),
        ("secret", "deja dj-0123456789abcdefghijklmnopqrstuvwxyzABCDEFG", "dj-0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"),
    ]

    @Test("each detector finds its values in sentences", arguments: 0..<positives.count)
    func positive(_ i: Int) {
        let (detector, text, value) = Self.positives[i]
        let found = Self.found(text)
        #expect(found.count == 1 && found.first?.0 == detector && found.first?.1 == value, "\(text): \(found)")
    }

    static let negatives = [
        "card-like 4111 1111 1111 1112 fails Luhn",
        "order number 1234567890123 shipped",
        "tracking 9400111899223856928499",
        "version 1.2.3 and v2.31.0-beta and 10.0.19041.1",
        "dates 2024-01-15 and 12/25/2024 at 10:30:45",
        "IBAN-like DE89370400440532013001 fails mod 97",
        "ssn-like 000-12-3456 and 666-12-3456 and 900-12-3456",
        "code: user@localhost and @Published var and name@2x.png",
        "math 3.14159 and 2+2=4 and 1,000,000 people",
        "std::vector<int> and Foo::bar and a:b:c",
        "times 12:30 and ratio 16:9",
        "sk-short and AKIA123 and ghp_short",
        "a hex digest deadbeefcafebabe0123456789abcdef",
        "the year 1999 and 20 apples",
        "price 415 555 and extension 2671",
    ]

    @Test("look-alikes are left alone", arguments: negatives)
    func negative(_ text: String) {
        #expect(Self.found(text).isEmpty, "\(Self.found(text))")
    }

    @Test("a detector that is off finds nothing")
    func disabled() {
        #expect(Self.found("mail a@b.com", scanner: PIIScanner([.card])).isEmpty)
        #expect(Self.found("mail a@b.com 4111111111111111", scanner: PIIScanner([.card])).map(\.0) == ["card"])
    }

    @Test("non-ASCII text around values, and invalid positions, do not confuse the byte scanner")
    func unicode() {
        #expect(Self.found("courriel : élodie@exemple.fr — merci").map(\.1) == ["odie@exemple.fr"] || Self.found("courriel : élodie@exemple.fr").count == 1)
        #expect(Self.found("電話 +81 3 1234 5678 です").map(\.1) == ["+81 3 1234 5678"])
    }

    @Test("custom patterns are placed by UTF-8 offset after non-ASCII text")
    func customAfterUnicode() throws {
        let g = DataGuard(GuardsConfiguration(dlp: DLPConfiguration(prompt: .redact, custom: [CustomDetector(name: "emp", pattern: "EMP-[0-9]{6}")])))
        #expect(try g.screened("Réf 😀 EMP-123456 ok", .prompt) == "Réf 😀 [EMP] ok")
    }
}

/// The detectors Deja ships (`guards.dlp.detectors`), each recognised by a hand-written scanner
/// over UTF-8 bytes (``PIIScanner``) and, where the value has one, checked by its checksum.
public enum PIIDetector: Int, CaseIterable, Sendable {
    /// `name@domain.tld`.
    case email
    /// International (`+` and 8 to 15 digits) and common national formats (US, UK, FR, DE).
    case phone
    /// 13 to 19 digits with a card network's first digit that pass the Luhn check.
    case card
    /// An IBAN of a country's registered length that passes the mod-97 check.
    case iban
    /// A US social security number, `123-45-6789` or `123 45 6789`, without the never-issued ranges.
    case ssn
    /// IPv4 and IPv6 addresses.
    case ip
    /// API keys and tokens of known shapes, JWTs and PEM private key blocks.
    case secret

    /// The name in the configuration and in metrics.
    public var name: String {
        switch self {
        case .email: "email"
        case .phone: "phone"
        case .card: "card"
        case .iban: "iban"
        case .ssn: "ssn"
        case .ip: "ip"
        case .secret: "secret"
        }
    }

    /// What replaces a value when it is redacted: `[EMAIL]` (or `[EMAIL_1]` when reversible).
    public var placeholder: String { name.uppercased() }

    /// The value's kind in a sentence, for errors that must name it without showing it.
    public var description: String {
        switch self {
        case .email: "an e-mail address"
        case .phone: "a phone number"
        case .card: "a payment card number"
        case .iban: "an IBAN"
        case .ssn: "a US social security number"
        case .ip: "an IP address"
        case .secret: "a secret (an API key, token or private key)"
        }
    }

    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = found
    }
}

/// The check digits that tell a real IBAN from a string that only looks like one (the Luhn check
/// of card numbers is in ``PIIScanner/luhn(_:)``, on the digits as they are scanned).
enum Checksums {
    /// ISO 13616's mod-97 check of an IBAN given as uppercase letters and digits (spaces skipped):
    /// the first four characters moved to the end, letters as 10...35, the number mod 97 is 1.
    static func ibanValid(_ chars: [UInt8]) -> Bool {
        guard chars.count >= 5 else { return false }
        var remainder = 0
        for b in chars[4...] + chars[..<4] {
            switch b {
            case 0x30...0x39: remainder = (remainder * 10 + Int(b - 0x30)) % 97
            case 0x41...0x5A: remainder = (remainder * 100 + Int(b - 0x41 + 10)) % 97
            default: return false
            }
        }
        return remainder == 1
    }

    /// IBAN lengths by country (the SWIFT IBAN registry): a length that does not match is no IBAN.
    static let ibanLengths: [UInt16: Int] = {
        let table = """
            AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 DO28 EE20 EG29 ES24 \
            FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HN28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 \
            LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 \
            RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30
            """
        var lengths: [UInt16: Int] = [:]
        for entry in table.split(separator: " ") {
            let bytes = Array(entry.utf8)
            lengths[UInt16(bytes[0]) << 8 | UInt16(bytes[1])] = Int(bytes[2] - 0x30) * 10 + Int(bytes[3] - 0x30)
        }
        return lengths
    }()
}

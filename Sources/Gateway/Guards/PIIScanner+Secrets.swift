extension PIIScanner {
    /// Key and token shapes: a fixed prefix and a body of at least some length.
    struct SecretShape {
        var prefix: [UInt8]
        var minimum: Int
        /// The body's exact length, when the shape has one.
        var exact: Int? = nil
        var alphabet: Alphabet = .token

        enum Alphabet { case token, alphanumeric, upperOrDigit, wordChars }

        func allows(_ c: UInt8) -> Bool {
            switch alphabet {
            case .token: ASCII.isToken(c)
            case .alphanumeric: ASCII.isAlnum(c)
            case .upperOrDigit: ASCII.isUpper(c) || ASCII.isDigit(c)
            case .wordChars: ASCII.isWord(c)
            }
        }
    }

    /// Longest prefixes first, so `sk-ant-` is tried before `sk-`.
    static let secretShapes: [SecretShape] = [
        SecretShape(prefix: Array("sk-ant-".utf8), minimum: 32),
        SecretShape(prefix: Array("sk-".utf8), minimum: 20),
        SecretShape(prefix: Array("sk_live_".utf8), minimum: 16, alphabet: .alphanumeric),
        SecretShape(prefix: Array("sk_test_".utf8), minimum: 16, alphabet: .alphanumeric),
        SecretShape(prefix: Array("rk_live_".utf8), minimum: 16, alphabet: .alphanumeric),
        SecretShape(prefix: Array("AKIA".utf8), minimum: 16, exact: 16, alphabet: .upperOrDigit),
        SecretShape(prefix: Array("ASIA".utf8), minimum: 16, exact: 16, alphabet: .upperOrDigit),
        SecretShape(prefix: Array("AIza".utf8), minimum: 35, exact: 35),
        SecretShape(prefix: Array("github_pat_".utf8), minimum: 22, alphabet: .wordChars),
        SecretShape(prefix: Array("ghp_".utf8), minimum: 36, alphabet: .alphanumeric),
        SecretShape(prefix: Array("gho_".utf8), minimum: 36, alphabet: .alphanumeric),
        SecretShape(prefix: Array("ghu_".utf8), minimum: 36, alphabet: .alphanumeric),
        SecretShape(prefix: Array("ghs_".utf8), minimum: 36, alphabet: .alphanumeric),
        SecretShape(prefix: Array("ghr_".utf8), minimum: 36, alphabet: .alphanumeric),
        SecretShape(prefix: Array("xoxb-".utf8), minimum: 10),
        SecretShape(prefix: Array("xoxp-".utf8), minimum: 10),
        SecretShape(prefix: Array("xoxa-".utf8), minimum: 10),
        SecretShape(prefix: Array("xoxo-".utf8), minimum: 10),
        SecretShape(prefix: Array("xoxs-".utf8), minimum: 10),
        SecretShape(prefix: Array("xoxr-".utf8), minimum: 10),
        // Deja's own virtual keys.
        SecretShape(prefix: Array("dj-".utf8), minimum: 43, exact: 43, alphabet: .alphanumeric),
    ]

    /// Shapes by their first byte.
    static let shapesByFirstByte: [[SecretShape]] = {
        var table = [[SecretShape]](repeating: [], count: 128)
        for shape in secretShapes { table[Int(shape.prefix[0])].append(shape) }
        return table
    }()

    /// A secret starting at `i`: a key of a known shape, a JWT or a PEM private key block.
    static func secret(_ b: UnsafeBufferPointer<UInt8>, at i: Int, final: Bool) -> Found {
        let c = b[i]
        if c == 0x2D { return pemPrivateKey(b, at: i, final: final) }
        if c == 0x65, let end = jwt(b, at: i) { return .value(end: end, .secret) }
        let n = b.count
        for shape in shapesByFirstByte[Int(c)] where hasPrefix(b, at: i, shape.prefix) {
            var j = i + shape.prefix.count
            while j < n && shape.allows(b[j]) { j += 1 }
            let length = j - i - shape.prefix.count
            guard length >= shape.minimum, shape.exact.map({ $0 == length }) ?? true else { continue }
            guard j == n || !ASCII.isToken(b[j]) else { continue }
            return .value(end: j, .secret)
        }
        return .none
    }

    /// `eyJ…` `.` `eyJ…`-like `.` signature: three base64url parts, the first two of 10 or more.
    static func jwt(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> Int? {
        let n = b.count
        guard i + 3 <= n, b[i + 1] == 0x79, b[i + 2] == 0x4A else { return nil }
        var j = i
        for part in 0..<3 {
            let start = j
            while j < n && (ASCII.isWord(b[j]) || b[j] == 0x2D) { j += 1 }
            if part < 2 {
                guard j - start >= 10, j < n, b[j] == 0x2E else { return nil }
                j += 1
            }
        }
        guard j == n || !(ASCII.isToken(b[j]) || b[j] == 0x2E) else { return nil }
        return j
    }

    static let pemBegin = Array("-----BEGIN ".utf8)
    static let pemEnd = Array("-----END ".utf8)
    static let pemDashes = Array("-----".utf8)
    static let privateKeyLabel = Array("PRIVATE KEY-----".utf8)

    /// `-----BEGIN … PRIVATE KEY-----` to its `-----END … PRIVATE KEY-----`. Without the end
    /// line, the rest of the text (`final`) or undecided (more may follow).
    static func pemPrivateKey(_ b: UnsafeBufferPointer<UInt8>, at i: Int, final: Bool) -> Found {
        let n = b.count
        guard hasPrefix(b, at: i, pemBegin) else {
            return !final && n - i < pemBegin.count && hasPrefix(b, at: i, pemBegin[..<(n - i)]) ? .undecided : .none
        }
        var j = i + pemBegin.count
        while j < n && (ASCII.isUpper(b[j]) || b[j] == 0x20) && !hasPrefix(b, at: j, privateKeyLabel) { j += 1 }
        guard hasPrefix(b, at: j, privateKeyLabel) else { return j >= n - privateKeyLabel.count && !final ? .undecided : .none }
        j += privateKeyLabel.count
        while j < n {
            if b[j] == 0x2D && hasPrefix(b, at: j, pemEnd) {
                var k = j + pemEnd.count
                while k < n && (ASCII.isUpper(b[k]) || b[k] == 0x20) { k += 1 }
                if hasPrefix(b, at: k, pemDashes) { return .value(end: k + pemDashes.count, .secret) }
                if k + pemDashes.count > n { break }
            }
            j += 1
        }
        return final ? .value(end: n, .secret) : .undecided
    }

    @inline(__always) static func hasPrefix(_ b: UnsafeBufferPointer<UInt8>, at i: Int, _ prefix: some Collection<UInt8>) -> Bool {
        guard b.count - i >= prefix.count else { return false }
        var k = i
        for p in prefix {
            if b[k] != p { return false }
            k += 1
        }
        return true
    }
}

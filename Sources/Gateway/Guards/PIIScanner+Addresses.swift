extension PIIScanner {
    /// The e-mail address around the `@` at `at`: its start and end, or `nil`.
    static func email(_ b: UnsafeBufferPointer<UInt8>, at: Int) -> (Int, Int)? {
        let n = b.count
        var start = at
        while start > 0 && at - start < 64 && isLocal(b[start - 1]) { start -= 1 }
        while start < at && b[start] == 0x2E { start += 1 }
        guard start < at, b[at - 1] != 0x2E else { return nil }
        var end = at + 1
        var previousDot = at
        while end < n && end - at <= 253 {
            let c = b[end]
            if c == 0x2E {
                guard end > previousDot + 1 else { break }
                previousDot = end
            } else if !(ASCII.isAlnum(c) || c == 0x2D) {
                break
            }
            end += 1
        }
        while end > at + 1 && (b[end - 1] == 0x2E || b[end - 1] == 0x2D) { end -= 1 }
        // The last label is the top-level domain: letters, two or more.
        var tld = end
        while tld > at + 1 && ASCII.isAlpha(b[tld - 1]) { tld -= 1 }
        guard end - tld >= 2, tld > at + 2, b[tld - 1] == 0x2E, ASCII.isAlnum(b[at + 1]) else { return nil }
        guard end == n || !(ASCII.isWord(b[end]) || b[end] == 0x40) else { return nil }
        // `icon@2x.png` is an image, not an address.
        var k = at + 1
        while k < tld && ASCII.isDigit(b[k]) { k += 1 }
        if k > at + 1 && k < tld && (b[k] | 0x20) == 0x78 && b[k + 1] == 0x2E { return nil }
        return (start, end)
    }

    @inline(__always) static func isLocal(_ c: UInt8) -> Bool {
        ASCII.isAlnum(c) || c == 0x2E || c == 0x5F || c == 0x25 || c == 0x2B || c == 0x2D
    }

    /// An IBAN starting at `i`: country letters, check digits and the country's length of
    /// letters and digits (in groups of four after single spaces, or none), passing mod 97.
    static func iban(_ b: UnsafeBufferPointer<UInt8>, at i: Int, final: Bool) -> Found {
        let n = b.count
        guard i + 4 <= n else { return final ? .none : (i + 1 < n && !ASCII.isUpper(b[i + 1]) ? .none : .undecided) }
        guard ASCII.isUpper(b[i + 1]), ASCII.isDigit(b[i + 2]), ASCII.isDigit(b[i + 3]),
              let length = Checksums.ibanLengths[UInt16(b[i]) << 8 | UInt16(b[i + 1])]
        else { return .none }
        var chars: [UInt8] = []
        chars.reserveCapacity(length)
        var j = i
        while chars.count < length {
            guard j < n else { return final ? .none : .undecided }
            let c = b[j]
            if ASCII.isUpper(c) || ASCII.isDigit(c) {
                chars.append(c)
                j += 1
            } else if c == 0x20 && chars.count % 4 == 0 && j + 1 < n && (ASCII.isUpper(b[j + 1]) || ASCII.isDigit(b[j + 1])) {
                j += 1
            } else if c == 0x20 && j + 1 == n && !final {
                return .undecided
            } else {
                return .none
            }
        }
        guard j == n || !ASCII.isWord(b[j]), Checksums.ibanValid(chars) else { return .none }
        return .value(end: j, .iban)
    }

    /// An IPv6 address starting at `i`: up to eight groups of hex digits, `::` once for a run
    /// of zero groups, optionally an IPv4 address as the last 32 bits.
    static func ipv6(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> Int? {
        let n = b.count
        var j = i
        var colons = 0
        while j < n && j - i < 46 {
            let c = b[j]
            if c == 0x3A {
                colons += 1
            } else if !(ASCII.isHex(c) || c == 0x2E) {
                break
            }
            j += 1
        }
        guard colons >= 2 else { return nil }
        var end = j
        while end > i && b[end - 1] == 0x2E { end -= 1 }
        if end - i >= 2 && b[end - 1] == 0x3A && b[end - 2] != 0x3A { end -= 1 }
        guard end == n || !(ASCII.isWord(b[end]) || b[end] == 0x3A) else { return nil }
        return validIPv6(UnsafeBufferPointer(rebasing: b[i..<end])) ? end : nil
    }

    static func validIPv6(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        var groups = 0
        var compressed = false
        var k = 0
        let n = s.count
        if n >= 2 && s[0] == 0x3A && s[1] == 0x3A {
            compressed = true
            k = 2
            if k == n { return true }
        } else if n > 0 && s[0] == 0x3A {
            return false
        }
        while k < n {
            var digits = 0
            let start = k
            while k < n && ASCII.isHex(s[k]) {
                digits += 1
                k += 1
            }
            if k < n && s[k] == 0x2E {
                // The IPv4 tail: dotted decimal from the group's start to the end.
                guard validIPv4(UnsafeBufferPointer(rebasing: s[start..<n])) else { return false }
                groups += 2
                k = n
                break
            }
            guard digits >= 1 && digits <= 4 else { return false }
            groups += 1
            if k == n { break }
            guard s[k] == 0x3A else { return false }
            k += 1
            if k < n && s[k] == 0x3A {
                guard !compressed else { return false }
                compressed = true
                k += 1
                if k == n { break }
            } else if k == n {
                return false
            }
        }
        return compressed ? groups <= 7 : groups == 8
    }

    static func validIPv4(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        var parts = 0
        var value = 0
        var digits = 0
        for c in s {
            if ASCII.isDigit(c) {
                value = value * 10 + Int(c - 0x30)
                digits += 1
                guard digits <= 3 && value <= 255 else { return false }
            } else if c == 0x2E {
                guard digits > 0 else { return false }
                parts += 1
                (value, digits) = (0, 0)
            } else {
                return false
            }
        }
        return digits > 0 && parts == 3
    }
}

extension PIIScanner {
    /// The digit groups of a run like `+1 (415) 555-2671` or `4111 1111 1111 1111`.
    struct DigitRun {
        var groups = InlineArray<8, UInt8>(repeating: 0)
        var values = InlineArray<8, Int>(repeating: 0)
        var count = 0
        var digits = 0
        var plus = false
        var paren = false
        /// Separators seen, one bit each: space 1, `-` 2, `.` 4, `(` or `)` 8.
        var separators: UInt8 = 0
        var firstDigit: UInt8 = 0
        /// The digits themselves (values up to 19 digits overflow an `Int`), for the Luhn check.
        var all = InlineArray<19, UInt8>(repeating: 0)

        static let space: UInt8 = 1, dash: UInt8 = 2, dot: UInt8 = 4, parens: UInt8 = 8
    }

    /// A card number, SSN, IPv4 address or phone number starting at `i` (a digit, `+` or `(`).
    func number(_ b: UnsafeBufferPointer<UInt8>, at i: Int, final: Bool) -> Found {
        let n = b.count
        var run = DigitRun()
        var j = i
        if b[j] == 0x2B {
            run.plus = true
            j += 1
        }
        var inGroup = false
        var lastSeparator: UInt8 = 0
        // Separators count once a digit follows them: a sentence's full stop is not one.
        var pendingSeparators: UInt8 = 0
        var end = i
        while j < n {
            let c = b[j]
            if ASCII.isDigit(c) {
                if !inGroup {
                    guard run.count < 8 else { return .none }
                    run.count += 1
                    inGroup = true
                }
                if run.digits == 0 { run.firstDigit = c }
                run.separators |= pendingSeparators
                pendingSeparators = 0
                guard run.digits < 19 else { return .none }
                run.groups[run.count - 1] &+= 1
                run.values[run.count - 1] = run.values[run.count - 1] &* 10 &+ Int(c &- 0x30)
                run.all[run.digits] = c &- 0x30
                run.digits += 1
                lastSeparator = 0
                j += 1
                end = j
                continue
            }
            let bit: UInt8
            switch c {
            case 0x20: bit = DigitRun.space
            case 0x2D: bit = DigitRun.dash
            case 0x2E: bit = DigitRun.dot
            case 0x28, 0x29: bit = DigitRun.parens
            default: bit = 0
            }
            // Two separators in a row end the run, except around a parenthesis: `(415) 555`, `+44 (0)20`.
            guard bit != 0, lastSeparator == 0 || (lastSeparator == DigitRun.parens) != (bit == DigitRun.parens) else { break }
            if c == 0x28 {
                guard !inGroup else { break }
                run.paren = true
            }
            pendingSeparators |= bit
            lastSeparator = bit
            inGroup = false
            j += 1
        }
        if j == n && !final { return .undecided }
        guard run.digits > 0, end == n || !ASCII.isWord(b[end]) else { return .none }
        if let detector = classify(run) { return .value(end: end, detector) }
        return .none
    }

    func classify(_ run: DigitRun) -> PIIDetector? {
        let seps = run.separators
        let groups = run.groups
        if has(.ip), !run.plus, !run.paren, seps == DigitRun.dot, run.count == 4 {
            var valid = true
            for g in 0..<4 where groups[g] > 3 || run.values[g] > 255 { valid = false }
            if valid { return .ip }
        }
        if has(.ssn), !run.plus, run.count == 3, seps == DigitRun.space || seps == DigitRun.dash,
           groups[0] == 3, groups[1] == 2, groups[2] == 4
        {
            let area = run.values[0]
            if area != 0 && area != 666 && area < 900 && run.values[1] != 0 && run.values[2] != 0 { return .ssn }
        }
        if has(.card), !run.plus, !run.paren, (13...19).contains(run.digits), (0x32...0x36).contains(run.firstDigit),
           seps & ~(DigitRun.space | DigitRun.dash) == 0, run.count == 1 || (0..<run.count).allSatisfy({ (3...6).contains(groups[$0]) })
        {
            if luhn(run) { return .card }
        }
        guard has(.phone), seps & DigitRun.dot == 0 || seps == DigitRun.dot else { return nil }
        if run.plus {
            return (8...15).contains(run.digits) && (run.count == 1 || groups[0] <= 3 || run.paren) ? .phone : nil
        }
        guard run.count >= 2 else { return nil }
        if run.paren || run.firstDigit == 0x30 {
            // `(415) 555-2671`, `(020) 7946 0958`, `020 7946 0958`, `01 23 45 67 89`, `030 12345678`.
            return (10...11).contains(run.digits) && run.count <= 5 && groups[0] >= 2 && groups[0] <= 5 ? .phone : nil
        }
        // North American numbers: `415-555-2671`, `415.555.2671`, `1-800-555-0199`.
        if run.count == 3 && groups[0] == 3 && groups[1] == 3 && groups[2] == 4 { return .phone }
        if run.count == 4 && groups[0] == 1 && run.values[0] == 1 && groups[1] == 3 && groups[2] == 3 && groups[3] == 4 {
            return .phone
        }
        return nil
    }

    /// The Luhn (mod 10) check of payment card numbers.
    func luhn(_ run: DigitRun) -> Bool {
        var sum = 0
        var double = false
        for d in stride(from: run.digits - 1, through: 0, by: -1) {
            var v = Int(run.all[d])
            if double {
                v *= 2
                if v > 9 { v -= 9 }
            }
            sum += v
            double.toggle()
        }
        return sum % 10 == 0
    }
}

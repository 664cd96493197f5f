/// Finds the values of the built-in detectors in UTF-8 text, in one pass with no allocation
/// beyond the matches: bytes are skipped until a word starts (or an `@`), and only a word that
/// begins like a value is looked at further. Regular expressions would be shorter, but Linux's
/// (ICU, through Foundation) run at a few MB/s; this runs at hundreds.
///
/// The scan can be told that more text follows (`final: false`, a stream): then it also answers
/// where the text must be held back from, the start of anything that could still become a
/// value with the next bytes (the last word, or a run of digits and spaces), so that a value
/// split over two chunks is caught.
struct PIIScanner: Sendable {
    /// The detectors looked for, one bit per ``PIIDetector`` raw value.
    let enabled: UInt8

    init(_ detectors: some Sequence<PIIDetector>) {
        enabled = detectors.reduce(0) { $0 | 1 << UInt8($1.rawValue) }
    }

    @inline(__always) func has(_ d: PIIDetector) -> Bool { enabled & (1 << UInt8(d.rawValue)) != 0 }

    /// What a detector makes of the bytes at a position.
    enum Found {
        case none
        case value(end: Int, PIIDetector)
        /// The text ends before the detector could decide.
        case undecided
    }

    /// Appends the values in `text` to `matches`, in order and not overlapping.
    /// - Parameters:
    ///   - before: the byte just before `text` (a space at the start of a text), for word boundaries.
    ///   - final: `false` when more text may follow.
    /// - Returns: the offset from which `text` must be held back until more of it arrives
    ///   (`text.count` when `final`, or when nothing is undecided).
    func scan(_ text: UnsafeBufferPointer<UInt8>, before: UInt8 = 0x20, final: Bool, into matches: inout [PIIMatch]) -> Int {
        let n = text.count
        guard enabled != 0, n > 0 else { return n }
        let firstNew = matches.count
        var hold = n
        var lastEnd = 0
        var i = 0
        scanning: while i < n {
            let c = text[i]
            if c == 0x40 {  // '@'
                if has(.email), let (start, end) = Self.email(text, at: i), start >= lastEnd {
                    if !final && end == n { hold = start; break scanning }
                    matches.append(PIIMatch(start: start, end: end, detector: PIIDetector.email.rawValue))
                    lastEnd = end
                    i = end
                    continue
                }
                i += 1
                continue
            }
            let previous = i == 0 ? before : text[i &- 1]
            if ASCII.isWord(previous) || !(ASCII.isAlnum(c) || c == 0x2B || c == 0x28 || c == 0x3A || c == 0x2D) {
                i += 1
                continue
            }
            switch find(text, at: i, final: final) {
            case .value(let end, let detector):
                matches.append(PIIMatch(start: i, end: end, detector: detector.rawValue))
                lastEnd = end
                i = end
            case .undecided:
                hold = i
                break scanning
            case .none:
                i += 1
            }
        }
        guard !final else { return n }
        // The last word may be the start of a value (or an e-mail's local part).
        var tail = n
        while tail > 0 && ASCII.isGraphic(text[tail - 1]) { tail -= 1 }
        hold = min(hold, tail)
        // Values that reach into the held text are decided again with it.
        while matches.count > firstNew, let last = matches.last, last.end > hold {
            hold = min(hold, last.start)
            matches.removeLast()
        }
        return hold
    }

    /// The value starting at `i`, the first byte of a word (or `+`, `(`, `:`, `-`).
    @inline(__always) func find(_ b: UnsafeBufferPointer<UInt8>, at i: Int, final: Bool) -> Found {
        let c = b[i]
        if ASCII.isDigit(c) || c == 0x2B || c == 0x28 {
            if enabled & Self.numberDetectors != 0 {
                let found = number(b, at: i, final: final)
                if case .none = found {} else { return found }
            }
        }
        if has(.secret), c == 0x2D || ASCII.isAlpha(c) {
            let found = Self.secret(b, at: i, final: final)
            if case .none = found {} else { return found }
        }
        if has(.iban), ASCII.isUpper(c) {
            let found = Self.iban(b, at: i, final: final)
            if case .none = found {} else { return found }
        }
        if has(.ip), ASCII.isHex(c) || c == 0x3A, let end = Self.ipv6(b, at: i) {
            return .value(end: end, .ip)
        }
        return .none
    }

    static let numberDetectors: UInt8 = [PIIDetector.phone, .card, .ssn, .ip].reduce(0) { $0 | 1 << UInt8($1.rawValue) }
}

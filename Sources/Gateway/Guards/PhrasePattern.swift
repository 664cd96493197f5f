/// A compiled phrase of ``InjectionPatterns``: slots of words matched in order over a text's words.
struct PhrasePattern: Sendable {
    enum Slot: Sendable {
        /// One word out of these (a trailing `*` in the file: any word with that prefix).
        case words(exact: Set<String>, prefixes: [String], optional: Bool)
        /// Up to this many words of anything.
        case gap(Int)
    }

    let slots: [Slot]

    init?(_ pattern: String) {
        var slots: [Slot] = []
        for token in pattern.split(separator: " ") {
            if token.hasPrefix("~") {
                guard let n = token.count == 1 ? 3 : Int(token.dropFirst()), n > 0 else { return nil }
                slots.append(.gap(n))
                continue
            }
            var body = Substring(token)
            let optional = body.hasSuffix("?")
            if optional { body = body.dropLast() }
            var exact = Set<String>()
            var prefixes: [String] = []
            for alt in body.split(separator: "|") {
                if alt.hasSuffix("*") { prefixes.append(String(alt.dropLast())) } else { exact.insert(String(alt)) }
            }
            guard !exact.isEmpty || !prefixes.isEmpty else { return nil }
            slots.append(.words(exact: exact, prefixes: prefixes, optional: optional))
        }
        guard case .words(_, _, false)? = slots.first, case .words? = slots.last else { return nil }
        self.slots = slots
    }

    /// The first slot's words, for the index that finds where a phrase may start.
    var firstWords: (exact: Set<String>, prefixes: [String]) {
        guard case .words(let exact, let prefixes, _) = slots[0] else { return ([], []) }
        return (exact, prefixes)
    }

    /// Whether the phrase matches `words` starting at `start`.
    func matches(_ words: [Substring], at start: Int) -> Bool {
        match(0, words, start)
    }

    private func match(_ k: Int, _ words: [Substring], _ i: Int) -> Bool {
        guard k < slots.count else { return true }
        switch slots[k] {
        case .gap(let n):
            for skip in 0...n where i + skip <= words.count {
                if match(k + 1, words, i + skip) { return true }
            }
            return false
        case .words(let exact, let prefixes, let optional):
            if i < words.count, Self.accepts(words[i], exact, prefixes), match(k + 1, words, i + 1) { return true }
            return optional && match(k + 1, words, i)
        }
    }

    static func accepts(_ word: Substring, _ exact: Set<String>, _ prefixes: [String]) -> Bool {
        if exact.contains(String(word)) { return true }
        return prefixes.contains { word.hasPrefix($0) }
    }
}

/// Puts a request's numbered placeholders back into a streamed answer, holding back a `[` that
/// may open one until its `]` arrives (at most 40 bytes).
struct PlaceholderRestorer {
    private var pending = ""

    mutating func feed(_ text: String, _ redactions: Redactions) -> String {
        pending += text
        var cut = pending.endIndex
        if let open = pending.lastIndex(of: "["), !pending[open...].contains("]"), pending.utf8.distance(from: open, to: pending.endIndex) < 40 {
            cut = open
        }
        let ready = String(pending[..<cut])
        pending = String(pending[cut...])
        return redactions.restore(ready) ?? ready
    }

    mutating func finish(_ redactions: Redactions) -> String {
        defer { pending = "" }
        return redactions.restore(pending) ?? pending
    }
}

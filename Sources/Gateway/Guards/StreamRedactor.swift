import DejaSupport

/// Screens one text of a streamed answer (a choice's content, a Responses output part) chunk by
/// chunk: what could still be the start of a value is held back until the next chunk decides it
/// (at most `guards.dlp.max_hold_bytes`), so that a card number or key split over two chunks is
/// caught and the client never receives it in pieces.
struct StreamRedactor {
    private var pending: [UInt8] = []
    /// The last byte let through, for the word boundary of the next value.
    private var before: UInt8 = 0x20

    /// The text of `chunk` (and of what was held) that can go to the client now.
    mutating func feed(_ chunk: String, _ dataGuard: DataGuard, model: String, _ redactions: inout Redactions) throws(OpenAIError)
        -> String
    {
        pending.append(contentsOf: chunk.utf8)
        return try emit(dataGuard, model: model, final: pending.count > dataGuard.configuration.maxHoldBytes, &redactions)
    }

    /// Everything still held, decided as it stands: the text has ended.
    mutating func finish(_ dataGuard: DataGuard, model: String, _ redactions: inout Redactions) throws(OpenAIError) -> String {
        try emit(dataGuard, model: model, final: true, &redactions)
    }

    var isHolding: Bool { !pending.isEmpty }

    private mutating func emit(_ dataGuard: DataGuard, model: String, final: Bool, _ redactions: inout Redactions) throws(OpenAIError)
        -> String
    {
        guard !pending.isEmpty else { return "" }
        var local = redactions
        let before = before
        let result = pending.withUnsafeBufferPointer { bytes -> Result<(String, Int), OpenAIError> in
            let (found, hold) = dataGuard.matches(
                in: bytes, text: String(decoding: bytes, as: UTF8.self), .answer, model: model, before: before, final: final)
            return Result { () throws(OpenAIError) in
                let text = try dataGuard.rewrite(bytes, found, upTo: hold, .answer, &local)
                    ?? String(decoding: UnsafeBufferPointer(rebasing: bytes[..<hold]), as: UTF8.self)
                return (text, hold)
            }
        }
        redactions = local
        let (text, hold) = try result.get()
        if hold > 0 {
            self.before = pending[hold - 1]
            pending.removeFirst(hold)
        }
        return text
    }
}


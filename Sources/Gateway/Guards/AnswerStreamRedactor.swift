/// One streamed text screened outside a request (`deja bench guards`): the answer direction of
/// a ``DataGuard``, chunk by chunk; a value its configuration blocks ends the text.
public struct AnswerStreamRedactor {
    let dataGuard: DataGuard
    var redactor = StreamRedactor()
    var redactions = Redactions(reversible: false)

    public init(_ dataGuard: DataGuard) { self.dataGuard = dataGuard }

    /// What of the text so far can go to a client now.
    public mutating func feed(_ chunk: String) -> String {
        (try? redactor.feed(chunk, dataGuard, model: "", &redactions)) ?? ""
    }

    public mutating func finish() -> String {
        (try? redactor.finish(dataGuard, model: "", &redactions)) ?? ""
    }
}

import DejaSupport

/// The guards on one answer on its way back: DLP in the answer direction (what is stored and
/// what the client gets), then the request's numbered placeholders put back (what the client
/// gets only: the cache keeps the placeholders). For a stream, one ``StreamRedactor`` and one
/// ``PlaceholderRestorer`` per text being streamed.
struct AnswerScreen {
    /// `nil` when the answer direction is off.
    let dataGuard: DataGuard?
    let model: String
    /// The prompt's redactions, when they are put back.
    let restoring: Redactions?
    /// What DLP found in the answer.
    private(set) var found = Redactions(reversible: false)
    private var redactors: [String: StreamRedactor] = [:]
    private var restorers: [String: PlaceholderRestorer] = [:]

    init?(dataGuard: DataGuard?, model: String, prompt: Redactions) {
        let answers = dataGuard?.screens(.answer) == true ? dataGuard : nil
        let restoring = prompt.reversible && !prompt.values.isEmpty ? prompt : nil
        guard answers != nil || restoring != nil else { return nil }
        self.dataGuard = answers
        self.model = model
        self.restoring = restoring
    }

    /// A whole answer: what to store and what to send, `nil` each when unchanged.
    mutating func whole(_ answer: JSONValue) throws(OpenAIError) -> (stored: JSONValue?, client: JSONValue?) {
        var stored: JSONValue?
        if let dataGuard { stored = try dataGuard.screen(answer, .answer, model: model, &found) }
        return (stored, restoring.flatMap { r in DataGuard.mapTexts(stored ?? answer) { r.restore($0) } })
    }

    /// One event of a streamed answer as the events to assemble (stored) and to send (client).
    mutating func event(_ event: JSONValue, api: ProxyAPI) throws(OpenAIError) -> [(stored: JSONValue, client: JSONValue)] {
        switch api {
        case .chat, .completions: return [try choicesChunk(event, chat: api == .chat)]
        case .responses: return try responsesEvent(event)
        }
    }

    private mutating func choicesChunk(_ event: JSONValue, chat: Bool) throws(OpenAIError) -> (stored: JSONValue, client: JSONValue) {
        guard case .object(var stored) = event, let choices = stored["choices"]?.arrayValue, !choices.isEmpty else { return (event, event) }
        var client = stored
        var storedChoices = choices
        var clientChoices = choices
        for (i, choice) in choices.enumerated() {
            let key = String(choice["index"]?.intValue ?? i)
            let finished = !(choice["finish_reason"]?.isNull ?? true)
            let text = chat ? choice["delta"]?["content"]?.stringValue : choice["text"]?.stringValue
            guard text != nil || finished else { continue }
            var (out, sent) = try stream(text ?? "", key: key)
            if finished {
                let (tail, sentTail) = try end(key: key)
                out += tail
                sent += sentTail
            }
            guard text != nil || !out.isEmpty || !sent.isEmpty else { continue }
            storedChoices[i] = Self.setting(out, in: choice, chat: chat)
            clientChoices[i] = Self.setting(sent, in: choice, chat: chat)
        }
        stored["choices"] = .array(storedChoices)
        client["choices"] = .array(clientChoices)
        return (.object(stored), .object(client))
    }

    private static func setting(_ text: String, in choice: JSONValue, chat: Bool) -> JSONValue {
        guard case .object(var fields) = choice else { return choice }
        if chat {
            var delta = fields["delta"]?.objectValue ?? [:]
            delta["content"] = .string(text)
            fields["delta"] = .object(delta)
        } else {
            fields["text"] = .string(text)
        }
        return .object(fields)
    }

    private mutating func responsesEvent(_ event: JSONValue) throws(OpenAIError) -> [(stored: JSONValue, client: JSONValue)] {
        let type = event["type"]?.stringValue ?? ""
        let key = "\(event["item_id"]?.stringValue ?? "")/\(event["content_index"]?.intValue ?? 0)"
        if type == "response.output_text.delta", case .object(var fields) = event, let delta = fields["delta"]?.stringValue {
            let (out, sent) = try stream(delta, key: key)
            fields["delta"] = .string(out)
            var client = fields
            client["delta"] = .string(sent)
            return [(.object(fields), .object(client))]
        }
        var events: [(stored: JSONValue, client: JSONValue)] = []
        if type == "response.output_text.done" {
            let (tail, sentTail) = try end(key: key)
            if !tail.isEmpty || !sentTail.isEmpty {
                var delta: [String: JSONValue] = ["type": "response.output_text.delta", "delta": .string(tail)]
                for field in ["item_id", "output_index", "content_index"] { delta[field] = event[field] }
                var client = delta
                client["delta"] = .string(sentTail)
                events.append((.object(delta), .object(client)))
            }
        }
        // Whole texts (the done events, the final response) are screened whole: the same result
        // as their deltas', counted once (on the deltas).
        var again = Redactions(reversible: false)
        let stored = try dataGuard.flatMap { (g) throws(OpenAIError) in try g.screen(event, .answer, model: model, &again) } ?? event
        let client = restoring.flatMap { r in DataGuard.mapTexts(stored) { r.restore($0) } } ?? stored
        events.append((stored, client))
        return events
    }

    /// A piece of streamed text: what can be stored and sent now.
    private mutating func stream(_ text: String, key: String) throws(OpenAIError) -> (String, String) {
        var out = text
        if let dataGuard {
            var redactor = redactors[key] ?? StreamRedactor()
            out = try redactor.feed(text, dataGuard, model: model, &found)
            redactors[key] = redactor
        }
        guard let restoring else { return (out, out) }
        var restorer = restorers[key] ?? PlaceholderRestorer()
        let sent = restorer.feed(out, restoring)
        restorers[key] = restorer
        return (out, sent)
    }

    /// The end of a streamed text: what was held, decided.
    private mutating func end(key: String) throws(OpenAIError) -> (String, String) {
        var out = ""
        if let dataGuard, var redactor = redactors.removeValue(forKey: key) {
            out = try redactor.finish(dataGuard, model: model, &found)
        }
        guard let restoring else { return (out, out) }
        var restorer = restorers.removeValue(forKey: key) ?? PlaceholderRestorer()
        return (out, restorer.feed(out, restoring) + restorer.finish(restoring))
    }
}

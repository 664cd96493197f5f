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
            var storedChoice = choice
            var clientChoice = choice
            if chat, let calls = choice["delta"]?["tool_calls"]?.arrayValue {
                // Tool call arguments stream too, one text per call.
                var storedCalls = calls
                var clientCalls = calls
                for (c, call) in calls.enumerated() {
                    guard let arguments = call["function"]?["arguments"]?.stringValue else { continue }
                    let (out, sent) = try stream(arguments, key: "\(key)/t\(call["index"]?.intValue ?? c)")
                    storedCalls[c] = Self.setting(arguments: out, in: call)
                    clientCalls[c] = Self.setting(arguments: sent, in: call)
                }
                storedChoice = Self.setting(calls: storedCalls, in: storedChoice)
                clientChoice = Self.setting(calls: clientCalls, in: clientChoice)
            }
            let text = chat ? choice["delta"]?["content"]?.stringValue : choice["text"]?.stringValue
            var (out, sent) = text == nil ? ("", "") : try stream(text!, key: key)
            if finished {
                let (tail, sentTail) = try end(key: key)
                out += tail
                sent += sentTail
                if chat {
                    // What the calls' arguments still held, as one more piece of each.
                    var storedTails: [JSONValue] = []
                    var clientTails: [JSONValue] = []
                    for callKey in redactors.keys.filter({ $0.hasPrefix(key + "/t") }).sorted() {
                        let (t, s) = try end(key: callKey)
                        guard !t.isEmpty || !s.isEmpty, let index = Int(callKey.dropFirst(key.count + 2)) else { continue }
                        storedTails.append(["index": .int(Int64(index)), "function": ["arguments": .string(t)]])
                        clientTails.append(["index": .int(Int64(index)), "function": ["arguments": .string(s)]])
                    }
                    if !storedTails.isEmpty {
                        storedChoice = Self.setting(calls: storedTails, in: storedChoice)
                        clientChoice = Self.setting(calls: clientTails, in: clientChoice)
                    }
                }
            }
            if text != nil || !out.isEmpty || !sent.isEmpty {
                storedChoice = Self.setting(out, in: storedChoice, chat: chat)
                clientChoice = Self.setting(sent, in: clientChoice, chat: chat)
            }
            storedChoices[i] = storedChoice
            clientChoices[i] = clientChoice
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

    private static func setting(arguments: String, in call: JSONValue) -> JSONValue {
        guard case .object(var fields) = call else { return call }
        var function = fields["function"]?.objectValue ?? [:]
        function["arguments"] = .string(arguments)
        fields["function"] = .object(function)
        return .object(fields)
    }

    private static func setting(calls: [JSONValue], in choice: JSONValue) -> JSONValue {
        guard case .object(var fields) = choice else { return choice }
        var delta = fields["delta"]?.objectValue ?? [:]
        delta["tool_calls"] = .array(calls)
        fields["delta"] = .object(delta)
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

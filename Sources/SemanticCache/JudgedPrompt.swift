/// The prompt a verdict on a hit is about: with the pairs log on, a judged hit is written there
/// as a labelled pair (`"same": false` for a wrong one), ready for `deja tune --train`.
public struct JudgedPrompt: Sendable, Equatable {
    public var prompt: String
    public var model: String
    public var namespace: Namespace

    public init(prompt: String, model: String, namespace: Namespace) {
        self.prompt = prompt
        self.model = model
        self.namespace = namespace
    }
}

import DejaSupport
import SemanticCache

/// The chat request a lookup API body stands for: `prompt` and `model`, with an optional
/// `system` prompt, `namespace` (the `x-deja-namespace` partition) and `tenant`; what a client
/// would send to ask that prompt, so that entries and lookups meet the proxy's requests.
struct PlainPrompt: Sendable {
    var request: CacheRequest
    var model: String
    var prompt: String

    /// - Throws: a 400 naming the field that is missing or of the wrong type.
    init(_ body: JSONValue) throws(OpenAIError) {
        guard let prompt = body["prompt"]?.stringValue, !prompt.isEmpty else {
            throw .invalidRequest("'prompt' must be a non-empty string", param: "prompt")
        }
        guard let model = body["model"]?.stringValue, !model.isEmpty else {
            throw .invalidRequest("'model' must be a non-empty string", param: "model")
        }
        // A field of the wrong type is refused, not read as absent: a tenant or partition taken
        // for none would file the entry where other clients' lookups find it.
        let chat = CacheKeys.plainChatBody(model: model, prompt: prompt, system: try RequestFields.string(body, "system"))
        request = CacheKeys.chat(
            chat, tenant: try RequestFields.string(body, "tenant") ?? "",
            partition: try RequestFields.string(body, "namespace").map { (raw) throws(OpenAIError) in
                if let problem = CacheKeys.partitionProblem(raw) { throw .invalidRequest("'namespace' \(problem)", param: "namespace") }
                return raw
            })
        self.model = model
        self.prompt = prompt
    }
}

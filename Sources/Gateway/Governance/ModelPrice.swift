/// What one model costs, in US dollars per million tokens.
public struct ModelPrice: Codable, Sendable, Equatable {
    public var input: Double
    /// Prompt tokens the provider served from its own prompt cache; the input price when absent.
    public var cachedInput: Double?
    public var output: Double

    public init(input: Double, cachedInput: Double? = nil, output: Double) {
        self.input = input
        self.cachedInput = cachedInput
        self.output = output
    }

    enum CodingKeys: String, CodingKey {
        case input, cachedInput = "cached_input", output
    }

    /// The cost of one answer's tokens. `cached` is the part of `prompt` the provider served
    /// from its prompt cache.
    public func cost(prompt: Int, cached: Int, completion: Int) -> Double {
        let fresh = max(0, prompt - cached)
        return (Double(fresh) * input + Double(min(cached, prompt)) * (cachedInput ?? input) + Double(completion) * output) / 1e6
    }

    var problems: [String] {
        var out: [String] = []
        if !(input >= 0) { out.append("input: must be 0 or more dollars per million tokens, got \(input)") }
        if !(output >= 0) { out.append("output: must be 0 or more dollars per million tokens, got \(output)") }
        if let c = cachedInput, !(c >= 0) { out.append("cached_input: must be 0 or more dollars per million tokens, got \(c)") }
        return out
    }
}

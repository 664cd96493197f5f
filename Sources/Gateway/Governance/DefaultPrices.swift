/// The price table Deja ships, in dollars per million tokens (input, cached input, output), as
/// the providers' public price lists gave them when they were read. Prices change: set
/// `governance.prices` or `governance.prices_file` for the ones you pay, and a model listed
/// there replaces its row here.
enum DefaultPrices {
    /// When the table was read from OpenAI's and Anthropic's price pages.
    static let readOn = "2025-08-15"

    static let table: [String: ModelPrice] = [
        // OpenAI
        "gpt-5": ModelPrice(input: 1.25, cachedInput: 0.125, output: 10),
        "gpt-5-mini": ModelPrice(input: 0.25, cachedInput: 0.025, output: 2),
        "gpt-5-nano": ModelPrice(input: 0.05, cachedInput: 0.005, output: 0.40),
        "gpt-4.1": ModelPrice(input: 2, cachedInput: 0.50, output: 8),
        "gpt-4.1-mini": ModelPrice(input: 0.40, cachedInput: 0.10, output: 1.60),
        "gpt-4.1-nano": ModelPrice(input: 0.10, cachedInput: 0.025, output: 0.40),
        "gpt-4o": ModelPrice(input: 2.50, cachedInput: 1.25, output: 10),
        "gpt-4o-mini": ModelPrice(input: 0.15, cachedInput: 0.075, output: 0.60),
        "o3": ModelPrice(input: 2, cachedInput: 0.50, output: 8),
        "o4-mini": ModelPrice(input: 1.10, cachedInput: 0.275, output: 4.40),
        "o3-mini": ModelPrice(input: 1.10, cachedInput: 0.55, output: 4.40),
        "gpt-3.5-turbo": ModelPrice(input: 0.50, output: 1.50),
        "text-embedding-3-small": ModelPrice(input: 0.02, output: 0),
        "text-embedding-3-large": ModelPrice(input: 0.13, output: 0),
        "text-embedding-ada-002": ModelPrice(input: 0.10, output: 0),
        // Anthropic (cached input: a cache read)
        "claude-opus-4-1": ModelPrice(input: 15, cachedInput: 1.50, output: 75),
        "claude-opus-4": ModelPrice(input: 15, cachedInput: 1.50, output: 75),
        "claude-sonnet-4": ModelPrice(input: 3, cachedInput: 0.30, output: 15),
        "claude-3-7-sonnet": ModelPrice(input: 3, cachedInput: 0.30, output: 15),
        "claude-3-5-haiku": ModelPrice(input: 0.80, cachedInput: 0.08, output: 4),
        "claude-3-haiku": ModelPrice(input: 0.25, cachedInput: 0.03, output: 1.25),
    ]
}

/// One detector's actions (`guards.dlp.detectors.NAME`); a direction left out takes the
/// default of `guards.dlp.prompt` or `guards.dlp.answer`.
public struct DetectorRule: Codable, Sendable, Equatable {
    public var prompt: GuardAction?
    public var answer: GuardAction?

    public init(prompt: GuardAction? = nil, answer: GuardAction? = nil) {
        self.prompt = prompt
        self.answer = answer
    }
}

/// A small, fast, seedable random number generator (Steele, Lea & Flood, "Fast splittable
/// pseudorandom number generators", OOPSLA 2014), as in swift-argument-parser's `roll` example.
///
/// The index draws node levels from it, so a build with the same seed and keys gives the same graph.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }
}

/// FNV-1a, 64-bit (Fowler, Noll, Vo): the fixed hash behind the hashing embedder's features.
///
/// Swift's `Hasher` is seeded per process, so it cannot be used: the same text must give the same
/// vector on every machine and in every run. FNV-1a is tiny, documented and portable.
/// Words are hashed as their Unicode scalar values, four little-endian bytes each.
public struct FeatureHash: Sendable {
    public static let offsetBasis: UInt64 = 0xCBF2_9CE4_8422_2325
    public static let prime: UInt64 = 0x0000_0100_0000_01B3

    public private(set) var value: UInt64 = FeatureHash.offsetBasis

    public init() {}

    /// Starts a hash with a one-byte tag that keeps feature kinds apart (a word and a character
    /// n-gram with the same letters must not collide on purpose).
    public init(tag: UInt8) {
        add(byte: tag)
    }

    @inline(__always)
    public mutating func add(byte: UInt8) {
        value = (value ^ UInt64(byte)) &* Self.prime
    }

    @inline(__always)
    public mutating func add(scalar: UInt32) {
        add(byte: UInt8(truncatingIfNeeded: scalar))
        add(byte: UInt8(truncatingIfNeeded: scalar >> 8))
        add(byte: UInt8(truncatingIfNeeded: scalar >> 16))
        add(byte: UInt8(truncatingIfNeeded: scalar >> 24))
    }

    public mutating func add(scalars: ArraySlice<UInt32>) {
        for s in scalars { add(scalar: s) }
    }

    public mutating func add(bytes: some Sequence<UInt8>) {
        for b in bytes { add(byte: b) }
    }

    /// The hash of a string's UTF-8 bytes.
    public static func of(_ string: String) -> UInt64 {
        var h = FeatureHash()
        h.add(bytes: string.utf8)
        return h.value
    }
}

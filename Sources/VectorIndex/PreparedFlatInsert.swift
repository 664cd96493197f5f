/// A validated, normalised vector waiting to be added to a ``FlatIndex``.
public struct PreparedFlatInsert: Sendable {
    let key: UInt64
    let vector: [Float]
}

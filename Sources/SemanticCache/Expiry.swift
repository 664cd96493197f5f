/// When an entry expires, for the catalog's schedule.
///
/// The catalog pushes an entry's expiry when it adds the entry and never takes it out when the
/// entry goes; such an item is skipped when it comes up (``Catalog/expired(at:)`` checks it
/// against the live entries), and the heap is rebuilt when stale items outnumber live ones.
struct Expiry: Comparable {
    var at: Double
    var key: UInt64

    static func < (a: Expiry, b: Expiry) -> Bool { (a.at, a.key) < (b.at, b.key) }
}

import Testing
@testable import VectorIndex

@Suite("VisitedSet")
struct VisitedSetTests {
    @Test("insert answers as a Set does over many searches, across word boundaries and growth, and clear empties it")
    func matchesSet() {
        var visited = VisitedSet()
        defer { visited.deallocate() }
        var random = SplitMix64(seed: 11)
        var slots = 100
        for search in 0..<300 {
            // Grow now and then, as an index does between searches.
            if search % 50 == 49 { slots = slots * 3 + 7 }
            visited.clear(slots: slots)
            #expect(visited.capacity >= slots)
            var reference = Set<UInt32>()
            // Dense runs (whole words) and scattered picks, first and last slot included.
            var picks: [UInt32] = [0, UInt32(slots - 1), 63, 64]
            picks += (0..<200).map { _ in UInt32(random.next() % UInt64(slots)) }
            let run = Int(random.next() % UInt64(slots))
            picks += (run..<min(run + 130, slots)).map(UInt32.init)
            for slot in picks where slot < slots {
                let fresh = visited.insert(slot)
                let expected = reference.insert(slot).inserted
                #expect(fresh == expected, "search \(search), slot \(slot)")
            }
        }
        // After a clear, nothing from the last search remains.
        visited.clear(slots: slots)
        for slot in 0..<UInt32(slots) {
            let fresh = visited.insert(slot)
            #expect(fresh, "slot \(slot) still marked after clear")
        }
    }
}

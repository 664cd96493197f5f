@testable import Gateway
import DejaSupport
import Testing

/// The dashboard's counters: lock-free adds that lose nothing without a turn of the period, a
/// slot reused for a new period starting from zero, and percentiles read off the buckets.
@Suite("Traffic recorder")
struct TrafficRecorderTests {
    @Test("adds from many threads at once all count")
    func concurrentAdds() async {
        let counters = AtomicCounters(count: 4)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { for i in 0..<10_000 { counters.add(i % 4) } }
            }
        }
        #expect((0..<4).map(counters.load) == [20_000, 20_000, 20_000, 20_000])
    }

    @Test("a slot reused for a later period starts from zero; an earlier period is not written over it")
    func ringRotation() {
        let ring = TrafficRing(slots: 3, seconds: 60)
        ring.add(.requests, 5, at: 0)
        ring.add(.requests, 2, at: 61)
        #expect(ring.read(0)[TrafficField.requests.rawValue] == 5)
        // Period 3 takes period 0's slot: period 0 reads as empty, period 3 as its own count.
        ring.add(.requests, 1, at: 180)
        #expect(ring.read(0)[TrafficField.requests.rawValue] == 0)
        #expect(ring.read(3)[TrafficField.requests.rawValue] == 1)
        // A clock gone back to period 0 does not count into period 3's slot.
        ring.add(.requests, 9, at: 0)
        #expect(ring.read(3)[TrafficField.requests.rawValue] == 1)
        #expect(ring.read(1)[TrafficField.requests.rawValue] == 2)
    }

    @Test("percentiles of the latency buckets are within a bucket (25 %) above the true value")
    func percentiles() {
        var counts = [Int](repeating: 0, count: LatencyBuckets.count)
        let values = (1...1000).map { Double($0) / 10 }  // 0.1 ... 100 ms
        for v in values { counts[LatencyBuckets.index(milliseconds: v)] += 1 }
        let p50 = LatencyBuckets.quantile(0.5, of: counts)!, p99 = LatencyBuckets.quantile(0.99, of: counts)!
        #expect(p50 >= 50 && p50 <= 50 * 1.25, "\(p50)")
        #expect(p99 >= 99 && p99 <= 99 * 1.25, "\(p99)")
        #expect(LatencyBuckets.quantile(0.5, of: [Int](repeating: 0, count: LatencyBuckets.count)) == nil)
        #expect(LatencyBuckets.index(milliseconds: 0) == 0 && LatencyBuckets.index(milliseconds: 1e9) == LatencyBuckets.count - 1)
    }

    @Test("the report sums requests by outcome over the range, with the hit rate and the similarity bins")
    func report() throws {
        let recorder = TrafficRecorder()
        let now = 1_800_000_000.0
        recorder.request(cache: "hit", status: 200, milliseconds: 0.5, at: now - 30)
        recorder.request(cache: "semantic-hit", status: 200, milliseconds: 1, at: now - 90)
        recorder.request(cache: "miss", status: 200, milliseconds: 20, at: now)
        recorder.request(cache: "miss", status: 502, milliseconds: 30, at: now)
        recorder.request(cache: "miss", status: 200, milliseconds: 20, at: now - 7200)  // outside the hour
        recorder.similarity(0.93, hit: true)
        recorder.similarity(0.88, hit: false)
        let hour = recorder.report(.hour, now: now, threshold: 0.9)
        let totals = try #require(hour["totals"])
        #expect(totals["requests"]?.intValue == 4)
        #expect(totals["exact_hits"]?.intValue == 1 && totals["semantic_hits"]?.intValue == 1 && totals["misses"]?.intValue == 2)
        #expect(totals["hit_rate"]?.doubleValue == 0.5)
        #expect(totals["errors"]?.intValue == 1)
        #expect(hour["points"]?.arrayValue?.count == 60)
        #expect(hour["similarity"]?["semantic_hits"]?.arrayValue?[93].intValue == 1)
        #expect(hour["similarity"]?["misses"]?.arrayValue?[88].intValue == 1)
        let day = recorder.report(.day, now: now, threshold: 0.9)
        #expect(day["totals"]?["requests"]?.intValue == 5)
        #expect(day["step_seconds"]?.intValue == 900)
    }
}

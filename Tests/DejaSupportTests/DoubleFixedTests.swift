import DejaSupport
import Foundation
import Testing

@Suite("Double.fixed")
struct DoubleFixedTests {
    @Test("matches %.Nf for the similarities, probabilities and durations it prints, and never prints a negative zero")
    func matchesFormat() {
        for value in [0, 0.8263, 0.999_6, 1, 12.345_678, 0.1, 0.05, -3.141_59, 0.000_4, 0.731_55] {
            for places in 0...4 {
                #expect(value.fixed(places) == String(format: "%.\(places)f", value), "\(value) to \(places) places")
            }
        }
        #expect(0.8263.fixed(2) == "0.83")
        // A decimal tie rounds up, where %.2f sees the binary value just under it (0.82).
        #expect(0.825.fixed(2) == "0.83")
        #expect(0.999_6.fixed(3) == "1.000")
        #expect(0.05.fixed(4) == "0.0500")
        #expect((-0.000_4).fixed(2) == "0.00")
        #expect((-2.5).fixed(0) == "-3")
        #expect(Double.nan.fixed(2) == "nan")
        #expect(Double.infinity.fixed(2) == "inf")
        // Too large to scale into an Int: no trap.
        #expect(1e300.fixed(2) == "\(1e300)")
    }
}

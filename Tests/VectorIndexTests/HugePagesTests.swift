import Foundation
import Testing
@testable import VectorIndex

@Suite("Huge pages for the index's arrays")
struct HugePagesTests {
    /// The `VmFlags` of the mapping that holds `address`, from `/proc/self/smaps`.
    static func mappingFlags(of address: UnsafeRawPointer) throws -> [String] {
        // Read to the end: /proc files report a size of 0.
        let file = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
        let smaps = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
        let target = UInt(bitPattern: address)
        var inside = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let bounds = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
                inside = bounds.count == 2 && bounds[0] <= target && target < bounds[1]
            } else if inside, fields.first == "VmFlags:" {
                return fields.dropFirst().map(String.init)
            }
        }
        return []
    }

    @Test("an index's large arrays are advised to use huge pages, small ones are not")
    func largeArraysAdvised() throws {
        #if os(Linux)
        // 20,000 × 384 floats: 30 MB of vectors; 20,000 levels: 20 kB.
        let storage = HNSWStorage(dimension: 384, m: 16, capacity: 20_000)
        let huge = 2 << 20
        let aligned = (Int(bitPattern: storage.vectors) + huge - 1) & ~(huge - 1)
        let flags = try Self.mappingFlags(of: UnsafeRawPointer(bitPattern: aligned)!)
        #expect(flags.contains("hg"), "VmFlags \(flags)")
        #expect(!(try Self.mappingFlags(of: UnsafeRawPointer(storage.levels))).contains("hg"))
        #endif
    }
}

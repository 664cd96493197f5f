#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Asks Linux to back the index's large arrays with 2 MiB pages.
///
/// A search reads one vector row, one link list, one visited mark and one scale per neighbour,
/// each somewhere else in arrays of tens of megabytes: with 4 KiB pages nearly every row is also
/// a TLB miss, and the page walk shows up as the most expensive instruction of the search
/// loop (the whole-row prefetch waits on it). Debian and Ubuntu ship transparent huge pages
/// in `madvise` mode, so the kernel uses them only for memory that asks.
enum HugePages {
    /// Arrays smaller than this stay on small pages (a huge page would be mostly empty).
    static let threshold = 4 << 20

    /// `DEJA_HUGEPAGES=off` keeps small pages, to measure the difference in one binary.
    static let enabled = ProcessInfo.processInfo.environment["DEJA_HUGEPAGES"] != "off"

    /// Advises the 2 MiB-aligned part of `pointer ..< pointer + bytes`.
    static func advise(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        guard enabled, bytes >= threshold else { return }
        let huge = 2 << 20
        let start = (Int(bitPattern: pointer) + huge - 1) & ~(huge - 1)
        let end = (Int(bitPattern: pointer) + bytes) & ~(huge - 1)
        guard end > start else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_HUGEPAGE)
        #endif
    }
}

/// XXH64 (Yann Collet, https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md), streaming:
/// the checksum of index files. Fast (several GB/s), so a 200 MB index is checked in tens of
/// milliseconds, and a fixed, documented function, so files are portable.
struct XXHash64 {
    private static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let p3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

    private var v1: UInt64, v2: UInt64, v3: UInt64, v4: UInt64
    private let seed: UInt64
    private var totalLength: UInt64 = 0
    /// Bytes not yet processed (fewer than 32), in `pending[0..<pendingCount]`.
    private var pending: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var pendingCount = 0

    init(seed: UInt64 = 0) {
        self.seed = seed
        v1 = seed &+ Self.p1 &+ Self.p2
        v2 = seed &+ Self.p2
        v3 = seed
        v4 = seed &- Self.p1
    }

    @inline(__always)
    private static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        var a = acc &+ input &* p2
        a = (a << 31) | (a >> 33)
        return a &* p1
    }

    @inline(__always)
    private static func merge(_ acc: UInt64, _ value: UInt64) -> UInt64 {
        (acc ^ round(0, value)) &* p1 &+ p4
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var p = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        totalLength &+= UInt64(remaining)
        if pendingCount > 0 {
            let take = min(32 - pendingCount, remaining)
            withUnsafeMutableBytes(of: &pending) { buffer in
                (buffer.baseAddress! + pendingCount).copyMemory(from: p, byteCount: take)
            }
            pendingCount += take
            p += take
            remaining -= take
            if pendingCount < 32 { return }
            let stripe = pending
            v1 = Self.round(v1, UInt64(littleEndian: stripe.0))
            v2 = Self.round(v2, UInt64(littleEndian: stripe.1))
            v3 = Self.round(v3, UInt64(littleEndian: stripe.2))
            v4 = Self.round(v4, UInt64(littleEndian: stripe.3))
            pendingCount = 0
        }
        var a = v1, b = v2, c = v3, d = v4
        while remaining >= 32 {
            a = Self.round(a, UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)))
            b = Self.round(b, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            c = Self.round(c, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
            d = Self.round(d, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
            p += 32
            remaining -= 32
        }
        v1 = a; v2 = b; v3 = c; v4 = d
        if remaining > 0 {
            withUnsafeMutableBytes(of: &pending) { buffer in
                buffer.baseAddress!.copyMemory(from: p, byteCount: remaining)
            }
            pendingCount = remaining
        }
    }

    func finalize() -> UInt64 {
        var h: UInt64
        if totalLength >= 32 {
            h = Self.rotl(v1, 1) &+ Self.rotl(v2, 7) &+ Self.rotl(v3, 12) &+ Self.rotl(v4, 18)
            h = Self.merge(h, v1)
            h = Self.merge(h, v2)
            h = Self.merge(h, v3)
            h = Self.merge(h, v4)
        } else {
            h = seed &+ Self.p5
        }
        h &+= totalLength
        var tail = pending
        let count = pendingCount
        withUnsafeBytes(of: &tail) { buffer in
            var p = buffer.baseAddress!
            var left = count
            while left >= 8 {
                h ^= Self.round(0, UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)))
                h = Self.rotl(h, 27) &* Self.p1 &+ Self.p4
                p += 8
                left -= 8
            }
            if left >= 4 {
                h ^= UInt64(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))) &* Self.p1
                h = Self.rotl(h, 23) &* Self.p2 &+ Self.p3
                p += 4
                left -= 4
            }
            while left > 0 {
                h ^= UInt64(p.load(as: UInt8.self)) &* Self.p5
                h = Self.rotl(h, 11) &* Self.p1
                p += 1
                left -= 1
            }
        }
        h ^= h >> 33
        h = h &* Self.p2
        h ^= h >> 29
        h = h &* Self.p3
        h ^= h >> 32
        return h
    }

    /// The hash of `bytes` in one call.
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        var h = XXHash64(seed: seed)
        h.update(bytes)
        return h.finalize()
    }
}

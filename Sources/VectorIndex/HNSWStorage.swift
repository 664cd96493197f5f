/// The contiguous buffers behind an ``HNSWIndex``: no object per node (hnswlib `hnswalg.h`).
///
/// Slot `s` (a `UInt32`) owns
/// - its normalised vector, kept apart from the links so that BLAS can scan them: `dimension`
///   floats at `vectors + s * dimension` (64-byte aligned rows when `dimension` is a multiple
///   of 16), or with `int8` encoding `dimension` bytes at `codes + s * dimension` and a scale
///   at `scales + s` (see ``VectorEncoding``); the other encoding's buffers stay empty;
/// - a level-0 list at `links0 + s * stride0`: a count followed by up to `maxM0` slots;
/// - for a node of level `L > 0`, `L` lists of `1 + maxM` words in `upperLinks`, starting at
///   block `upperBlock[s]`;
/// - its key, tag (a partition number the caller chooses), level and flags (bit 0: deleted) in
///   parallel arrays.
///
/// The class is shared by copies of an ``HNSWIndex`` and copied before a write when it is not
/// uniquely referenced (copy-on-write); concurrent readers never write to it.
/// `@unchecked Sendable`: raw buffers, shared between copies and written only by a unique owner
/// or under ``SharedIndex``'s write lock.
final class HNSWStorage: @unchecked Sendable {
    let dimension: Int
    let encoding: VectorEncoding
    let maxM: Int
    let maxM0: Int
    let stride0: Int
    let strideUpper: Int

    /// Slots allocated.
    private(set) var capacity: Int
    /// Slots in use, live or deleted.
    var count: Int = 0
    private(set) var upperCapacity: Int
    /// Upper-level blocks in use.
    var upperCount: Int = 0

    private(set) var vectors: UnsafeMutablePointer<Float>
    private(set) var codes: UnsafeMutablePointer<Int8>
    private(set) var scales: UnsafeMutablePointer<Float>
    private(set) var links0: UnsafeMutablePointer<UInt32>
    private(set) var levels: UnsafeMutablePointer<UInt8>
    private(set) var flags: UnsafeMutablePointer<UInt8>
    private(set) var keys: UnsafeMutablePointer<UInt64>
    private(set) var tags: UnsafeMutablePointer<UInt32>
    private(set) var upperBlock: UnsafeMutablePointer<UInt32>
    private(set) var upperLinks: UnsafeMutablePointer<UInt32>

    static let deletedFlag: UInt8 = 1

    init(dimension: Int, m: Int, capacity: Int, encoding: VectorEncoding = .float32) {
        self.dimension = dimension
        self.encoding = encoding
        self.maxM = m
        self.maxM0 = 2 * m
        self.stride0 = 1 + 2 * m
        self.strideUpper = 1 + m
        self.capacity = max(capacity, 1)
        self.upperCapacity = max(self.capacity / max(m, 1) + 16, 16)
        vectors = Self.allocate(Float.self, encoding == .float32 ? self.capacity * dimension : 0)
        codes = Self.allocate(Int8.self, encoding == .int8 ? self.capacity * dimension : 0)
        scales = Self.allocate(Float.self, encoding == .int8 ? self.capacity : 0)
        links0 = Self.allocate(UInt32.self, self.capacity * stride0)
        levels = Self.allocate(UInt8.self, self.capacity)
        flags = Self.allocate(UInt8.self, self.capacity)
        keys = Self.allocate(UInt64.self, self.capacity)
        tags = Self.allocate(UInt32.self, self.capacity)
        upperBlock = Self.allocate(UInt32.self, self.capacity)
        upperLinks = Self.allocate(UInt32.self, upperCapacity * strideUpper)
    }

    deinit {
        vectors.deallocate()
        codes.deallocate()
        scales.deallocate()
        links0.deallocate()
        levels.deallocate()
        flags.deallocate()
        keys.deallocate()
        tags.deallocate()
        upperBlock.deallocate()
        upperLinks.deallocate()
    }

    private static func allocate<T>(_: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
        let bytes = max(count, 1) * MemoryLayout<T>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        HugePages.advise(raw, bytes: bytes)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    private static func reallocate<T>(
        _ old: UnsafeMutablePointer<T>, used: Int, newCount: Int
    ) -> UnsafeMutablePointer<T> {
        let new = allocate(T.self, newCount)
        new.update(from: old, count: used)
        old.deallocate()
        return new
    }

    /// A deep copy with the same capacity (for copy-on-write).
    func copy() -> HNSWStorage {
        let c = HNSWStorage(dimension: dimension, m: maxM, capacity: capacity, encoding: encoding)
        c.reserveUpper(blocks: upperCapacity)
        c.count = count
        c.upperCount = upperCount
        c.vectors.update(from: vectors, count: floats(count))
        c.codes.update(from: codes, count: codeBytes(count))
        c.scales.update(from: scales, count: scaleCount(count))
        c.links0.update(from: links0, count: count * stride0)
        c.levels.update(from: levels, count: count)
        c.flags.update(from: flags, count: count)
        c.keys.update(from: keys, count: count)
        c.tags.update(from: tags, count: count)
        c.upperBlock.update(from: upperBlock, count: count)
        c.upperLinks.update(from: upperLinks, count: upperCount * strideUpper)
        return c
    }

    /// Grows the slot arrays to hold at least `slots` slots.
    func reserve(slots: Int) {
        guard slots > capacity else { return }
        vectors = Self.reallocate(vectors, used: floats(count), newCount: floats(slots))
        codes = Self.reallocate(codes, used: codeBytes(count), newCount: codeBytes(slots))
        scales = Self.reallocate(scales, used: scaleCount(count), newCount: scaleCount(slots))
        links0 = Self.reallocate(links0, used: count * stride0, newCount: slots * stride0)
        levels = Self.reallocate(levels, used: count, newCount: slots)
        flags = Self.reallocate(flags, used: count, newCount: slots)
        keys = Self.reallocate(keys, used: count, newCount: slots)
        tags = Self.reallocate(tags, used: count, newCount: slots)
        upperBlock = Self.reallocate(upperBlock, used: count, newCount: slots)
        capacity = slots
    }

    /// The lengths of the vector buffers for `slots` slots (0 for the encoding not in use).
    func floats(_ slots: Int) -> Int { encoding == .float32 ? slots * dimension : 0 }
    func codeBytes(_ slots: Int) -> Int { encoding == .int8 ? slots * dimension : 0 }
    func scaleCount(_ slots: Int) -> Int { encoding == .int8 ? slots : 0 }

    /// Grows the upper-level pool to hold at least `blocks` blocks.
    func reserveUpper(blocks: Int) {
        guard blocks > upperCapacity else { return }
        upperLinks = Self.reallocate(upperLinks, used: upperCount * strideUpper, newCount: blocks * strideUpper)
        upperCapacity = blocks
    }

    /// Appends a slot of level `level` with empty link lists and returns its number.
    /// Grows by half when full: doubling would waste up to half of a large index's memory.
    func appendSlot(level: Int) -> UInt32 {
        if count == capacity {
            reserve(slots: capacity + max(capacity / 2, 64))
        }
        let slot = count
        count += 1
        levels[slot] = UInt8(level)
        flags[slot] = 0
        tags[slot] = 0
        links0[slot * stride0] = 0
        if level > 0 {
            if upperCount + level > upperCapacity {
                reserveUpper(blocks: upperCapacity + max(upperCapacity / 2, level + 16))
            }
            upperBlock[slot] = UInt32(upperCount)
            for l in 0..<level {
                upperLinks[(upperCount + l) * strideUpper] = 0
            }
            upperCount += level
        } else {
            upperBlock[slot] = UInt32.max
        }
        return UInt32(slot)
    }

    /// Pointers to the buffers as they are now, for hot loops (reading a class's `var` on every
    /// step costs an exclusivity check). Take a new view after anything that may grow the storage.
    var view: GraphView {
        GraphView(
            vectors: vectors, codes: encoding == .int8 ? codes : nil, scales: scales, links0: links0, upperBlock: upperBlock, upperLinks: upperLinks,
            flags: flags, keys: keys, tags: tags, levels: levels,
            dimension: dimension, stride0: stride0, strideUpper: strideUpper, slots: count)
    }

    /// Bytes held by the buffers (allocated capacity, not only what is in use).
    var allocatedBytes: Int {
        capacity * (encoding.bytesPerVector(dimension: dimension) + stride0 * 4 + 1 + 1 + 8 + 4 + 4)
            + upperCapacity * strideUpper * 4
    }
}

/// The on-disk format of Deja index files, version 1. All integers are little-endian.
///
/// | offset | bytes | field |
/// |-------:|------:|-------|
/// | 0  | 8 | magic `DEJAVIDX` |
/// | 8  | 4 | format version (1) |
/// | 12 | 4 | kind: 1 flat, 2 HNSW |
/// | 16 | 4 | metric: 1 cosine (inner product of normalised vectors) |
/// | 20 | 4 | dimension |
/// | 24 | 8 | slots (live and deleted) |
/// | 32 | 8 | live vectors |
/// | 40 | 4 | M (HNSW; 0 for flat) |
/// | 44 | 4 | efConstruction |
/// | 48 | 4 | efSearch |
/// | 52 | 4 | top level |
/// | 56 | 8 | level seed |
/// | 64 | 4 | entry point slot (0xFFFFFFFF: none) |
/// | 68 | 4 | upper-level link blocks |
/// | 72 | 8 | total file length, trailer included |
/// | 80 | 8 | metadata bytes |
/// | 88 | 4 | vector encoding: 0 float32, 1 int8 (HNSW; 0 for flat) |
/// | 92 | 4 | reserved (0) |
///
/// Then the sections, each a plain array: keys (u64 per slot), tags (u32), levels (u8), flags
/// (u8), upper block numbers (u32), vectors (dimension f32 per slot; with int8 encoding,
/// dimension i8 per slot and then one f32 scale per slot), level-0 links (1 + 2M u32
/// per slot), upper links (1 + M u32 per block), free slots (u32, in reuse order; their count is
/// slots − live), then the caller's metadata (opaque bytes; the cache keeps its embedder's
/// identity and store position there). A flat index has keys, vectors and metadata. Last comes
/// the XXH64 of every byte before it.
///
/// A reader checks the magic, the version, the length (a short file is *truncated*), the
/// checksum (a damaged file is *corrupt*) and then the structure (every link names a slot, every
/// list fits its level), so that a bad file is rejected with its name and the reason, and a file
/// that loads answers exactly as the index that wrote it.
enum IndexFile {
    static let magic: UInt64 = 0x5844_4956_414A_4544  // "DEJAVIDX" read as a little-endian u64
    static let version: UInt32 = 1
    static let headerSize = 96

    enum Kind: UInt32 {
        case flat = 1
        case hnsw = 2

        var name: String { self == .flat ? "flat" : "HNSW" }
    }

    static let cosine: UInt32 = 1

    struct Header {
        var kind: Kind
        var dimension: Int
        var slots: Int
        var live: Int
        var m: Int = 0
        var efConstruction: Int = 0
        var efSearch: Int = 0
        var topLevel: Int = 0
        var seed: UInt64 = 0
        var entryPoint: UInt32 = .max
        var upperBlocks: Int = 0
        var metadataLength: Int = 0
        var totalLength: Int = 0
        var encoding: VectorEncoding = .float32

        /// The file length these fields imply.
        var expectedLength: Int {
            switch kind {
            case .flat:
                return headerSize + slots * 8 + slots * dimension * 4 + metadataLength + 8
            case .hnsw:
                return headerSize + slots * (8 + 4 + 1 + 1 + 4) + slots * encoding.bytesPerVector(dimension: dimension)
                    + slots * (1 + 2 * m) * 4 + upperBlocks * (1 + m) * 4 + (slots - live) * 4 + metadataLength + 8
            }
        }

        func write(to writer: IndexFileWriter) throws(IndexError) {
            try writer.write(IndexFile.magic.littleEndian)
            try writer.write(IndexFile.version.littleEndian)
            try writer.write(kind.rawValue.littleEndian)
            try writer.write(IndexFile.cosine.littleEndian)
            try writer.write(UInt32(dimension).littleEndian)
            try writer.write(UInt64(slots).littleEndian)
            try writer.write(UInt64(live).littleEndian)
            try writer.write(UInt32(m).littleEndian)
            try writer.write(UInt32(efConstruction).littleEndian)
            try writer.write(UInt32(efSearch).littleEndian)
            try writer.write(UInt32(topLevel).littleEndian)
            try writer.write(seed.littleEndian)
            try writer.write(entryPoint.littleEndian)
            try writer.write(UInt32(upperBlocks).littleEndian)
            try writer.write(UInt64(expectedLength).littleEndian)
            try writer.write(UInt64(metadataLength).littleEndian)
            try writer.write(encoding.fileCode.littleEndian)
            try writer.write(UInt32(0))
        }

        /// Reads and checks the header: magic, version, kind, metric, sizes and the file length.
        static func read(from reader: IndexFileReader, expecting expected: Kind) throws(IndexError) -> Header {
            let path = reader.path
            guard reader.fileSize >= 8 else {
                throw .notAnIndexFile(path: path)
            }
            guard UInt64(littleEndian: try reader.read(UInt64.self)) == IndexFile.magic else {
                throw .notAnIndexFile(path: path)
            }
            guard reader.fileSize >= headerSize else {
                throw .truncatedFile(path: path, expectedBytes: headerSize, actualBytes: reader.fileSize)
            }
            let version = UInt32(littleEndian: try reader.read(UInt32.self))
            guard version == IndexFile.version else {
                throw .unsupportedVersion(path: path, found: version, supported: IndexFile.version)
            }
            let rawKind = UInt32(littleEndian: try reader.read(UInt32.self))
            guard let kind = Kind(rawValue: rawKind) else {
                throw .corruptFile(path: path, reason: "unknown index kind \(rawKind)")
            }
            guard kind == expected else {
                throw .wrongIndexKind(path: path, found: kind.name, expected: expected.name)
            }
            let metric = UInt32(littleEndian: try reader.read(UInt32.self))
            guard metric == IndexFile.cosine else {
                throw .corruptFile(path: path, reason: "unknown metric \(metric)")
            }
            var h = Header(kind: kind, dimension: Int(UInt32(littleEndian: try reader.read(UInt32.self))), slots: 0, live: 0)
            let slots = UInt64(littleEndian: try reader.read(UInt64.self))
            let live = UInt64(littleEndian: try reader.read(UInt64.self))
            h.m = Int(UInt32(littleEndian: try reader.read(UInt32.self)))
            h.efConstruction = Int(UInt32(littleEndian: try reader.read(UInt32.self)))
            h.efSearch = Int(UInt32(littleEndian: try reader.read(UInt32.self)))
            h.topLevel = Int(UInt32(littleEndian: try reader.read(UInt32.self)))
            h.seed = UInt64(littleEndian: try reader.read(UInt64.self))
            h.entryPoint = UInt32(littleEndian: try reader.read(UInt32.self))
            h.upperBlocks = Int(UInt32(littleEndian: try reader.read(UInt32.self)))
            let total = UInt64(littleEndian: try reader.read(UInt64.self))
            let metadata = UInt64(littleEndian: try reader.read(UInt64.self))
            let encodingCode = UInt32(littleEndian: try reader.read(UInt32.self))
            _ = try reader.read(UInt32.self)
            guard let encoding = VectorEncoding(fileCode: encodingCode), kind == .hnsw || encoding == .float32 else {
                throw .corruptFile(path: path, reason: "unknown vector encoding \(encodingCode)")
            }
            h.encoding = encoding
            // Bound every size before multiplying, so a damaged header cannot overflow or
            // make us allocate terabytes.
            guard (1...65_536).contains(h.dimension), slots <= UInt64(UInt32.max), live <= slots,
                  total <= UInt64(Int.max / 2), metadata <= total, h.topLevel <= 64
            else {
                throw .corruptFile(path: path, reason: "header fields out of range")
            }
            if kind == .hnsw {
                guard (2...256).contains(h.m) else { throw .corruptFile(path: path, reason: "M = \(h.m) out of range") }
            }
            h.slots = Int(slots)
            h.live = Int(live)
            h.totalLength = Int(total)
            h.metadataLength = Int(metadata)
            guard h.totalLength == h.expectedLength else {
                throw .corruptFile(
                    path: path, reason: "header says \(h.totalLength) bytes but its fields need \(h.expectedLength)")
            }
            if reader.fileSize < h.totalLength {
                throw .truncatedFile(path: path, expectedBytes: h.totalLength, actualBytes: reader.fileSize)
            }
            if reader.fileSize > h.totalLength {
                throw .corruptFile(
                    path: path, reason: "\(reader.fileSize - h.totalLength) unexpected bytes after the index")
            }
            return h
        }
    }
}

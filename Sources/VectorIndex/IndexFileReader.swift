#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads an index file from start to end, hashing every byte before the trailer, and reports
/// a short file as truncated rather than reading past its end.
final class IndexFileReader {
    let path: String
    private let fd: Int32
    let fileSize: Int
    private(set) var offset = 0
    private var hasher = XXHash64()

    init(path: String) throws(IndexError) {
        self.path = path
        // Set as properties only once nothing can throw: `deinit` closes `fd`, and runs when an
        // initialiser throws after setting every property; a second close could hit a file
        // another thread has since opened under the same number.
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw .fileAccess(path: path, reason: SystemCall.errorDescription())
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = SystemCall.errorDescription()
            close(fd)
            throw .fileAccess(path: path, reason: reason)
        }
        self.fd = fd
        fileSize = Int(info.st_size)
    }

    deinit {
        close(fd)
    }

    /// Reads exactly `count` bytes into `destination`, hashing them unless `hashed` is false.
    func read(into destination: UnsafeMutableRawPointer, count: Int, hashed: Bool = true) throws(IndexError) {
        var done = 0
        while done < count {
            let n = SystemCall.read(fd, destination + done, min(count - done, 1 << 24))
            if n < 0 {
                if errno == EINTR { continue }
                throw .fileAccess(path: path, reason: "read failed: \(SystemCall.errorDescription())")
            }
            if n == 0 {
                throw .truncatedFile(path: path, expectedBytes: offset + count, actualBytes: offset + done)
            }
            done += n
        }
        if hashed { hasher.update(UnsafeRawBufferPointer(start: destination, count: count)) }
        offset += count
    }

    func read<T: BitwiseCopyable>(_: T.Type) throws(IndexError) -> T {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<T>.size, alignment: 16)
        defer { raw.deallocate() }
        try read(into: raw, count: MemoryLayout<T>.size)
        return raw.loadUnaligned(as: T.self)
    }

    func read<T: BitwiseCopyable>(into pointer: UnsafeMutablePointer<T>, count: Int) throws(IndexError) {
        try read(into: UnsafeMutableRawPointer(pointer), count: count * MemoryLayout<T>.stride)
    }

    /// Reads `count` opaque bytes.
    func readMetadata(count: Int) throws(IndexError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBufferPointer { (raw) throws(IndexError) in
            if count > 0 { try read(into: UnsafeMutableRawPointer(raw.baseAddress!), count: count) }
        }
        return bytes
    }

    /// Reads the trailer and compares it with the hash of everything read so far.
    func verifyChecksum() throws(IndexError) {
        let computed = hasher.finalize()
        var stored: UInt64 = 0
        try withUnsafeMutableBytes(of: &stored) { (raw) throws(IndexError) in
            try read(into: raw.baseAddress!, count: 8, hashed: false)
        }
        guard UInt64(littleEndian: stored) == computed else {
            throw .corruptFile(
                path: path,
                reason: "checksum mismatch (stored \(hex(UInt64(littleEndian: stored))), computed \(hex(computed)))")
        }
        guard offset == fileSize else {
            throw .corruptFile(path: path, reason: "\(fileSize - offset) unexpected bytes after the checksum")
        }
    }
}

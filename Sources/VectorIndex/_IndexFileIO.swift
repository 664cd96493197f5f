#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}

private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}

private func systemError() -> String {
    String(cString: strerror(errno))
}

/// Writes an index file atomically: everything goes to a temporary file beside the target,
/// which is flushed to disk and then renamed over the target, so a crash leaves either the old
/// file or the new one, never half of one. Every byte written is hashed for the trailer.
final class _IndexFileWriter {
    let path: String
    private let temporaryPath: String
    private var fd: Int32
    private var hasher = _XXHash64()
    private static let bufferSize = 1 << 16
    private let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 16)
    private var buffered = 0
    private(set) var bytesWritten = 0

    /// What ends the name of a save's temporary file: `<path>.<pid>.deja-tmp`.
    static let temporarySuffix = ".deja-tmp"

    /// The temporary file of a save by process `pid`.
    static func temporaryPath(of path: String, pid: Int32) -> String { "\(path).\(pid)\(temporarySuffix)" }

    init(path: String) throws(IndexError) {
        self.path = path
        temporaryPath = Self.temporaryPath(of: path, pid: getpid())
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw .fileAccess(path: path, reason: "cannot create \(temporaryPath): \(systemError())")
        }
    }

    deinit {
        buffer.deallocate()
        if fd >= 0 {
            close(fd)
            unlink(temporaryPath)
        }
    }

    func write<T: BitwiseCopyable>(_ value: T) throws(IndexError) {
        var v = value
        try withUnsafeBytes(of: &v) { (raw) throws(IndexError) in try write(raw) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(IndexError) {
        hasher.update(bytes)
        bytesWritten += bytes.count
        guard bytes.count > 0 else { return }
        if buffered + bytes.count > Self.bufferSize {
            try flush()
        }
        if bytes.count >= Self.bufferSize {
            try writeAll(bytes)
        } else {
            (buffer + buffered).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            buffered += bytes.count
        }
    }

    func write<T: BitwiseCopyable>(_ pointer: UnsafePointer<T>, count: Int) throws(IndexError) {
        try write(UnsafeRawBufferPointer(start: pointer, count: count * MemoryLayout<T>.stride))
    }

    private func flush() throws(IndexError) {
        guard buffered > 0 else { return }
        let count = buffered
        buffered = 0
        try writeAll(UnsafeRawBufferPointer(start: buffer, count: count))
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(IndexError) {
        var offset = 0
        while offset < bytes.count {
            let n = posixWrite(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw .fileAccess(path: path, reason: "write failed: \(systemError())")
            }
            offset += n
        }
    }

    /// Appends the checksum, flushes the file to disk and renames it over the target.
    func commit() throws(IndexError) {
        try flush()
        var checksum = hasher.finalize().littleEndian
        try withUnsafeBytes(of: &checksum) { (raw) throws(IndexError) in try writeAll(raw) }
        guard fsync(fd) == 0 else { throw .fileAccess(path: path, reason: "fsync failed: \(systemError())") }
        close(fd)
        fd = -1
        guard rename(temporaryPath, path) == 0 else {
            let reason = systemError()
            unlink(temporaryPath)
            throw .fileAccess(path: path, reason: "rename failed: \(reason)")
        }
        // Make the rename itself durable.
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let dfd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }
}

/// Reads an index file from start to end, hashing every byte before the trailer, and reports
/// a short file as truncated rather than reading past its end.
final class _IndexFileReader {
    let path: String
    private let fd: Int32
    let fileSize: Int
    private(set) var offset = 0
    private var hasher = _XXHash64()

    init(path: String) throws(IndexError) {
        self.path = path
        // Set as properties only once nothing can throw: `deinit` closes `fd`, and runs when an
        // initialiser throws after setting every property; a second close could hit a file
        // another thread has since opened under the same number.
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw .fileAccess(path: path, reason: systemError())
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = systemError()
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
            let n = posixRead(fd, destination + done, min(count - done, 1 << 24))
            if n < 0 {
                if errno == EINTR { continue }
                throw .fileAccess(path: path, reason: "read failed: \(systemError())")
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

func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
}

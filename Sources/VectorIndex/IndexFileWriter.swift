#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes an index file atomically: everything goes to a temporary file beside the target,
/// which is flushed to disk and then renamed over the target, so a crash leaves either the old
/// file or the new one, never half of one. Every byte written is hashed for the trailer.
final class IndexFileWriter {
    let path: String
    private let temporaryPath: String
    private var fd: Int32
    private var hasher = XXHash64()
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
            throw .fileAccess(path: path, reason: "cannot create \(temporaryPath): \(SystemCall.errorDescription())")
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
            let n = SystemCall.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw .fileAccess(path: path, reason: "write failed: \(SystemCall.errorDescription())")
            }
            offset += n
        }
    }

    /// Appends the checksum, flushes the file to disk and renames it over the target.
    func commit() throws(IndexError) {
        try flush()
        var checksum = hasher.finalize().littleEndian
        try withUnsafeBytes(of: &checksum) { (raw) throws(IndexError) in try writeAll(raw) }
        guard fsync(fd) == 0 else { throw .fileAccess(path: path, reason: "fsync failed: \(SystemCall.errorDescription())") }
        close(fd)
        fd = -1
        guard rename(temporaryPath, path) == 0 else {
            let reason = SystemCall.errorDescription()
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

func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
}

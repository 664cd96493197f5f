#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on `<store>.lock` for as long as a process has the store open.
///
/// Each Deja process keeps the cache's index, catalog and counters in memory beside the SQLite
/// file; two processes on one file would each miss the other's entries, count capacity alone,
/// and keep serving answers the other purged. Until a shared store exists, one process per
/// store is the rule, and the second is refused at start with the first one's pid.
///
/// `flock` on a file of its own: released by the kernel when the process exits, however it
/// exits (`kill -9` included), so a lock is never left stale; and apart from SQLite's own
/// `fcntl` locks on the database file.
///
/// `@unchecked Sendable`: it holds a file descriptor that only its initialiser and `deinit` touch.
final class StoreLock: @unchecked Sendable {
    private let fd: Int32

    init(store path: String) throws(CacheError) {
        let lockPath = path + ".lock"
        #if canImport(Glibc)
        // The descriptor becomes `self.fd` only once locked: a class whose properties are all set
        // runs `deinit` when its initialiser throws, which would close the descriptor a second
        // time, and by then the number may belong to a file another thread just opened.
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw .store("cannot open the lock file \(lockPath): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            let pid = n > 0 ? Int(String(decoding: buffer[..<n].prefix { $0 >= 0x30 && $0 <= 0x39 }, as: UTF8.self)) : nil
            close(fd)
            throw .store(
                "\(path) is in use by another Deja process\(pid.map { " (pid \($0))" } ?? ""): one process per cache "
                    + "store; stop that one first or give this one its own cache.store (deja cache stats --url "
                    + "and deja cache import --url work through a running gateway)")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.fd = fd
        #else
        fd = -1
        #endif
    }

    deinit {
        #if canImport(Glibc)
        close(fd)  // releases the lock
        #endif
    }
}

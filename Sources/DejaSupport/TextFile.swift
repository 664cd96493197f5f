public import Foundation

/// The text files a user names (configuration, prompts, labelled pairs, token weights), read and
/// written with errors in the system's words: `cannot read pairs.jsonl: no such file or
/// directory`, where Foundation would say `The operation could not be completed. The file
/// doesn't exist.` (or, for a folder, only an error number).
///
/// It lives here because `Embedding` is the lowest module that reads users' files; the cache,
/// the gateway and the command-line tool above it use it too.
public enum TextFile {
    /// The file's contents as UTF-8 text.
    /// - Throws: ``FileAccessError`` saying why the file could not be read.
    public static func read(_ path: String) throws(FileAccessError) -> String {
        if isStream(path) {
            guard let text = String(validating: try data(path), as: UTF8.self) else {
                throw FileAccessError(.read, path: path, reason: "it is not UTF-8 text")
            }
            return text
        }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw FileAccessError(.read, path: path, error: error)
        }
    }

    /// The file's bytes.
    /// - Throws: ``FileAccessError`` saying why the file could not be read.
    public static func data(_ path: String) throws(FileAccessError) -> Data {
        do {
            if isStream(path) {
                // Opened once: a pipe's writer may be gone by a second open.
                guard let handle = FileHandle(forReadingAtPath: path) else {
                    throw FileAccessError(.read, path: path, reason: String(cString: strerror(errno)))
                }
                defer { try? handle.close() }
                return try handle.readToEnd() ?? Data()
            }
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as FileAccessError {
            throw error
        } catch {
            throw FileAccessError(.read, path: path, error: error)
        }
    }

    /// Whether `path` is a pipe or a device (`/dev/stdin` fed by another command, a shell's
    /// `<(...)`), which Foundation's file readers refuse on Linux ("permission denied") and a
    /// file handle reads.
    public static func isStream(_ path: String) -> Bool {
        var status = stat()
        guard stat(path, &status) == 0 else { return false }
        return status.st_mode & S_IFMT == S_IFIFO || status.st_mode & S_IFMT == S_IFCHR
    }

    /// Replaces the file's contents in one step (a temporary file renamed over it).
    /// - Throws: ``FileAccessError`` saying why the file could not be written.
    public static func write(_ text: String, to path: String) throws(FileAccessError) {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw FileAccessError(.write, path: path, error: error)
        }
    }
}

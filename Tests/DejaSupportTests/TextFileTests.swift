import DejaSupport
import Embedding
import Foundation
import Testing
import TestSupport

@Suite("TextFile")
struct TextFileTests {
    @Test("a file that cannot be read or written is named with the system's reason, in one line")
    func reasons() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let missing = dir.path("missing.txt")
        #expect(throws: FileAccessError(.read, path: missing, reason: "no such file or directory")) { try TextFile.read(missing) }
        #expect(throws: FileAccessError(.read, path: dir.url.path, reason: "is a directory")) { try TextFile.read(dir.url.path) }
        let binary = dir.path("binary")
        try Data([0x66, 0xff, 0xfe, 0x00]).write(to: URL(fileURLWithPath: binary))
        #expect(throws: FileAccessError(.read, path: binary, reason: "it is not UTF-8 text")) { try TextFile.read(binary) }
        let nowhere = dir.path("no/such/folder.yaml")
        do {
            try TextFile.write("x", to: nowhere)
            Issue.record("a write into a missing folder succeeded")
        } catch {
            #expect(error.description == "cannot write \(nowhere): no such file or directory")
        }
        let written = dir.path("ok.txt")
        try TextFile.write("héllo\n", to: written)
        #expect(try TextFile.read(written) == "héllo\n")
        #expect(try TextFile.data(written) == Data("héllo\n".utf8))
    }

    /// `deja cache export --url A | deja cache import /dev/stdin --url B`: a pipe is read like a file.
    @Test("a pipe is read like a file: its text, or not UTF-8 text")
    func pipes() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for (bytes, expected) in [(Data("line 1\nline 2\n".utf8), "line 1\nline 2\n"), (Data([0x66, 0xff]), nil)] as [(Data, String?)] {
            let fifo = dir.path("fifo-\(bytes.count)")
            #expect(mkfifo(fifo, 0o600) == 0)
            let writer = Thread {
                let handle = FileHandle(forWritingAtPath: fifo)
                try? handle?.write(contentsOf: bytes)
                try? handle?.close()
            }
            writer.start()
            if let expected {
                #expect(try TextFile.read(fifo) == expected)
            } else {
                #expect(throws: FileAccessError(.read, path: fifo, reason: "it is not UTF-8 text")) { try TextFile.read(fifo) }
            }
        }
        #expect(try TextFile.data("/dev/null").isEmpty)
    }
}

import DejaSupport
import Foundation
@testable import Gateway
import SemanticCache

/// The fuzz target of `make reliability`: a request body as a client might send it, through
/// the JSON parser and the proxy's decoder, checking what must hold for any input.
///
/// Built with `-sanitize=fuzzer,address -DDEJA_FUZZ`, libFuzzer drives `LLVMFuzzerTestOneInput`
/// (Benchmarks/reliability/fuzz.sh). Built plainly (as `swift build` does), `deja-fuzz FILE...`
/// runs the same checks once over each file or each file of a folder: the committed corpus as a
/// regression run, without libFuzzer.
enum DejaFuzz {
    /// One input: it may be refused with a typed error, never crash, and whatever is accepted
    /// must round-trip and give one cache key.
    static func check(_ bytes: UnsafeRawBufferPointer) {
        guard let value = try? JSONValue.parse(bytes) else { return }
        // What the parser accepts, its own writer writes back to the same value.
        let canonical = value.canonicalData
        guard let again = try? JSONValue.parse(canonical), again == value else {
            fatalError("canonical form does not parse back to the same value: \(String(decoding: canonical, as: UTF8.self))")
        }
        for api in [ProxyAPI.chat, .completions, .responses] {
            guard (try? api.validate(value)) != nil else { continue }
            let first = api.cacheRequest(value, tenant: "t", partition: nil)
            let second = api.cacheRequest(again, tenant: "t", partition: nil)
            let namespace = first.namespace(shared: false)
            guard namespace == second.namespace(shared: false),
                  first.exactKey(in: namespace) == second.exactKey(in: namespace) else {
                fatalError("one body gave two cache keys")
            }
            _ = ProxyAPI.estimatedPromptTokens(value)
            _ = ProxyAPI.hasProviderSideEffects(value)
        }
    }
}

#if DEJA_FUZZ
/// libFuzzer's entry: its own `main` drives it (Benchmarks/reliability/fuzz.sh links without
/// SwiftPM's `main` alias for this).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    DejaFuzz.check(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
@main
struct DejaFuzzReplay {
    static func main() throws {
        var files: [String] = []
        for argument in CommandLine.arguments.dropFirst() {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isFolder) else {
                FileHandle.standardError.write(Data("deja-fuzz: no such file or folder: \(argument)\n".utf8))
                exit(2)
            }
            if isFolder.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: argument).sorted()
                files += names.map { argument + "/" + $0 }
            } else {
                files.append(argument)
            }
        }
        for file in files {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            data.withUnsafeBytes { DejaFuzz.check($0) }
        }
        print("deja-fuzz: \(files.count) inputs checked")
    }
}
#endif

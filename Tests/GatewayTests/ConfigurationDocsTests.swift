import DejaSupport
import Foundation
@testable import Gateway
import Testing

/// docs/configuration.md and fixtures/deja.example.yaml against the configuration types: every
/// option documented once, nothing documented that is not an option, and each default as the
/// code has it.
@Suite("Configuration documentation")
struct ConfigurationDocsTests {
    /// The rows of the options table: path and default column (without its backquotes).
    static func documentedRows() throws -> [(path: String, defaultValue: String)] {
        let text = try TextFile.read("docs/configuration.md")
        var rows: [(String, String)] = []
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 4 else { continue }
            let path = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            var value = cells[2]
            if value.hasPrefix("`") && value.hasSuffix("`") { value = String(value.dropFirst().dropLast()) }
            rows.append((path, value))
        }
        return rows
    }

    @Test("docs/configuration.md documents every option once, and nothing else")
    func everyOption() throws {
        let documented = try Self.documentedRows().map(\.path)
        let options = ConfigurationSchema.options.map(\.path)
        #expect(options.count > 60)
        #expect(Set(documented).count == documented.count, "an option documented twice")
        #expect(Set(options).subtracting(documented).sorted() == [], "options missing from docs/configuration.md")
        #expect(Set(documented).subtracting(options).sorted() == [], "documented options that do not exist")
    }

    @Test("the defaults in docs/configuration.md are the configuration's own")
    func defaults() throws {
        let documented = Dictionary(try Self.documentedRows().map { ($0.path, $0.defaultValue) }, uniquingKeysWith: { a, _ in a })
        for (path, value) in ConfigurationSchema.options {
            guard let value, let written = documented[path] else { continue }
            if let a = Double(value), let b = Double(written) {
                #expect(abs(a - b) < 1e-6, "\(path): the code's default is \(value), the page says \(written)")
            } else {
                #expect(written == value, "\(path): the code's default is '\(value)', the page says '\(written)'")
            }
        }
    }

    @Test("fixtures/deja.example.yaml is valid and names every option")
    func exampleFile() throws {
        let text = try TextFile.read("fixtures/deja.example.yaml")
        let c = try DejaConfiguration.load(path: "fixtures/deja.example.yaml", environment: [:])
        #expect(c.server.host == "127.0.0.1")
        for (path, _) in ConfigurationSchema.options {
            let key = path.split(separator: ".").last.map(String.init) ?? path
            #expect(text.contains("\(key):"), "fixtures/deja.example.yaml does not mention \(path)")
        }
        _ = try DejaConfiguration.load(path: "fixtures/deja.run.yaml", environment: [:])
    }
}

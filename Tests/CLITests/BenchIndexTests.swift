import Foundation
import Testing
import TestSupport

@Suite("deja bench index")
struct BenchIndexTests {
    static let small = ["bench", "index", "--n", "300", "--dim", "16", "--queries", "5", "--ef", "16", "--reps", "1",
                        "--warmup", "0", "--json"]

    @Test("--vectors float32,int8 measures both on the same data, and a saved index of another encoding is refused in one line")
    func encodings() throws {
        let both = try DejaBinary.run(Self.small + ["--vectors", "float32,int8"])
        #expect(both.status == 0, "\(both.stderr)")
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(both.stdout.utf8)) as? [[String: Any]])
        #expect(reports.map { $0["vectors"] as? String } == ["float32", "int8"])
        let bytes = reports.map { (($0["build"] as? [String: Any])?["stats"] as? [String: Any])?["vectorBytes"] as? Int }
        #expect(bytes == [300 * 16 * 4, 300 * (16 + 4)])

        let directory = try TemporaryDirectory("deja-bench-index")
        defer { directory.remove() }
        let file = directory.path("float.hnsw")
        #expect(try DejaBinary.run(Self.small + ["--index-file", file]).status == 0)
        let wrong = try DejaBinary.run(Self.small + ["--index-file", file, "--vectors", "int8"])
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("float32 vectors") && wrong.stderr.contains("remove it"), "\(wrong.stderr)")
        #expect(wrong.stderr.split(separator: "\n").count == 1, "\(wrong.stderr)")
    }
}

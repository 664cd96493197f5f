import ArgumentParser
import VectorIndex

extension Deja {
    struct BenchIndex: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "index", abstract: "Benchmark the vector index.")
        func run() async throws {}
    }
}

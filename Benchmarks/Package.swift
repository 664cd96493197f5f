// swift-tools-version:6.2
// Deja's benchmarks, a package of their own so that the main package does not depend on
// package-benchmark. Run from this folder: `swift package benchmark`.

import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder, so the main package's identity is the name
/// of whatever folder the repository was cloned into.
let dejaPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

let package = Package(
    name: "DejaBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        benchmark("IndexBenchmarks", using: ["VectorIndex"]),
        benchmark("CacheBenchmarks", using: ["SemanticCache", "Embedding"]),
        benchmark("EmbeddingBenchmarks", using: ["Embedding"]),
        benchmark("JSONBenchmarks", using: ["DejaSupport"]),
    ]
)

/// A benchmark executable in `Benchmarks/<name>` over some of Deja's modules.
func benchmark(_ name: String, using modules: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: [.product(name: "Benchmark", package: "package-benchmark")]
            + modules.map { .product(name: $0, package: dejaPackage) },
        path: "Benchmarks/\(name)",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
    )
}

import ArgumentParser
import Foundation
import Gateway
import SemanticCache

/// `--config FILE`, shared by every command that reads the configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The configuration file (default: built-in defaults, plus DEJA_* variables).")
    var config: String?

    /// The effective configuration.
    func load() throws -> DejaConfiguration {
        try DejaConfiguration.load(path: config)
    }

    /// The effective configuration of a cache that exists: for commands that read a cache,
    /// which must not make an empty one in whatever folder they run in.
    func loadExistingCache() throws -> DejaConfiguration {
        let configuration = try load()
        guard FileManager.default.fileExists(atPath: configuration.cache.store) else {
            throw CommandFailure(
                "there is no cache at \(configuration.cache.store) (cache.store): give the gateway's configuration with --config")
        }
        return configuration
    }
}

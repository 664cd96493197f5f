import ArgumentParser
import Gateway

/// `--config FILE`, shared by every command that reads the configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The configuration file (default: built-in defaults, plus DEJA_* variables).")
    var config: String?

    /// The effective configuration.
    func load() throws -> DejaConfiguration {
        try DejaConfiguration.load(path: config)
    }
}

import MockProvider
import ArgumentParser

/// The `deja` command: configuration only; each subcommand lives in its own file.
@main
struct Deja: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deja",
        abstract: "A self-hosted semantic cache and AI gateway.",
        version: "0.1.0",
        subcommands: [Serve.self, MockUpstreamCommand.self, Config.self, Tune.self, Cache.self, Keys.self, Tenants.self, Usage.self, Guard.self, Bench.self]
    )

    /// Checks OpenBLAS's kernels (which may re-execute the process) before parsing the command.
    static func main() async {
        BLASCoreCheck.run()
        await main(nil)
    }
}

extension Deja {
    /// `deja bench ...`: throughput benchmarks.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure the throughput of Deja's parts.",
            subcommands: [BenchIndex.self, BenchEmbed.self, BenchGateway.self, BenchLedger.self, BenchGuards.self]
        )
    }
}

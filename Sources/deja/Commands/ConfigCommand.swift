import ArgumentParser
import Embedding
import Foundation
import Gateway

extension Deja {
    /// `deja config ...`.
    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check configuration files.", subcommands: [Check.self])
    }
}

extension Deja.Config {
    /// `deja config check FILE`: validate and print the effective configuration.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration file and print the effective configuration.",
            discussion: """
                Prints every option with its effective value (defaults and DEJA_* overrides applied). \
                Keys are never in the file, only the names of the variables that hold them; those are \
                listed with whether they are set, never with their values. A bad file gives one line \
                per problem with its path, and a non-zero exit status.
                """)

        @Argument(help: "The configuration file.") var file: String

        func run() throws {
            let configuration: DejaConfiguration
            do throws(ConfigurationError) {
                configuration = try DejaConfiguration.load(path: file)
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode.failure
            }
            // The file is valid, but `deja serve` would still stop on a missing model: say so here.
            if configuration.embedder.kind == .minilm {
                let folder = configuration.embedder.minilm.path
                for name in ["model.safetensors", "vocab.txt", "config.json"]
                where !FileManager.default.fileExists(atPath: URL(fileURLWithPath: folder).appendingPathComponent(name).path) {
                    FileHandle.standardError.write(Data("\(file): embedder.minilm.path: \(folder) has no \(name); run `make model` there, or set the path to the model folder\n".utf8))
                    throw ExitCode.failure
                }
            }
            if configuration.server.tls.isEnabled {
                do throws(ConfigurationError) {
                    try ServerTLS.check(configuration.server.tls)
                } catch {
                    FileHandle.standardError.write(Data("\(ConfigurationError(error.problems, file: file))\n".utf8))
                    throw ExitCode.failure
                }
            }
            let environment = ProcessInfo.processInfo.environment
            func status(_ name: String) -> String { environment[name]?.isEmpty == false ? "set" : "NOT SET" }
            var lines = ["# effective configuration of \(file)", "# secrets (only the variable names are shown):"]
            lines.append("#   server.admin_key_env \(configuration.server.adminKeyEnv): \(status(configuration.server.adminKeyEnv))")
            for (name, provider) in configuration.providers.sorted(by: { $0.key < $1.key }) {
                if let variable = provider.apiKeyEnv {
                    lines.append("#   providers.\(name).api_key_env \(variable): \(status(variable))")
                } else {
                    lines.append("#   providers.\(name): no key variable; clients' own keys are forwarded")
                }
            }
            if let variable = configuration.embedder.remote?.apiKeyEnv {
                lines.append("#   embedder.remote.api_key_env \(variable): \(status(variable))")
            }
            print(lines.joined(separator: "\n"))
            print(configuration.yaml, terminator: "")
        }
    }
}

import ArgumentParser
import AsyncHTTPClient
import DejaSupport
import Foundation
import Gateway
import Logging
import NIOHTTP1

/// Where `deja keys`, `deja tenants` and `deja usage` do their work: on the governance store
/// file itself (which a running gateway reloads within `governance.reload_interval`), or with
/// `--url` through a running gateway's admin API.
struct GovernanceAccess {
    enum Mode {
        case store(KeyAdministration)
        case gateway(AdminClient)
    }

    let mode: Mode

    /// The access the options ask for: the gateway at `--url` (through the shared HTTP client,
    /// which needs no shutdown), else the store file of the configuration.
    static func open(_ options: GovernanceOptions) async throws -> GovernanceAccess {
        if let url = options.url {
            return GovernanceAccess(mode: .gateway(try AdminClient(url: url, keyVariable: options.adminKeyEnv, client: .shared)))
        }
        let configuration = try options.configuration.load()
        do {
            let store = try await Governance.openStore(configuration.governance, logger: Logger(label: "deja.keys"))
            return GovernanceAccess(mode: .store(KeyAdministration(store: store)))
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    /// One administrative call: on the store, `local`; through the gateway, `method path body`
    /// decoded as `T`.
    func call<T: Decodable>(
        _ method: HTTPMethod, _ path: String, body: JSONValue? = nil, local: @escaping @Sendable (KeyAdministration) async throws -> T
    ) async throws -> T {
        switch mode {
        case .store(let administration):
            do {
                return try await local(administration)
            } catch let error as GovernanceError {
                throw CommandFailure(error.description)
            }
        case .gateway(let admin):
            let answer = try await admin.send(method, path, body: body)
            guard (200..<300).contains(answer.status) else { throw CommandFailure(AdminClient.message(answer)) }
            do {
                return try Self.decoder.decode(T.self, from: answer.json.canonicalData)
            } catch {
                throw CommandFailure("the gateway's answer to \(method.rawValue) \(path) is not what this deja expects: \(error)")
            }
        }
    }

    /// A request body as JSON. Not inlined: inlined into the commands' `run`, its typed-throwing
    /// parse crashes Swift 6.3's release build (LLVM's coroutine splitting, in
    /// `emitSetAndGetSwiftErrorValueAround`).
    @inline(never) static func json(_ value: some Encodable) throws -> JSONValue {
        try JSONValue.parse(try encoder.encode(value))
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static let decoder = JSONDecoder()

    /// Pretty JSON for `--json` and `show`.
    static func printJSON(_ value: some Encodable) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        print(String(decoding: try e.encode(value), as: UTF8.self))
    }

    struct List<Item: Codable>: Codable {
        var data: [Item]
    }
}

/// The options every governance command shares.
struct GovernanceOptions: ParsableArguments {
    @OptionGroup var configuration: ConfigOptions
    @Option(help: "Work through the running gateway at this URL (its /v1/admin API) instead of on the store file.")
    var url: String?
    @Option(help: "With --url: the environment variable holding the gateway's admin key.")
    var adminKeyEnv = "DEJA_ADMIN_KEY"
}

/// The limits a key or tenant may be given on the command line.
struct LimitOptions: ParsableArguments {
    @Option(help: "Models it may use, as comma-separated globs (gpt-4o*,claude-*); default any.") var models: String?
    @Option(help: "Requests per minute.") var rpm: Int?
    @Option(help: "Provider tokens per minute.") var tpm: Int?
    @Option(help: "Requests in flight at once.") var maxConcurrent: Int?
    @Option(help: "Budget in US dollars per --budget-period.") var budgetUsd: Double?
    @Option(help: "day or month (UTC).") var budgetPeriod: String?
    @Option(help: "Cache scope shared with others that name it (default: the tenant's own).") var cacheScope: String?
    @Option(help: "Metadata as key=value (repeatable).") var metadata: [String] = []

    var limits: Limits {
        get throws {
            var period: BudgetPeriod?
            if let budgetPeriod {
                guard let p = BudgetPeriod(rawValue: budgetPeriod) else {
                    throw ValidationError("--budget-period must be day or month, got '\(budgetPeriod)'")
                }
                period = p
            }
            return Limits(
                models: models.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }, rpm: rpm, tpm: tpm,
                maxConcurrent: maxConcurrent, budgetUSD: budgetUsd, budgetPeriod: period)
        }
    }

    var metadataMap: [String: String]? {
        get throws {
            guard !metadata.isEmpty else { return nil }
            var out: [String: String] = [:]
            for pair in metadata {
                guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                    throw ValidationError("--metadata takes key=value, got '\(pair)'")
                }
                out[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
            }
            return out
        }
    }
}

import ArgumentParser
import AsyncHTTPClient
import DejaSupport
import Foundation
import Gateway
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

    /// Runs `body` with the access the options ask for.
    static func with<T>(_ options: GovernanceOptions, _ body: (GovernanceAccess) async throws -> T) async throws -> T {
        if let url = options.url {
            let client = HTTPClient(configuration: .deja())
            do {
                let value = try await body(GovernanceAccess(mode: .gateway(try AdminClient(
                    url: url, keyVariable: options.adminKeyEnv, client: client))))
                try await client.shutdown()
                return value
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
        let configuration = try options.configuration.load()
        let store: SQLiteGovernanceStore
        do {
            store = try SQLiteGovernanceStore(path: configuration.governance.store)
        } catch {
            throw CommandFailure("\(error)")
        }
        return try await body(GovernanceAccess(mode: .store(KeyAdministration(store: store))))
    }

    /// One administrative call: on the store, `local`; through the gateway, `method path body`
    /// decoded as `T`.
    func call<T: Decodable>(
        _ method: HTTPMethod, _ path: String, body: (some Encodable)? = Optional<Int>.none,
        local: (KeyAdministration) async throws -> T
    ) async throws -> T {
        switch mode {
        case .store(let administration):
            do {
                return try await local(administration)
            } catch let error as GovernanceError {
                throw CommandFailure(error.description)
            }
        case .gateway(let admin):
            let json = try body.map { try JSONValue.parse(try Self.encoder.encode($0)) }
            let answer = try await admin.send(method, path, body: json)
            guard (200..<300).contains(answer.status) else { throw CommandFailure(AdminClient.message(answer)) }
            do {
                return try Self.decoder.decode(T.self, from: answer.json.canonicalData)
            } catch {
                throw CommandFailure("the gateway's answer to \(method.rawValue) \(path) is not what this deja expects: \(error)")
            }
        }
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

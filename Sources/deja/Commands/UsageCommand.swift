import ArgumentParser
import NIOHTTP1
import Foundation
import Gateway

extension Deja {
    /// `deja usage`: the usage ledger summed.
    struct Usage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Requests, hit rate, tokens, cost, and what the cache saved, from the usage ledger.",
            discussion: """
                Reads governance.store (rows the gateway has written: it writes every \
                usage.flush_interval), or with --url asks a running gateway (GET /v1/admin/usage), \
                which writes what it holds first. Saved is what hits would have cost from the \
                provider: the stored answer's tokens at the model's price, exact and semantic hits apart.
                """)

        @Option(help: "Group by key, tenant, model, day or hour (default: one total).") var by: String?
        @Option(help: "How far back, such as 7d, 12h or 30m.") var since = "7d"
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var options: GovernanceOptions

        func validate() throws {
            if let by, UsageQuery.Grouping(rawValue: by) == nil {
                throw ValidationError("--by must be one of key, tenant, model, day, hour; got '\(by)'")
            }
            if UsageQuery.seconds(since) == nil {
                throw ValidationError("--since must be a span such as 7d, 12h, 30m or 90s; got '\(since)'")
            }
        }

        func run() async throws {
            let query = UsageQuery(by: by.flatMap(UsageQuery.Grouping.init), since: Date().timeIntervalSince1970 - UsageQuery.seconds(since)!)
            let path = "/v1/admin/usage?since=\(since)" + (by.map { "&by=\($0)" } ?? "")
            let access = try await GovernanceAccess.open(options)
            let list: GovernanceAccess.List<UsageSummary> = try await access.call(.GET, path) { admin in
                GovernanceAccess.List(data: try await admin.store.usage(query))
            }
            if json { return try GovernanceAccess.printJSON(list.data) }
            print(Self.table(list.data, by: by ?? "all"))
        }

        static func table(_ rows: [UsageSummary], by: String) -> String {
            let header = [by, "requests", "hit rate", "exact", "semantic", "429", "tokens in", "tokens out", "cost $",
                          "saved tok exact", "saved tok sem", "saved $ exact", "saved $ sem"]
            var lines = [header]
            for r in rows {
                lines.append([
                    r.group, String(r.requests), String(format: "%.1f%%", r.hitRate * 100), String(r.exactHits), String(r.semanticHits),
                    String(r.refused), String(r.promptTokens), String(r.completionTokens), String(format: "%.4f", r.cost),
                    String(r.savedTokensExact), String(r.savedTokensSemantic), String(format: "%.4f", r.savedCostExact),
                    String(format: "%.4f", r.savedCostSemantic),
                ])
            }
            if rows.isEmpty { return "no requests in the ledger for this span" }
            let widths = header.indices.map { i in lines.map { $0[i].count }.max()! }
            return lines.map { line in
                line.enumerated().map { i, cell in i == 0 ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - cell.count) + cell }.joined(separator: "  ")
            }.joined(separator: "\n")
        }
    }
}

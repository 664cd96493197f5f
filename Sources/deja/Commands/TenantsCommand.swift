import ArgumentParser
import NIOHTTP1
import Foundation
import Gateway

extension Deja {
    /// `deja tenants ...`: the groups keys belong to, with the limits and budget they share.
    struct Tenants: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create, list, show, change and delete tenants.",
            discussion: "Works on governance.store directly, or with --url through a running gateway's admin API.",
            subcommands: [Create.self, List.self, Show.self, Update.self, Delete.self])
    }
}

extension Deja.Tenants {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a tenant.")
        @Argument(help: "The tenant's name (letters, digits, '-', '_', '.').") var id: String
        @OptionGroup var limits: LimitOptions
        @OptionGroup var options: GovernanceOptions

        func spec() throws -> TenantSpec {
            TenantSpec(id: id, limits: try limits.limits, cacheScope: limits.cacheScope, metadata: try limits.metadataMap)
        }

        func run() async throws {
            let spec = try spec()
            let access = try await GovernanceAccess.open(options)
            let tenant: TenantView = try await access.call(.POST, "/v1/admin/tenants", body: try GovernanceAccess.json(spec)) { admin in
                TenantView(try await admin.createTenant(spec), keys: 0)
            }
            try GovernanceAccess.printJSON(tenant)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var options: GovernanceOptions

        func run() async throws {
            let access = try await GovernanceAccess.open(options)
            let list: GovernanceAccess.List<TenantView> = try await access.call(.GET, "/v1/admin/tenants") { admin in
                GovernanceAccess.List(data: try await admin.tenantViews())
            }
            if json { return try GovernanceAccess.printJSON(list.data) }
            print("tenant            keys  rpm      tpm        budget")
            for t in list.data {
                let budget = t.limits.budgetUSD.map { "$\($0)/\(t.limits.budgetPeriod?.rawValue ?? "month")" } ?? "-"
                print(t.id.padding(toLength: 18, withPad: " ", startingAt: 0) + String(t.keys).padding(toLength: 6, withPad: " ", startingAt: 0)
                    + (t.limits.rpm.map(String.init) ?? "-").padding(toLength: 9, withPad: " ", startingAt: 0)
                    + (t.limits.tpm.map(String.init) ?? "-").padding(toLength: 11, withPad: " ", startingAt: 0) + budget)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one tenant as JSON.")
        @Argument(help: "The tenant's name.") var id: String
        @OptionGroup var options: GovernanceOptions

        func run() async throws {
            let access = try await GovernanceAccess.open(options)
            let tenant: TenantView = try await access.call(.GET, "/v1/admin/tenants/\(id)") { admin in
                guard let view = try await admin.tenantViews().first(where: { $0.id == id }) else {
                    throw GovernanceError.notFound("No tenant '\(id)'")
                }
                return view
            }
            try GovernanceAccess.printJSON(tenant)
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a tenant's limits, scope or metadata.")
        @Argument(help: "The tenant's name.") var id: String
        @OptionGroup var limits: LimitOptions
        @OptionGroup var options: GovernanceOptions

        func spec() throws -> TenantSpec {
            TenantSpec(limits: try limits.limits, cacheScope: limits.cacheScope, metadata: try limits.metadataMap)
        }

        func run() async throws {
            let spec = try spec()
            let access = try await GovernanceAccess.open(options)
            let tenant: TenantView = try await access.call(.PATCH, "/v1/admin/tenants/\(id)", body: try GovernanceAccess.json(spec)) { admin in
                _ = try await admin.updateTenant(id, spec)
                return try await admin.tenantViews().first { $0.id == id }!
            }
            try GovernanceAccess.printJSON(tenant)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a tenant whose keys are all revoked.")
        @Argument(help: "The tenant's name.") var id: String
        @OptionGroup var options: GovernanceOptions

        struct Deleted: Codable {
            var id: String
        }

        func run() async throws {
            let access = try await GovernanceAccess.open(options)
            let deleted: Deleted = try await access.call(.DELETE, "/v1/admin/tenants/\(id)") { admin in
                try await admin.deleteTenant(id)
                return Deleted(id: id)
            }
            print("deleted \(deleted.id)")
        }
    }
}

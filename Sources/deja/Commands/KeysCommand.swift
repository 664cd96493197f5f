import ArgumentParser
import NIOHTTP1
import Foundation
import Gateway
import SemanticCache

extension Deja {
    /// `deja keys ...`: the Deja keys clients call the gateway with (`server.auth: keys`).
    struct Keys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create, list, show, change, revoke and rotate Deja keys.",
            discussion: """
                Works on governance.store directly (a running gateway picks changes up within \
                governance.reload_interval), or with --url through a running gateway's admin API \
                (applied at once). A key's secret is printed once, when it is made, and stored only \
                as its SHA-256.
                """,
            subcommands: [Create.self, List.self, Show.self, Update.self, Revoke.self, Rotate.self])
    }
}

extension Deja.Keys {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a key; prints its id and its secret (shown only now).")

        @Option(help: "The key's tenant (made, without limits, if it does not exist).") var tenant: String
        @Option(help: "A name to recognise the key by.") var name: String?
        @Option(help: "Lifetime, such as 30d or 12h; default none.") var expiresIn: String?
        @OptionGroup var limits: LimitOptions
        @Flag(help: "Print the key as JSON.") var json = false
        @OptionGroup var options: GovernanceOptions

        /// The request, worked out before anything asynchronous starts.
        func spec() throws -> KeySpec {
            var spec = KeySpec(tenant: tenant, name: name, limits: try limits.limits, cacheScope: limits.cacheScope)
            spec.metadata = try limits.metadataMap
            if let expiresIn { spec.expiresIn = try Deja.Keys.span(expiresIn) }
            return spec
        }

        func run() async throws {
            let spec = try spec()
            let access = try await GovernanceAccess.open(options)
            let key: KeyView = try await access.call(.POST, "/v1/admin/keys", body: try GovernanceAccess.json(spec)) { admin in
                let (key, secret) = try await admin.createKey(spec)
                return KeyView(key, now: Date(), secret: secret)
            }
            if json { return try GovernanceAccess.printJSON(key) }
            print("\(key.id)  tenant \(key.tenant)")
            print(key.secret ?? "")
            FileHandle.standardError.write(Data("deja: the secret above is shown only now; the store keeps its SHA-256\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")

        @Option(help: "Only this tenant's keys.") var tenant: String?
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var options: GovernanceOptions

        func run() async throws {
            let path = "/v1/admin/keys" + (tenant.map { "?tenant=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" } ?? "")
            let access = try await GovernanceAccess.open(options)
            let list: GovernanceAccess.List<KeyView> = try await access.call(.GET, path) { admin in
                GovernanceAccess.List(data: try await admin.keyViews(tenant: tenant))
            }
            if json { return try GovernanceAccess.printJSON(list.data) }
            print("id                    tenant          status    name")
            for key in list.data {
                print(key.id.padding(toLength: 22, withPad: " ", startingAt: 0) + key.tenant.padding(toLength: 16, withPad: " ", startingAt: 0)
                    + key.status.padding(toLength: 10, withPad: " ", startingAt: 0) + key.name)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one key as JSON.")
        @Argument(help: "The key's id (key_...).") var id: String
        @OptionGroup var options: GovernanceOptions

        func run() async throws {
            let access = try await GovernanceAccess.open(options)
            let key: KeyView = try await access.call(.GET, "/v1/admin/keys/\(id)") { admin in
                try await admin.keyView(id)
            }
            try GovernanceAccess.printJSON(key)
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a key's name, limits, scope, metadata or expiry.")
        @Argument(help: "The key's id (key_...).") var id: String
        @Option(help: "A new name.") var name: String?
        @Option(help: "A new lifetime from now, such as 30d.") var expiresIn: String?
        @OptionGroup var limits: LimitOptions
        @OptionGroup var options: GovernanceOptions

        func spec() throws -> KeySpec {
            var spec = KeySpec(name: name, limits: try limits.limits, cacheScope: limits.cacheScope)
            spec.metadata = try limits.metadataMap
            if let expiresIn { spec.expiresIn = try Deja.Keys.span(expiresIn) }
            return spec
        }

        func run() async throws {
            let spec = try spec()
            let access = try await GovernanceAccess.open(options)
            let key: KeyView = try await access.call(.PATCH, "/v1/admin/keys/\(id)", body: try GovernanceAccess.json(spec)) { admin in
                KeyView(try await admin.updateKey(id, spec), now: Date())
            }
            try GovernanceAccess.printJSON(key)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key: refused from its next request on.")
        @Argument(help: "The key's id (key_...).") var id: String
        @OptionGroup var options: GovernanceOptions

        func run() async throws {
            let access = try await GovernanceAccess.open(options)
            let key: KeyView = try await access.call(.POST, "/v1/admin/keys/\(id)/revoke") { admin in
                KeyView(try await admin.revokeKey(id), now: Date())
            }
            print("\(key.id) \(key.status)")
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new key in place of one; the old one stays valid for --grace.")
        @Argument(help: "The key's id (key_...).") var id: String
        @Option(help: "How long the old key stays valid, such as 1h or 0s.") var grace = "1h"
        @Flag(help: "Print the new key as JSON.") var json = false
        @OptionGroup var options: GovernanceOptions

        struct Body: Encodable {
            var grace_seconds: Double
        }

        func run() async throws {
            let seconds = try Deja.Keys.span(grace)
            let access = try await GovernanceAccess.open(options)
            let key: KeyView = try await access.call(.POST, "/v1/admin/keys/\(id)/rotate", body: try GovernanceAccess.json(Body(grace_seconds: seconds))) { admin in
                let (key, secret) = try await admin.rotateKey(id, grace: seconds)
                return KeyView(key, now: Date(), secret: secret)
            }
            if json { return try GovernanceAccess.printJSON(key) }
            print("\(key.id)  tenant \(key.tenant)  (replaces \(id), valid for \(grace) more)")
            print(key.secret ?? "")
        }
    }

    /// `30d`, `12h`, `30m`, `90s` as seconds.
    static func span(_ text: String) throws -> Double {
        guard let seconds = UsageQuery.seconds(text) else {
            throw ValidationError("'\(text)' is not a span: write it as 30d, 12h, 30m or 90s")
        }
        return seconds
    }
}

import Foundation
import Embedding
import Gateway
import Logging
import SemanticCache
import Testing
import TestSupport

@Suite("Configuration")
struct ConfigurationTests {
    func load(_ yaml: String, environment: [String: String] = [:]) throws(ConfigurationError) -> DejaConfiguration {
        let dir = try! TemporaryDirectory()
        let path = dir.path("deja.yaml")
        try! yaml.write(toFile: path, atomically: true, encoding: .utf8)
        defer { dir.remove() }
        return try DejaConfiguration.load(path: path, environment: environment)
    }

    func problems(_ yaml: String, environment: [String: String] = [:]) -> [String] {
        do {
            _ = try load(yaml, environment: environment)
            return []
        } catch {
            return error.problems
        }
    }

    @Test("an empty file is the defaults, listening on 127.0.0.1:8080")
    func defaults() throws {
        let c = try load("")
        #expect(c.server.host == "127.0.0.1")
        #expect(c.server.port == 8080)
        #expect(c.cache.threshold == nil, "unset: the verifier's own threshold applies")
        #expect(c.cache.verifier.enabled)
        #expect(c.embedder.kind == .hashing)
        #expect(c.cache.store.hasSuffix("/deja-cache.sqlite"), "relative paths resolve against the file's folder")
    }

    @Test("embedder: minilm selects the local model; a threshold set in the file or a variable applies")
    func minilmShorthand() throws {
        let c = try load("embedder: minilm\n")
        #expect(c.embedder.kind == .minilm)
        #expect(c.cache.threshold == nil)
        #expect(c.embedder.minilm.path == "models/all-MiniLM-L6-v2", "the default model folder is where make model puts it")
        let set = try load("embedder:\n  kind: minilm\n  minilm:\n    path: m\ncache:\n  threshold: 0.9\n")
        #expect(set.cache.threshold == 0.9)
        #expect(set.embedder.minilm.path.hasSuffix("/m"), "a path written in the file is relative to the file")
        #expect(try load("embedder: minilm\n", environment: ["DEJA_CACHE_THRESHOLD": "0.7"]).cache.threshold == 0.7)
        #expect(problems("embedder: minlm\n").first?.contains("minlm") == true)
    }

    @Test("each problem is one line with its path")
    func problemsWithPaths() {
        #expect(problems("cache:\n  threshold: 1.7\n") == ["cache.threshold: must be between 0 and 1, got 1.7"])
        #expect(problems("server:\n  port: 70000\n") == ["server.port: must be between 0 and 65535, got 70000"])
        #expect(problems("server:\n  upstream_connections: 0\n") == ["server.upstream_connections: must be between 1 and 10000, got 0"])
        #expect(problems("server:\n  cors_origins: ['http://localhost:3000', '*', 'localhost:3000', 'https://a.example/app']\n") == [
            "server.cors_origins[2]: must be an origin such as http://localhost:3000 (scheme, host and port, no path) or \"*\", got 'localhost:3000'",
            "server.cors_origins[3]: must be an origin such as http://localhost:3000 (scheme, host and port, no path) or \"*\", got 'https://a.example/app'",
        ])
        #expect(problems("logging:\n  format: xml\n") == ["logging.format: must be text or json, got 'xml'"])
        #expect(problems("server:\n  tls:\n    cert_file: cert.pem\n")
            == ["server.tls: give both cert_file and key_file (PEM files), or neither for plain HTTP"])
        let fromEnvironment = try? load("", environment: ["DEJA_SERVER_CORS_ORIGINS": "http://a.example,http://b.example:8000"])
        #expect(fromEnvironment?.server.corsOrigins == ["http://a.example", "http://b.example:8000"])
        #expect(problems("cache:\n  threshold: high\n") == ["cache.threshold: expected a number, got 'high'"])
        #expect(problems("cache:\n  thresholds:\n    - match: '*'\n      threshold: x\n")
                    == ["cache.thresholds[0].threshold: expected a number, got 'x'"])
        #expect(problems("cache:\n  thresold: 0.9\n") == ["cache.thresold: unknown key; did you mean 'threshold'?"])
        #expect(problems("cache:\n  thresholds:\n    - match: '*'\n      threshold: 2\n")
                    == ["cache.thresholds[0].threshold: must be between 0 and 1, got 2.0"])
        #expect(problems("models:\n  gpt-4o:\n    provider: nowhere\n")
                    == ["models.gpt-4o.provider: no provider named 'nowhere' (known: none)"])
        #expect(problems("providers:\n  openai:\n    base_url: ftp://x\n    timout: 3\n").sorted() == [
            "providers.openai.base_url: must be an http or https URL, got 'ftp://x'",
            "providers.openai.timout: unknown key; did you mean 'timeout'?",
        ].sorted())
        #expect(problems("embedder:\n  kind: remote\n") == ["embedder.remote: required when embedder.kind is remote"])
        #expect(problems(": : :").first?.contains("not valid YAML") == true)
        #expect(problems("- a\n- b\n").first?.contains("top level must be a mapping") == true)
        let many = problems("cache:\n  threshold: 3\n  max_entries: 0\nserver:\n  port: -1\n")
        #expect(many.count == 3)
    }

    @Test("DEJA_ variables override the file")
    func environment() throws {
        let yaml = "server:\n  port: 9000\nproviders:\n  openai:\n    base_url: https://api.openai.com/v1\n"
        let c = try load(yaml, environment: [
            "DEJA_SERVER_PORT": "9100", "DEJA_CACHE_THRESHOLD": "0.93", "DEJA_CACHE_MAX_ENTRIES": "42",
            "DEJA_PROVIDERS_OPENAI_TIMEOUT": "7", "DEJA_LOGGING_PROMPTS": "true", "DEJA_UNRELATED": "x",
            "DEJA_SERVER_ALLOWED_HOSTS": "deja.internal, api.example.com", "DEJA_CACHE_SHARED_NAMESPACES": "gpt-4o/*",
            "DEJA_EMBEDDER_HASHING_CHAR_NGRAM_SIZES": "3,5",
        ])
        #expect(c.server.allowedHosts == ["deja.internal", "api.example.com"], "a list is given comma-separated")
        #expect(c.cache.sharedNamespaces == ["gpt-4o/*"])
        #expect(c.embedder.hashing.charNgramSizes == [3, 5])
        #expect(c.server.port == 9100)
        #expect(c.cache.threshold == 0.93)
        #expect(c.cache.maxEntries == 42)
        #expect(c.providers["openai"]?.timeout == 7)
        #expect(c.upstreamReadTimeout == 7, "the longest provider timeout bounds silences in upstream answers")
        #expect(DejaConfiguration().upstreamReadTimeout == 120, "no upstream: the default, never 0")
        #expect(c.logging.prompts)
        // A value from a variable is named by the variable, not looked for in the file.
        #expect(problems("", environment: ["DEJA_CACHE_THRESHOLD": "9"])
                    == ["cache.threshold (from DEJA_CACHE_THRESHOLD): must be between 0 and 1, got 9.0"])
        #expect(problems("", environment: ["DEJA_SERVER_PORT": "80.5"])
                    == ["server.port (from DEJA_SERVER_PORT): expected a whole number, got '80.5'"])
        // A misspelt option's variable would leave the option at its default unseen; other
        // DEJA_ variables (keys, DEJA_UNRELATED above) are not options and are left alone.
        #expect(problems("", environment: ["DEJA_CACHE_THRESHHOLD": "0.9", "DEJA_ADMIN_KEY": "k"])
                    == ["DEJA_CACHE_THRESHHOLD: not an option; did you mean DEJA_CACHE_THRESHOLD?"])
    }

    @Test("a provider key variable that is named but not set stops the gateway with its path")
    func missingKey() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var c = DejaConfiguration()
        c.cache.store = dir.path("c.sqlite")
        c.cache.indexFile = ""
        c.providers["openai"] = ProviderConfiguration(baseURL: "https://api.openai.com/v1", apiKeyEnv: "DEJA_TEST_NO_SUCH_KEY")
        let cache = try await CacheRuntime.open(c, client: GatewayHarness.client, logger: .init(label: "t"))
        #expect {
            try Gateway(configuration: c, cache: cache, client: GatewayHarness.client, environment: [:])
        } throws: { error in
            (error as? ConfigurationError)?.problems == [
                "providers.openai.api_key_env: the variable DEJA_TEST_NO_SUCH_KEY is not set; export the provider's key in it"
            ]
        }
    }

    @Test("deja tune --write edits one line and keeps the rest")
    func editor() {
        let text = "# top\ncache:\n  # the threshold\n  threshold: 0.5  # old\n  ttl: 60\nserver:\n  port: 1\n"
        #expect(ConfigFileEditor.set(section: "cache", key: "threshold", value: "0.9", in: text)
                    == "# top\ncache:\n  # the threshold\n  threshold: 0.9  # old\n  ttl: 60\nserver:\n  port: 1\n")
        #expect(ConfigFileEditor.set(section: "cache", key: "threshold", value: "0.9", in: "server:\n  port: 1\n")
                    == "server:\n  port: 1\ncache:\n  threshold: 0.9\n")
        #expect(ConfigFileEditor.set(section: "cache", key: "threshold", value: "0.9", in: "cache:\n    ttl: 5\n")
                    == "cache:\n    threshold: 0.9\n    ttl: 5\n")

        // One model's threshold, inside its own block.
        let models = "models:\n  gpt-4o-mini:  # chat\n    provider: openai\n  \"*\":\n    provider: openai\n    threshold: 0.5 # old\n"
        #expect(ConfigFileEditor.set(path: ["models", "gpt-4o-mini", "threshold"], value: "0.9", in: models)
                    == "models:\n  gpt-4o-mini:  # chat\n    threshold: 0.9\n    provider: openai\n  \"*\":\n    provider: openai\n    threshold: 0.5 # old\n")
        #expect(ConfigFileEditor.set(path: ["models", "*", "threshold"], value: "0.9", in: models)
                    == "models:\n  gpt-4o-mini:  # chat\n    provider: openai\n  \"*\":\n    provider: openai\n    threshold: 0.9  # old\n")
        #expect(ConfigFileEditor.set(path: ["models", "other", "threshold"], value: "0.9", in: models) == nil)
        #expect(ConfigFileEditor.set(path: ["models", "m", "threshold"], value: "0.9", in: "models:\n  m: {provider: p}\n") == nil,
                "a flow-style entry is left to a person")
    }

    @Test("a model's threshold applies to its namespaces, every tenant and partition, ahead of cache.thresholds")
    func routeThreshold() throws {
        var c = DejaConfiguration()
        c.providers["p"] = ProviderConfiguration(baseURL: "http://127.0.0.1:9/v1")
        c.models["strict"] = ModelRoute(provider: "p", threshold: 0.97)
        c.models["*"] = ModelRoute(provider: "p")
        c.cache.threshold = 0.8
        c.cache.thresholds = [ThresholdOverride(match: "*/strict*", threshold: 0.6)]
        #expect(c.problems.isEmpty)
        c.models["openai/gpt-4o"] = ModelRoute(provider: "p", threshold: 0.9)
        for label in ["-/strict", "key:ab12/strict", "shared/strict", "-/strict/team-a"] {
            #expect(c.effectiveCache.threshold(model: "strict", label: label, fallback: 0.5) == 0.97, "\(label)")
        }
        #expect(c.effectiveCache.threshold(model: "stricter", label: "-/stricter", fallback: 0.5) == 0.6, "a cache.thresholds entry still applies to others")
        #expect(c.effectiveCache.threshold(model: "gpt-4o", label: "-/gpt-4o", fallback: 0.5) == 0.8)
        // Model names with a slash: the route's own threshold, and no other route's.
        #expect(c.effectiveCache.threshold(model: "openai/gpt-4o", label: "-/openai/gpt-4o/team-a", fallback: 0.5) == 0.9)
        #expect(c.effectiveCache.threshold(model: "acme/strict", label: "-/acme/strict", fallback: 0.5) == 0.6,
                "the glob of cache.thresholds, not the route of the model strict, whose label it ends with")
        c.models["strict"]?.threshold = 1.5
        c.models["*"]?.threshold = 0.9
        #expect(c.problems.contains("models.strict.threshold: must be between 0 and 1, got 1.5"))
        #expect(c.problems.contains("models.*.threshold: set cache.threshold for every model instead"))
    }

    @Test("folders of the store and the index file that do not exist yet are made")
    func dataFolders() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = dir.path("data/cache/deja.sqlite")
        let index = dir.path("snapshots/deja.hnsw")
        try await GatewayHarness.run(inProcess: true, configure: {
            $0.cache.store = store
            $0.cache.indexFile = index
        }) { h in
            _ = try await h.chat("Where is the data kept?")
            await h.settle()
            #expect(try await h.chat("Where is the data kept?").cache == "hit")
            try await h.gateway.cache.saveIndex()
        }
        #expect(FileManager.default.fileExists(atPath: store))
        #expect(FileManager.default.fileExists(atPath: index))
    }
}

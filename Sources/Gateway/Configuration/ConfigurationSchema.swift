import Embedding
import Foundation
import SemanticCache
import Yams

/// The configuration's shape, taken from a fully populated default configuration, to find
/// unknown keys and to map environment variables to options.
enum ConfigurationSchema {
    /// A configuration with one example of every optional and repeated part.
    nonisolated(unsafe) static let template: Node = {
        var c = DejaConfiguration()
        c.embedder.remote = RemoteEmbedderConfiguration(baseURL: "http://x", model: "m", apiKeyEnv: "K", dimension: 1)
        c.embedder.hashing.tokenWeightsFile = "x"
        c.cache.threshold = 1
        c.cache.verifier.model = "x"
        c.cache.thresholds = [ThresholdOverride(match: "*", threshold: 1)]
        c.cache.sharedNamespaces = ["x"]
        c.server.allowedHosts = ["x"]
        c.server.corsOrigins = ["x"]
        c.server.tls = TLSFiles(certFile: "x", keyFile: "x")
        c.providers = ["*": ProviderConfiguration(baseURL: "http://x", apiKeyEnv: "K")]
        c.models = ["*": ModelRoute(
            provider: "p", model: "m", threshold: 1, mode: .shadow, deployments: [DeploymentConfiguration(provider: "p", model: "m")],
            fallbacks: ["x"], contextFallback: "x", contentFallback: "x")]
        c.governance.prices = ["*": ModelPrice(input: 1, cachedInput: 1, output: 1)]
        c.guards.dlp.detectors = ["*": DetectorRule(prompt: .redact, answer: .redact)]
        c.guards.dlp.custom = [CustomDetector(name: "x", pattern: "x", placeholder: "X", prompt: .redact, answer: .redact)]
        c.guards.deny = [DenyList(name: "x", terms: ["x"], patterns: ["x"], models: ["x"], placeholder: "X")]
        c.guards.injection.models = ["*": InjectionConfiguration.Override(action: .flag, threshold: 0.5)]
        let yaml = (try? YAMLEncoder().encode(c)) ?? ""
        return (try? Yams.compose(yaml: yaml)) ?? .mapping(Node.Mapping([]))
    }()

    /// Mappings whose keys the user chooses (any key, values shaped like the `*` template).
    static let userMaps: Set<String> = ["providers", "models", "governance.prices", "guards.dlp.detectors", "guards.injection.models"]

    /// Every option, as a path (`server.port`; `providers.*.timeout` for an option of each
    /// provider, `cache.thresholds[].match` for a field of each list item) with its default as
    /// YAML writes it (`8080`, `[3, 4]`), `nil` for an option that has none (it is absent until
    /// set). docs/configuration.md documents exactly these, a test checks it.
    static var options: [(path: String, defaultValue: String?)] {
        let defaults = (try? Yams.compose(yaml: (try? YAMLEncoder().encode(DejaConfiguration())) ?? "")) ?? nil
        var out: [(String, String?)] = []
        func walk(_ node: Node, _ path: String, _ defaultNode: Node?) {
            switch node {
            case .mapping(let m):
                for (k, v) in m {
                    let key = k.string ?? ""
                    let child = path.isEmpty ? key : "\(path).\(key)"
                    let d: Node? = userMaps.contains(path) ? nil : defaultNode?[key]
                    walk(v, child, d)
                }
            case .sequence(let items):
                if let first = items.first, case .mapping = first {
                    walk(first, path + "[]", nil)
                } else {
                    out.append((path, defaultNode.map(flowText)))
                }
            default:
                out.append((path, defaultNode.map(flowText)))
            }
        }
        walk(template, "", defaults)
        return out.sorted { $0.0 < $1.0 }
    }

    /// A node as one line of YAML: a scalar as written, a list of scalars as `[a, b]`.
    static func flowText(_ node: Node) -> String {
        switch node {
        case .sequence(let items): return "[" + items.map(flowText).joined(separator: ", ") + "]"
        default: return node.string ?? ""
        }
    }

    static func unknownKeys(in node: Node, template: Node = template, path: String = "") -> [String] {
        switch (node, template) {
        case (.mapping(let m), .mapping(let t)):
            var out: [String] = []
            let known = Dictionary(t.map { ($0.key.string ?? "", $0.value) }, uniquingKeysWith: { a, _ in a })
            for (k, v) in m {
                let key = k.string ?? ""
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                if userMaps.contains(path), let element = known["*"] {
                    out += unknownKeys(in: v, template: element, path: childPath)
                } else if let t = known[key] {
                    out += unknownKeys(in: v, template: t, path: childPath)
                } else {
                    let suggestion = known.keys.min { distance($0, key) < distance($1, key) }
                    let hint = suggestion.map { distance($0, key) <= 3 ? "; did you mean '\($0)'?" : "" } ?? ""
                    out.append("\(childPath): unknown key\(hint)")
                }
            }
            return out
        case (.sequence(let s), .sequence(let t)):
            guard let element = t.first else { return [] }
            return s.enumerated().flatMap { unknownKeys(in: $0.element, template: element, path: "\(path)[\($0.offset)]") }
        default:
            return []
        }
    }

    /// The paths of the options a variable can set, for the nodes as they are (so
    /// `providers.openai.timeout` exists when the file has a provider `openai`): scalars, or
    /// with `lists` the lists of scalars such as `server.allowed_hosts`.
    static func scalarPaths(_ node: Node, template: Node = template, path: String = "", lists: Bool = false) -> [String] {
        guard case .mapping(let t) = template else {
            if case .sequence(let s) = template {
                guard lists, let first = s.first, case .scalar = first else { return [] }
                return [path]
            }
            return path.isEmpty || lists ? [] : [path]
        }
        var out: [String] = []
        if userMaps.contains(path) {
            guard case .mapping(let m) = node, let element = t.first(where: { $0.key.string == "*" })?.value else { return [] }
            for (k, v) in m { out += scalarPaths(v, template: element, path: "\(path).\(k.string ?? "")", lists: lists) }
            return out
        }
        for (k, v) in t {
            let key = k.string ?? ""
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            let child: Node
            if case .mapping(let m) = node, let existing = m[k] { child = existing } else { child = .mapping(Node.Mapping([])) }
            out += scalarPaths(child, template: v, path: childPath, lists: lists)
        }
        return out
    }

    /// Applies `DEJA_...` variables to `root`; returns the new tree, the variable that set each
    /// option it set, and a problem for each variable that looks like a misspelt option's
    /// (`DEJA_CACHE_THRESHHOLD`): ignored, it would leave the option at its default unseen.
    /// Other `DEJA_` variables (`DEJA_ADMIN_KEY`, ones the file names for keys) are not options.
    static func applyEnvironment(
        _ environment: [String: String], to root: Node
    ) -> (root: Node, variables: [String: String], problems: [String]) {
        func variable(_ path: String) -> String {
            "DEJA_" + path.uppercased().replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "-", with: "_")
        }
        var names: [String: (path: String, list: Bool)] = [:]
        for p in scalarPaths(root) { names[variable(p)] = (p, false) }
        // A list is given comma-separated: DEJA_SERVER_ALLOWED_HOSTS=deja.internal,api.example.
        for p in scalarPaths(root, lists: true) { names[variable(p)] = (p, true) }
        var result = root
        var variables: [String: String] = [:]
        var problems: [String] = []
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("DEJA_") {
            guard let (path, list) = names[name] else {
                if let near = names.keys.min(by: { distance($0, name) < distance($1, name) }), distance(near, name) <= 2 {
                    problems.append("\(name): not an option; did you mean \(near)?")
                }
                continue
            }
            let node: Node = list
                ? .sequence(Node.Sequence(value.split(separator: ",").map { Node($0.trimmingCharacters(in: .whitespaces)) }
                    .filter { $0.string?.isEmpty == false }))
                : Node(value)
            result = set(result, path: path.split(separator: ".").map(String.init), value: node)
            variables[path] = name
        }
        return (result, variables, problems)
    }

    /// The scalar written at `path` (`cache.thresholds[0].threshold`), if there is one.
    static func scalar(at path: String, in root: Node) -> String? {
        var node = root
        for part in path.split(separator: ".") {
            var key = Substring(part)
            var indices: [Int] = []
            while key.hasSuffix("]"), let open = key.lastIndex(of: "[") {
                guard let i = Int(key[key.index(after: open)..<key.index(before: key.endIndex)]) else { return nil }
                indices.insert(i, at: 0)
                key = key[..<open]
            }
            guard let child = node[String(key)] else { return nil }
            node = child
            for i in indices {
                guard case .sequence(let items) = node, items.indices.contains(i) else { return nil }
                node = items[i]
            }
        }
        return node.scalar?.string
    }

    static func set(_ node: Node, path: [String], value: Node) -> Node {
        guard let first = path.first else { return value }
        var mapping: Node.Mapping
        if case .mapping(let m) = node { mapping = m } else { mapping = Node.Mapping([]) }
        let key = Node(first)
        mapping[key] = set(mapping[key] ?? .mapping(Node.Mapping([])), path: Array(path.dropFirst()), value: value)
        return .mapping(mapping)
    }

    /// Levenshtein distance, for "did you mean" hints.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

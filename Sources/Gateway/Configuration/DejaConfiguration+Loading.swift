import DejaSupport
import Embedding
import Foundation
import SemanticCache
import Yams

extension DejaConfiguration {
    /// Reads `path` (or starts from the defaults when `nil`), applies `DEJA_...` environment
    /// overrides, resolves relative file paths against the file's folder and validates.
    ///
    /// An environment variable overrides one option: its path in upper case with `_` for `.`,
    /// prefixed with `DEJA_` (`DEJA_SERVER_PORT=9000`, `DEJA_CACHE_THRESHOLD=0.9`,
    /// `DEJA_PROVIDERS_OPENAI_BASE_URL=...`). Unknown keys in the file are errors, so a typo
    /// does not silently fall back to a default.
    ///
    /// - Throws: ``ConfigurationError`` listing every problem.
    public static func load(path: String?, environment: [String: String]? = nil)
        throws(ConfigurationError) -> DejaConfiguration
    {
        let environment = environment ?? ProcessInfo.processInfo.environment
        var problems: [String] = []
        var root: Node = .mapping(Node.Mapping([]))
        if let path {
            let text: String
            do {
                text = try TextFile.read(path)
            } catch {
                throw ConfigurationError(["cannot read the configuration file: \(error.reason)"], file: path)
            }
            do {
                if let node = try Yams.compose(yaml: text) { root = node }
            } catch {
                throw ConfigurationError(["not valid YAML: \(error)"], file: path)
            }
            guard case .mapping = root else {
                throw ConfigurationError(["the top level must be a mapping of sections (server, cache, ...)"], file: path)
            }
        }
        root = Self.expandEmbedderShorthand(root)
        problems += ConfigurationSchema.unknownKeys(in: root)
        let (overridden, variables, variableProblems) = ConfigurationSchema.applyEnvironment(environment, to: root)
        root = overridden
        problems += variableProblems
        var configuration = DejaConfiguration()
        var optionProblems: [String] = []
        do {
            configuration = try YAMLDecoder().decode(DejaConfiguration.self, from: root)
            optionProblems = configuration.problems
        } catch let error as DecodingError {
            optionProblems = [error.readableDescription(valueAt: { [root] in ConfigurationSchema.scalar(at: $0, in: root) })]
        } catch {
            optionProblems = ["\(error)"]
        }
        // A value that came from a variable is named by it, or one would look for it in the file.
        problems += optionProblems.map { problem in
            guard let (option, variable) = variables.first(where: { problem.hasPrefix($0.key + ":") }) else { return problem }
            return "\(option) (from \(variable)):" + problem.dropFirst(option.count + 1)
        }
        guard problems.isEmpty else { throw ConfigurationError(problems, file: path) }
        if let path {
            configuration.resolvePaths(
                relativeTo: URL(fileURLWithPath: path).deletingLastPathComponent(),
                modelPathWritten: root["embedder"]?["minilm"]?["path"] != nil,
                injectionPatternsWritten: root["guards"]?["injection"]?["patterns"] != nil)
        }
        return configuration
    }

    /// `embedder: minilm` is short for `embedder: {kind: minilm}`.
    static func expandEmbedderShorthand(_ root: Node) -> Node {
        guard case .mapping(var sections) = root, let kind = sections["embedder"]?.scalar else { return root }
        sections["embedder"] = .mapping(Node.Mapping([(Node("kind"), .scalar(kind))]))
        return .mapping(sections)
    }

    /// Makes the file paths in the configuration absolute, relative to `folder`. The model
    /// folder and the injection patterns are resolved that way only when the file names them: their
    /// defaults, `models/all-MiniLM-L6-v2` and `models/injection-patterns.json`, are relative to
    /// the working folder, where the repository has them.
    mutating func resolvePaths(relativeTo folder: URL, modelPathWritten: Bool = true, injectionPatternsWritten: Bool = true) {
        func resolve(_ p: String) -> String {
            guard !p.isEmpty, !p.hasPrefix("/") else { return p }
            return folder.appendingPathComponent(p).standardizedFileURL.path
        }
        if !PostgresPool.isURL(cache.store) { cache.store = resolve(cache.store) }
        if !PostgresPool.isURL(governance.store) { governance.store = resolve(governance.store) }
        if !governance.pricesFile.isEmpty { governance.pricesFile = resolve(governance.pricesFile) }
        cache.indexFile = resolve(cache.indexFile)
        cache.pairsLog.file = resolve(cache.pairsLog.file)
        cache.shadowLog = resolve(cache.shadowLog)
        cache.verifier.model = resolve(cache.verifier.model)
        server.tls.certFile = resolve(server.tls.certFile)
        server.tls.keyFile = resolve(server.tls.keyFile)
        embedder.hashing.tokenWeightsFile = embedder.hashing.tokenWeightsFile.map(resolve)
        if modelPathWritten { embedder.minilm.path = resolve(embedder.minilm.path) }
        if injectionPatternsWritten { guards.injection.patterns = resolve(guards.injection.patterns) }
    }
}

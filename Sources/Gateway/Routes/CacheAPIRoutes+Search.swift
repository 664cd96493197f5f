import Embedding
import DejaSupport
import Foundation
import Hummingbird
import SemanticCache

extension CacheAPIRoutes {
    /// `POST /v1/cache/search`: the entries most similar to a `text` or a `vector`, in one
    /// `namespace` or all, above an optional `threshold`.
    func search(_ request: Request, _ context: GatewayContext) async throws -> Response {
        var request = request
        let body = try await body(&request)
        let text = try RequestFields.string(body, "text")
        var vector: [Float]?
        if let given = body["vector"], !given.isNull {
            guard let numbers = given.arrayValue?.compactMap(\.doubleValue), numbers.count == given.arrayValue?.count else {
                throw OpenAIError.invalidRequest("'vector' must be an array of numbers, got \(given.typeName)", param: "vector")
            }
            vector = numbers.map(Float.init)
        }
        guard text != nil || vector != nil else {
            throw OpenAIError.invalidRequest("Give a 'text' or a 'vector' to search for", param: "text")
        }
        if let vector, vector.count != cache.embedder.dimension {
            throw OpenAIError.invalidRequest(
                "'vector' must have \(cache.embedder.dimension) numbers, got \(vector.count)", param: "vector")
        }
        let k = try RequestFields.number(body, "k", in: 1...100, "a whole number between 1 and 100", whole: true).map { Int($0) } ?? 5
        let threshold = try RequestFields.number(body, "threshold", in: 0...1, "a number between 0 and 1").map(Float.init) ?? -1
        var namespace: Digest128?
        if let hex = try RequestFields.string(body, "namespace") {
            namespace = try Self.namespaceID(hex)
        }
        let result: Result<[SearchMatch], CacheError>
        do throws(CacheError) {
            result = .success(try await cache.search(text: text, vector: vector, namespace: namespace, k: k, threshold: threshold))
        } catch {
            result = .failure(error)
        }
        let matches: [SearchMatch]
        switch result {
        case .success(let found):
            matches = found
        case .failure(.index(let e)):
            throw OpenAIError.invalidRequest("\(e)", param: "vector")
        case .failure(let e):
            throw e
        }
        var data: [JSONValue] = []
        for match in matches {
            var item = CacheEntryJSON.summary(match.entry)
            item["similarity"] = .double(Double(match.similarity))
            if let response = try await cache.entry(key: match.entry.key).flatMap({ try? JSONValue.parse($0.response) }),
               let text = OpenAIWire.firstText(response)
            {
                item["response_preview"] = .string(String(text.prefix(200)))
            }
            data.append(.object(item))
        }
        return Response.json(["object": "list", "data": .array(data)])
    }
}

import DejaSupport

/// The fields of a JSON body the lookup API and Deja's own embeddings read, each checked for its
/// type: a field of the wrong type is a 400 naming it, never read as absent (a numeric tenant
/// taken for none would file an entry where other clients find it).
enum RequestFields {
    /// The string `body[field]` holds, `nil` when absent or null.
    /// - Throws: 400 naming the field when it holds something else.
    static func string(_ body: JSONValue, _ field: String) throws(OpenAIError) -> String? {
        guard let given = body[field], !given.isNull else { return nil }
        guard let value = given.stringValue else {
            throw .invalidRequest("'\(field)' must be a string, got \(given.typeName)", param: field)
        }
        return value
    }

    /// The number `body[field]` holds, `nil` when absent or null.
    /// - Throws: 400 naming the field when it is not a number in `range`, or with `whole` not a
    ///   whole one (`rule` says what it must be).
    static func number(
        _ body: JSONValue, _ field: String, in range: ClosedRange<Double>, _ rule: String, whole: Bool = false
    ) throws(OpenAIError) -> Double? {
        guard let given = body[field], !given.isNull else { return nil }
        guard let value = given.doubleValue, range.contains(value), !whole || value.rounded() == value else {
            throw .invalidRequest("'\(field)' must be \(rule)", param: field)
        }
        return value
    }
}

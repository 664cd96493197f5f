public import Foundation

extension JSONValue {
    /// Parses one JSON value (RFC 8259) from `data`; whitespace may surround it, nothing else.
    ///
    /// A hand-written parser rather than `JSONDecoder`: it runs on every request, keeps integers
    /// apart from doubles, limits nesting to 256 levels (a deeply nested body must not exhaust the
    /// stack) and says where a malformed body goes wrong.
    ///
    /// - Throws: ``JSONParseError``.
    /// - Complexity: O(n).
    public static func parse(_ data: Data) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = data.withUnsafeBytes { raw in
            do throws(JSONParseError) { return .success(try parse(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else {
            throw parser.error("unexpected data after the JSON value")
        }
        return value
    }

    public static func parse(_ string: String) throws(JSONParseError) -> JSONValue {
        try parse(Data(string.utf8))
    }
}

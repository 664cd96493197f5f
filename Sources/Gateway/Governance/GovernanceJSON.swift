import Foundation

/// How keys, tenants and admin answers are written as JSON, in the store and on the wire alike:
/// dates as seconds since 1970, keys sorted.
enum GovernanceJSON {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .secondsSince1970
        e.outputFormatting = .sortedKeys
        return e
    }()

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .secondsSince1970
        return d
    }()
}

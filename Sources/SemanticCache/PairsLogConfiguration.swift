import Foundation
import Logging
import Synchronization

/// Where and how much of the traffic's own prompt pairs to write for labelling (`cache.pairs_log`).
///
/// Thresholds are best tuned on pairs from one's own traffic, but nobody has those labelled.
/// With a file named, the cache appends the pairs it had to judge, with `same: null`: every
/// semantic hit (the cached prompt and the query it answered), and every miss whose best
/// candidate came within `band` of the threshold, refused by the guard or not. Someone sets
/// `same` to true or false on some of them and runs `deja tune` on the file. The file holds
/// prompt text, so it is off by default and made readable by its owner only.
public struct PairsLogConfiguration: Codable, Sendable, Equatable {
    /// The JSONL file; empty: off. Relative paths are resolved against the configuration's folder.
    public var file: String
    /// How far below the threshold a miss's best candidate may be and still be written.
    public var band: Float
    /// Lines the file may hold; past them nothing more is written (delete or move the file to
    /// start again).
    public var maxPairs: Int

    public init(file: String = "", band: Float = 0.1, maxPairs: Int = 10_000) {
        self.file = file
        self.band = band
        self.maxPairs = maxPairs
    }

    enum CodingKeys: String, CodingKey {
        case file, band, maxPairs = "max_pairs"
    }

    public init(from decoder: any Decoder) throws {
        let d = PairsLogConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        file = try c.decodeIfPresent(String.self, forKey: .file) ?? d.file
        band = try c.decodeIfPresent(Float.self, forKey: .band) ?? d.band
        maxPairs = try c.decodeIfPresent(Int.self, forKey: .maxPairs) ?? d.maxPairs
    }

    var problems: [String] {
        var out: [String] = []
        if !(0...1).contains(band) { out.append("pairs_log.band: must be between 0 and 1, got \(band)") }
        if maxPairs < 1 { out.append("pairs_log.max_pairs: must be at least 1, got \(maxPairs)") }
        return out
    }
}

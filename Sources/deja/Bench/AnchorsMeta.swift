import Embedding
import Foundation
import VectorIndex

/// The `meta.json` of an anchors-v1 data set (field names as the file spells them).
struct AnchorsMeta: Decodable {
    struct Files: Decodable {
        var base: String
        var query: String
        var gt_ids: String?
    }
    var format: String
    var name: String
    var dim: Int
    var n_base: Int
    var n_query: Int
    var gt_k: Int
    var dtype: String
    var byte_order: String
    var files: Files
}

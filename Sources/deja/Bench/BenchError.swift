import Embedding
import Foundation
import VectorIndex

/// A benchmark failure with the one line the user sees.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

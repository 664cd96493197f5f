import Foundation

/// Fits a ``VerifierModel``: L2-regularised logistic regression by Newton's method on
/// standardised features. A dozen features and a few thousand pairs take milliseconds, and
/// Newton's method needs no learning rate and no random start: the same pairs give the same
/// model every time.
public enum VerifierTrainer {
    /// One labelled candidate: its feature values (indexed as ``VerifierFeature/allCases``) and
    /// whether its answer serves the prompt.
    public struct Example: Sendable {
        public var values: [Double]
        public var same: Bool

        public init(values: [Double], same: Bool) {
            self.values = values
            self.same = same
        }
    }

    /// The fitted weights over `features`.
    ///
    /// - Parameters:
    ///   - l2: the penalty on the standardised weights (not on the bias); 1 keeps a weight from
    ///     growing on a feature that a handful of pairs decide.
    /// - Returns: `mean` and `scale` per feature, `weights` and `bias`.
    /// - Complexity: O(iterations × examples × features²), iterations about ten.
    public static func fit(
        _ examples: [Example], features: [VerifierFeature], l2: Double = 1
    ) -> (mean: [Double], scale: [Double], weights: [Double], bias: Double) {
        let d = features.count
        let n = Double(max(examples.count, 1))
        var mean = [Double](repeating: 0, count: d)
        var scale = [Double](repeating: 1, count: d)
        for (j, f) in features.enumerated() {
            let column = examples.map { $0.values[f.index] }
            let m = column.reduce(0, +) / n
            let variance = column.reduce(0) { $0 + ($1 - m) * ($1 - m) } / n
            mean[j] = m
            scale[j] = variance > 1e-12 ? variance.squareRoot() : 1
        }
        // Rows of standardised features with a constant 1 last, for the bias.
        let rows: [[Double]] = examples.map { e in
            features.enumerated().map { j, f in (e.values[f.index] - mean[j]) / scale[j] } + [1]
        }
        let labels = examples.map { $0.same ? 1.0 : 0.0 }
        var w = [Double](repeating: 0, count: d + 1)
        for _ in 0..<100 {
            var gradient = [Double](repeating: 0, count: d + 1)
            var hessian = [[Double]](repeating: [Double](repeating: 0, count: d + 1), count: d + 1)
            for (x, y) in zip(rows, labels) {
                var z = 0.0
                for k in 0...d { z += w[k] * x[k] }
                let p = 1 / (1 + exp(-z))
                let r = p * (1 - p)
                for k in 0...d {
                    gradient[k] += (p - y) * x[k]
                    for l in k...d { hessian[k][l] += r * x[k] * x[l] }
                }
            }
            for k in 0...d {
                for l in 0..<k { hessian[k][l] = hessian[l][k] }
                if k < d {
                    gradient[k] += l2 * w[k]
                    hessian[k][k] += l2
                }
                hessian[k][k] += 1e-9  // keeps a feature constant in every pair from making it singular
            }
            let step = solve(hessian, gradient)
            var largest = 0.0
            for k in 0...d {
                w[k] -= step[k]
                largest = max(largest, abs(step[k]))
            }
            if largest < 1e-10 { break }
        }
        return (mean, scale, Array(w[0..<d]), w[d])
    }

    /// Solves `a x = b` for a small symmetric positive definite `a` (Gaussian elimination with
    /// partial pivoting).
    static func solve(_ a: [[Double]], _ b: [Double]) -> [Double] {
        let n = b.count
        var m = a
        var v = b
        for col in 0..<n {
            let pivot = (col..<n).max { abs(m[$0][col]) < abs(m[$1][col]) }!
            if pivot != col {
                m.swapAt(pivot, col)
                v.swapAt(pivot, col)
            }
            let p = m[col][col]
            guard abs(p) > 1e-300 else { continue }
            for row in (col + 1)..<n {
                let f = m[row][col] / p
                if f == 0 { continue }
                for k in col..<n { m[row][k] -= f * m[col][k] }
                v[row] -= f * v[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var s = v[row]
            for k in (row + 1)..<n { s -= m[row][k] * x[k] }
            x[row] = abs(m[row][row]) > 1e-300 ? s / m[row][row] : 0
        }
        return x
    }
}

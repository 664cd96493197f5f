import Synchronization

/// How many cores a forward pass may use for its short products right now: the cores divided
/// among the passes running at once.
///
/// Alone (light traffic), a pass splits each projection with its team's helpers across the idle
/// cores, which is what one sentence's latency needs; when every worker is busy (heavy
/// traffic) each keeps to its own core, where batches already keep the products long.
final class CoreShare: Sendable {
    let cores: Int
    private let running = Atomic<Int>(0)

    init(cores: Int) {
        self.cores = max(cores, 1)
    }

    /// Cores this pass may use: at least 1.
    var ways: Int { max(1, cores / max(running.load(ordering: .relaxed), 1)) }

    func begin() { running.wrappingAdd(1, ordering: .relaxed) }
    func end() { running.wrappingSubtract(1, ordering: .relaxed) }
}

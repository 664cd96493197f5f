/// A model route's deployments and how a request picks one.
final class RouteDeployments: Sendable {
    let name: String
    let deployments: [Deployment]
    let strategy: RoutingStrategy

    init(name: String, deployments: [Deployment], strategy: RoutingStrategy) {
        self.name = name
        self.deployments = deployments
        self.strategy = strategy
    }

    /// The deployments not yet tried, in the order this request should try them: by the
    /// strategy; a weighted draw without replacement for `weighted` and to break ties.
    func order<G: RandomNumberGenerator>(excluding tried: [Deployment], using generator: inout G) -> [Deployment] {
        var left = deployments.filter { d in !tried.contains { $0 === d } }
        if left.count <= 1 { return left }
        var drawn: [Deployment] = []
        drawn.reserveCapacity(left.count)
        while !left.isEmpty {
            let total = left.reduce(0) { $0 + $1.weight }
            var r = Double.random(in: 0..<total, using: &generator)
            var k = 0
            while k < left.count - 1 && r >= left[k].weight {
                r -= left[k].weight
                k += 1
            }
            drawn.append(left.remove(at: k))
        }
        switch strategy {
        case .weighted:
            return drawn
        case .leastBusy:
            let load = drawn.map(\.inFlight)
            return zip(drawn, load).enumerated().sorted { ($0.element.1, $0.offset) < ($1.element.1, $1.offset) }.map(\.element.0)
        case .lowestLatency:
            let latency = drawn.map { $0.latency ?? -1 }
            return zip(drawn, latency).enumerated().sorted { ($0.element.1, $0.offset) < ($1.element.1, $1.offset) }.map(\.element.0)
        }
    }
}

extension HNSWIndex {
    /// Checks the graph's invariants and traps naming the first bad node: no self-links, no
    /// duplicate links, no list longer than its level allows, no link to a node that lacks the
    /// level, every live key mapped to its slot (the checks of hnswlib's
    /// `mutuallyConnectNewElement`). O(n · M); for tests and debugging.
    func _checkInvariants() {
        let g = storage.view
        for s in 0..<g.slots {
            let slot = UInt32(s)
            for level in 0...g.level(slot) {
                let list = g.links(slot, level: level)
                let c = Int(list[0])
                precondition(c <= maxLinks(level: level), "node \(s) has \(c) links on level \(level)")
                var seen = Set<UInt32>()
                for j in stride(from: 1, through: c, by: 1) {
                    let other = list[j]
                    precondition(other != slot, "node \(s) links to itself on level \(level)")
                    precondition(Int(other) < g.slots, "node \(s) links to missing slot \(other)")
                    precondition(g.level(other) >= level, "node \(s) links to node \(other) which lacks level \(level)")
                    precondition(seen.insert(other).inserted, "node \(s) links twice to \(other) on level \(level)")
                }
            }
            if !g.isDeleted(slot) {
                precondition(slotOfKey[g.keys[s]] == slot, "live node \(s) is not the slot of its key \(g.keys[s])")
            }
        }
        precondition(slotOfKey.count + freeSlots.count == g.slots, "live + free slots != slots")
        if let entry = entryPoint {
            precondition(g.level(entry) == maxLevel, "entry point \(entry) is not on the top level \(maxLevel)")
        }
    }
}

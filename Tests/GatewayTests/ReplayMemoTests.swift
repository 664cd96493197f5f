@testable import Gateway
import DejaSupport
import NIOCore
import SemanticCache
import Testing

@Suite("Replayed streams kept for the next hit")
struct ReplayMemoTests {
    @Test("keeps replays by entry, API and usage, and drops the oldest past its byte limit")
    func bounded() {
        let memo = ReplayMemo(limit: 8_000)
        func key(_ entry: UInt64, usage: Bool = false) -> ReplayMemo.Key {
            ReplayMemo.Key(entry: entry, api: .chat, includeUsage: usage)
        }
        let replay = ByteBuffer(repeating: 0x61, count: 900)
        memo.put(key(1), replay)
        #expect(memo.get(key(1)) == replay)
        #expect(memo.get(key(1, usage: true)) == nil)
        #expect(memo.get(ReplayMemo.Key(entry: 1, api: .completions, includeUsage: false)) == nil)
        for entry in 2...9 { memo.put(key(UInt64(entry)), replay) }  // 9 × 900 bytes > 8,000
        #expect(memo.get(key(1)) == nil, "the oldest went first")
        #expect(memo.get(key(9)) == replay)
        #expect(memo.count == 8)
        memo.put(key(10), ByteBuffer(repeating: 0x62, count: 5_000))
        #expect(memo.get(key(10)) == nil, "a replay over an eighth of the limit is not kept")
        #expect(memo.count == 8)
    }

    @Test("providers' model lists are kept per tenant, but not for every tenant ever seen")
    func modelListsBounded() {
        let lists = ProviderModelLists()
        for tenant in 0..<(3 * ProviderModelLists.most) { lists.put("mock/key:\(tenant)", [.string("model-\(tenant)")]) }
        #expect(lists.count <= ProviderModelLists.most)
        #expect(lists.get("mock/key:\(3 * ProviderModelLists.most - 1)") == [.string("model-\(3 * ProviderModelLists.most - 1)")])
    }

    @Test("the gateway keeps the replay of a streamed hit and sends it again")
    func gatewayKeepsReplays() async throws {
        try await GatewayHarness.run(inProcess: true) { h in
            _ = try await h.chat("Explain recursion in programming", stream: true)
            await h.settle()
            #expect(h.gateway.proxy.replays.count == 0, "a miss is passed through, not replayed")
            let first = try await h.chat("Explain recursion in programming", stream: true)
            #expect(h.gateway.proxy.replays.count == 1)
            let second = try await h.chat("Explain recursion in programming", stream: true)
            #expect(second.body == first.body)
            #expect(h.gateway.proxy.replays.count == 1)
            _ = try await h.chat("Explain recursion in programming")
            #expect(h.gateway.proxy.replays.count == 1, "a plain hit needs no replay")
        }
    }
}

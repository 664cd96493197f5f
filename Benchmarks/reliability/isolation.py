"""Isolation: the same prompt asked across what must keep answers apart (two client keys, two
partitions, two system prompts, two temperatures) must never be answered from the other side's
entry. Each pair's first side is asked (and stored) first, then the second; a sample of the first
side asked again must hit, so that a zero means something."""

import threading
import time

from common import Deja, Upstream, log, request

TOPICS = ["reset my password", "cancel my subscription", "the capital of France", "boil an egg", "write a haiku",
          "sort a list in Python", "the speed of light", "a good book", "fix a flat tyre", "learn Spanish"]


def prompt(i):
    return f"Question {i}: how do I {TOPICS[i % len(TOPICS)]} in case {i * 31 % 997}?"


def variants(i):
    """The two sides of each kind of pair: (headers, extra body fields)."""
    p = prompt(i)
    return {
        "tenant": [({"authorization": "Bearer sk-tenant-a"}, {}), ({"authorization": "Bearer sk-tenant-b"}, {})],
        "partition": [({"x-deja-namespace": "team-1"}, {}), ({"x-deja-namespace": "team-2"}, {})],
        "system prompt": [({}, {"system": "You are a pirate."}), ({}, {"system": "You are a lawyer."})],
        "parameters": [({}, {"temperature": 0}), ({}, {"temperature": 1})],
    }, p


def ask(port, p, headers, extra):
    messages = [{"role": "user", "content": p}]
    if "system" in extra:
        messages.insert(0, {"role": "system", "content": extra["system"]})
    body = {"model": "ok", "messages": messages}
    body.update({k: v for k, v in extra.items() if k != "system"})
    status, _, h = request(port, "POST", "/v1/chat/completions", body, headers=headers)
    return status, h.get("x-deja-cache", "")


def run(prompts=1000, threads=4):
    upstream = Upstream()
    deja = Deja(upstream.port)
    deja.start()
    result = {"prompts": prompts, "pairs": 0, "cross_hits": 0, "control_hits": 0, "control_asked": 0, "errors": 0}
    by_kind = {}
    lock = threading.Lock()
    try:
        for side in (0, 1):
            def worker(offset):
                for i in range(offset, prompts, threads):
                    kinds, p = variants(i)
                    for kind, sides in kinds.items():
                        headers, extra = sides[side]
                        status, cache = ask(deja.port, p, headers, extra)
                        with lock:
                            if status != 200:
                                result["errors"] += 1
                            elif side == 1:
                                result["pairs"] += 1
                                if cache != "miss":
                                    result["cross_hits"] += 1
                                    by_kind[kind] = by_kind.get(kind, 0) + 1
            workers = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            time.sleep(1)  # answers are stored just after they are sent
            log(f"isolation: side {side + 1} asked")
        for i in range(0, prompts, 10):
            kinds, p = variants(i)
            for kind, sides in kinds.items():
                headers, extra = sides[0]
                status, cache = ask(deja.port, p, headers, extra)
                result["control_asked"] += 1
                result["control_hits"] += cache in ("hit", "semantic_hit")
    finally:
        deja.stop()
        upstream.stop()
    result["cross_hits_by_kind"] = by_kind
    return result

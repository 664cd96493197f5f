"""Crash trials: kill -9 at a random moment of mixed load, restart, and count what was lost.

The load mixes what writes: lookup-API inserts (whose 201 promises durability), deletes, purges of
a partition, proxied misses (whose answers are stored after the client has them), lookups, and
the upkeep and snapshot writes the server does on its own (a snapshot every 2 s here). After each
restart every acknowledged insert must be there with its answer and every acknowledged delete
must stay deleted; the index must hold what the store holds."""

import random
import threading
import time

from common import Deja, Upstream, admin, all_entries, chat, log


def run(trials=10, seed=1):
    rng = random.Random(seed)
    upstream = Upstream()
    deja = Deja(upstream.port)
    result = {"trials": trials, "acknowledged_inserts": 0, "lost_inserts": 0, "acknowledged_deletes": 0,
              "resurrected_deletes": 0, "inconsistent_restarts": 0, "restart_seconds": [], "chat_answers": 0,
              "chat_answers_lost": 0, "chat_loss_window_ms": 0.0, "purges": 0, "purge_violations": 0}
    deja.start()
    expected = {}   # id -> (prompt, answer) acknowledged and not deleted
    deleted = set()
    counter = [0]
    try:
        for trial in range(trials):
            stop = threading.Event()
            lock = threading.Lock()
            chats = []    # (prompt, time acknowledged)
            purges = []  # when each acknowledged purge of the partition began
            partition_inserts = []  # (prompt, sent, acknowledged, id)

            def next_prompt(kind):
                with lock:
                    counter[0] += 1
                    return f"{kind} question number {counter[0]} of trial {trial} about topic {counter[0] * 7919 % 1000}"

            def inserter():
                while not stop.is_set():
                    prompt = next_prompt("insert")
                    answer = f"answer {counter[0]}"
                    try:
                        status, body, _ = admin(deja.port, "POST", "/v1/cache/entries",
                                                {"prompt": prompt, "model": "gpt-test", "response": answer})
                    except OSError:
                        continue
                    if status == 201:
                        with lock:
                            expected[body["id"]] = (prompt, answer)

            def deleter():
                while not stop.is_set():
                    with lock:
                        victim = rng.choice(list(expected)) if len(expected) > 50 else None
                    if victim is None:
                        time.sleep(0.01)
                        continue
                    try:
                        status, _, _ = admin(deja.port, "DELETE", f"/v1/cache/entries/{victim}")
                    except OSError:
                        continue
                    if status == 200:
                        with lock:
                            expected.pop(victim, None)
                            deleted.add(victim)
                    time.sleep(0.005)

            def partition_writer():
                while not stop.is_set():
                    prompt = next_prompt("partition")
                    started = time.monotonic()
                    try:
                        status, body, _ = admin(deja.port, "POST", "/v1/cache/entries",
                                                {"prompt": prompt, "model": "gpt-test", "response": "p",
                                                 "namespace": "purged"})
                    except OSError:
                        continue
                    if status == 201:
                        with lock:
                            partition_inserts.append((prompt, started, time.monotonic(), body["id"]))
                    if rng.random() < 0.1:
                        began = time.monotonic()
                        try:
                            status, _, _ = admin(deja.port, "DELETE", "/v1/cache?label=*/gpt-test/purged")
                        except OSError:
                            continue
                        if status == 200:
                            with lock:
                                purges.append(began)

            def chatter():
                while not stop.is_set():
                    prompt = next_prompt("chat")
                    try:
                        status, _, _ = chat(deja.port, prompt)
                    except OSError:
                        continue
                    if status == 200:
                        with lock:
                            chats.append((prompt, time.monotonic()))

            threads = [threading.Thread(target=f) for f in (inserter, inserter, deleter, partition_writer, chatter, chatter, chatter, chatter)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(1.0, 4.0))
            killed_at = time.monotonic()
            deja.kill()
            stop.set()
            for t in threads:
                t.join()
            result["restart_seconds"].append(deja.start())

            entries = all_entries(deja.port)
            lost = [i for i in expected if i not in entries or entries[i]["prompt"] != expected[i][0]]
            back = [i for i in deleted if i in entries]
            result["lost_inserts"] += len(lost)
            result["resurrected_deletes"] += len(back)
            # Purges: an entry of the partition acknowledged before an acknowledged purge began is gone.
            if purges:
                violations = [p for p in partition_inserts if p[2] < purges[-1] and p[3] in entries]
                result["purges"] += len(purges)
                result["purge_violations"] += len(violations)
            # Chat answers are stored after the client has them: those acknowledged just before the kill may be lost.
            prompts = {e["prompt"] for e in entries.values()}
            missing = [(p, t) for p, t in chats if p not in prompts]
            result["chat_answers"] += len(chats)
            result["chat_answers_lost"] += len(missing)
            if missing:
                window = (killed_at - min(t for _, t in missing)) * 1000
                result["chat_loss_window_ms"] = max(result["chat_loss_window_ms"], window)
            _, stats, _ = admin(deja.port, "GET", "/v1/cache/stats")
            # Every prompt here is short enough to have a vector: the index holds exactly the store's entries.
            if stats["entries"] != stats["index"]["count"] or stats["entries"] != len(entries):
                result["inconsistent_restarts"] += 1
            result["acknowledged_inserts"] = len(expected) + len(deleted)
            result["acknowledged_deletes"] = len(deleted)
            log(f"crash trial {trial + 1}/{trials}: {len(expected)} entries expected, lost {len(lost)}, "
                f"deletes back {len(back)}, chat answers lost {len(missing)} of {len(chats)}, "
                f"restart {result['restart_seconds'][-1]:.2f} s")
    finally:
        deja.stop()
        upstream.stop()
    return result

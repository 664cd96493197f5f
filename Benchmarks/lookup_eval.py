#!/usr/bin/env python3
"""Labelled pairs through a running gateway's lookup API: what a cache of them serves.

    python3 Benchmarks/lookup_eval.py fixtures/verifier-pairs.jsonl --split test \\
        --deja .build/release/deja --embedder minilm [--threshold T] [--no-verifier]

Starts `deja serve` (the binary given, so that two versions can be compared on the same pairs)
on a free loopback port with an empty cache in a temporary folder, stores every distinct `a` of
the pairs through POST /v1/cache/entries, looks up every distinct `b` through
POST /v1/cache/lookup, and counts correct hits (an `a` labelled the same as `b`), wrong hits and
misses; then the same for the lookups whose right answer is cached ("servable"). A prompt that
is both cached and looked up is looked up with its own entry taken out. This is how a
held-out set is judged from outside: the decision the gateway would take on a chat request,
whatever version and configuration it runs. Standard library only.
"""
import argparse, http.client, json, os, socket, subprocess, sys, tempfile, time, urllib.error, urllib.request

KEY = "lookup-eval-key"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One kept-alive connection to the gateway."""

    def __init__(self, port):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(self, path, body, method="POST"):
        self.connection.request(method, path, None if body is None else json.dumps(body), {"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
        r = self.connection.getresponse()
        data = json.loads(r.read())
        if r.status >= 300:
            sys.exit(f"{path}: {r.status} {data}")
        return data


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pairs")
    ap.add_argument("--split", help="only pairs whose split field is this")
    ap.add_argument("--deja", default=".build/release/deja")
    ap.add_argument("--embedder", default="minilm")
    ap.add_argument("--threshold", type=float, help="cache.threshold (default: the gateway's own)")
    ap.add_argument("--no-verifier", action="store_true", help="cache.verifier.enabled: false")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    pairs = [json.loads(l) for l in open(args.pairs, encoding="utf-8") if l.strip()]
    if args.split:
        pairs = [p for p in pairs if p.get("split") == args.split]
    anchors = list(dict.fromkeys(p["a"] for p in pairs))
    queries = list(dict.fromkeys(p["b"] for p in pairs))
    serves = {q: set() for q in queries}
    for p in pairs:
        if p["same"]:
            serves[p["b"]].add(p["a"])

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    work = tempfile.mkdtemp(prefix="deja-lookup-eval-")
    port = free_port()
    config = os.path.join(work, "deja.yaml")
    with open(config, "w") as f:
        f.write(f"server:\n  port: {port}\n")
        f.write(f"embedder:\n  kind: {args.embedder}\n  minilm:\n    path: {os.path.join(root, 'models/all-MiniLM-L6-v2')}\n")
        f.write(f"cache:\n  store: {work}/cache.sqlite\n  index_file: ''\n")
        if args.threshold is not None:
            f.write(f"  threshold: {args.threshold}\n")
        if args.no_verifier:
            f.write("  verifier:\n    enabled: false\n")
        f.write("providers:\n  none:\n    base_url: http://127.0.0.1:9/v1\nmodels:\n  '*':\n    provider: none\n")
    env = dict(os.environ, DEJA_ADMIN_KEY=KEY)
    log = open(os.path.join(work, "serve.log"), "w")
    server = subprocess.Popen([args.deja, "serve", "--config", config], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None:
                    sys.exit(f"deja serve stopped: see {log.name}")
                time.sleep(0.1)
        client = Client(port)
        entry_of, id_of = {}, {}

        def store(a):
            e = client.post("/v1/cache/entries", {"model": "eval", "prompt": a, "response": "answer"})
            entry_of[str(e["id"])] = a
            id_of[a] = str(e["id"])

        for a in anchors:
            store(a)
        counts = {"correct": 0, "wrong": 0, "miss": 0, "servable": 0, "servable_correct": 0, "servable_wrong": 0}
        for q in queries:
            # A prompt that is also cached (a near-miss cached as a competitor) is looked up
            # without itself, as the pairs mean: its entry goes for the lookup and comes back.
            cached = q in id_of
            if cached:
                client.post("/v1/cache/entries/" + id_of[q], None, method="DELETE")
            r = client.post("/v1/cache/lookup", {"model": "eval", "prompt": q})
            if cached:
                store(q)
            servable = bool(serves[q])
            counts["servable"] += servable
            if not r.get("hit"):
                counts["miss"] += 1
                continue
            entry = r.get("entry")
            right = entry_of.get(str(entry.get("id") if isinstance(entry, dict) else entry)) in serves[q]
            counts["correct" if right else "wrong"] += 1
            if servable:
                counts["servable_correct" if right else "servable_wrong"] += 1
    finally:
        server.terminate()
        server.wait()
    counts.update(anchors=len(anchors), lookups=len(queries))
    if args.json:
        print(json.dumps(counts))
    else:
        print(f"{len(anchors)} cached prompts, {len(queries)} lookups: {counts['correct']} correct hits, "
              f"{counts['wrong']} wrong hits, {counts['miss']} misses; of the {counts['servable']} servable lookups: "
              f"{counts['servable_correct']} correct, {counts['servable_wrong']} wrong")


if __name__ == "__main__":
    main()

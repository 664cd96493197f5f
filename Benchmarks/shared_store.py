"""Several Deja instances on one PostgreSQL store (docs/shared-store.md), measured against the
SQLite store in the same run:

- propagation: an entry stored through instance A's lookup API, then looked up on instance B
  until B answers it: the time from A's answer to B's first hit (p50, p99);
- inserts per second through the lookup API, one client, on PostgreSQL and on SQLite;
- exact hits per second (`deja bench gateway --hit-ratio 1`), PostgreSQL and SQLite, ABBA.

    swift build -c release && .build-py/bin/python Benchmarks/shared_store.py [SAMPLES]

Starts its own PostgreSQL (fixtures/postgres.sh, port 54339), the mock upstream on 8081 and three
gateways on 8090 (A, PostgreSQL), 8091 (B, PostgreSQL) and 8092 (SQLite); stop `make run` first.
"""
import http.client
import json
import os
import subprocess
import sys
import time
import uuid

B = os.environ.get("DEJA_BIN", ".build/release/deja")
SAMPLES = int(sys.argv[1]) if len(sys.argv) > 1 else 300
ADMIN = "bench"
RUN = ".run/shared-bench"
os.makedirs(RUN, exist_ok=True)
procs = []


def start(args, env=None, log="x"):
    p = subprocess.Popen(args, env={**os.environ, **(env or {})}, stdout=open(f"{RUN}/{log}.log", "w"), stderr=subprocess.STDOUT)
    procs.append(p)
    return p


def wait_ready(port):
    for _ in range(300):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"gateway on {port} did not start")


def call(conn, method, path, body=None):
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"authorization": f"Bearer {ADMIN}", "content-type": "application/json"})
    r = conn.getresponse()
    return r.status, json.loads(r.read() or b"null")


subprocess.run(["fixtures/postgres.sh", "stop", f"{RUN}/pg"], check=False)
subprocess.run(["rm", "-rf", f"{RUN}/pg"], check=False)
url = subprocess.run(["fixtures/postgres.sh", "start", f"{RUN}/pg", "54339"], check=True, capture_output=True, text=True).stdout.strip()
try:
    start([B, "mock-upstream", "--port", "8081"], log="mock")
    servers = {}
    for name, port, store in (("A", 8090, url), ("B", 8091, url), ("S", 8092, f"../{RUN}/sqlite-cache.sqlite")):
        env = {"DEJA_ADMIN_KEY": ADMIN, "DEJA_SERVER_PORT": str(port), "DEJA_CACHE_STORE": store,
               "DEJA_CACHE_INDEX_FILE": f"../{RUN}/{name}.hnsw", "DEJA_GOVERNANCE_STORE": f"../{RUN}/{name}-governance.sqlite"}
        servers[name] = start([B, "serve", "--config", "fixtures/deja.run.yaml"], env, log=name)
        wait_ready(port)
    a, b, s = (http.client.HTTPConnection("127.0.0.1", p) for p in (8090, 8091, 8092))

    delays = []
    for i in range(SAMPLES):
        prompt = f"propagation probe {i} {uuid.uuid4().hex}"
        status, _ = call(a, "POST", "/v1/cache/entries", {"prompt": prompt, "model": "gpt-4o-mini", "response": "x"})
        assert status == 201, status
        stored = time.perf_counter()
        while True:
            status, body = call(b, "POST", "/v1/cache/lookup", {"prompt": prompt, "model": "gpt-4o-mini"})
            if body and body.get("hit"):
                delays.append((time.perf_counter() - stored) * 1000)
                break
            if time.perf_counter() - stored > 10:
                raise SystemExit(f"probe {i} never reached B")
    delays.sort()
    p50, p99 = delays[len(delays) // 2], delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    print(f"propagation A -> B, {SAMPLES} entries: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {delays[-1]:.2f} ms")

    for name, conn in (("PostgreSQL", a), ("SQLite", s), ("PostgreSQL", a), ("SQLite", s)):
        n, t0 = 500, time.perf_counter()
        for i in range(n):
            call(conn, "POST", "/v1/cache/entries", {"prompt": f"insert rate {i} {uuid.uuid4().hex}", "model": "gpt-4o-mini", "response": "x"})
        print(f"inserts through the lookup API, one client, {name}: {n / (time.perf_counter() - t0):.0f}/s")

    for name, port in (("PostgreSQL", 8090), ("SQLite", 8092), ("SQLite", 8092), ("PostgreSQL", 8090)):
        out = subprocess.run([B, "bench", "gateway", "--url", f"http://127.0.0.1:{port}/v1", "--concurrency", "64",
                              "--hit-ratio", "1", "--duration", "10", "--server-pid", str(servers["A" if port == 8090 else "S"].pid)],
                             capture_output=True, text=True).stdout
        rows = [l for l in out.splitlines() if l.startswith("hit") or "CPU" in l]
        print(f"exact hits, {name}: " + " | ".join(" ".join(r.split()) for r in rows))
finally:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait()
    subprocess.run(["fixtures/postgres.sh", "stop", f"{RUN}/pg"], check=False)

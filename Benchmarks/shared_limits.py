"""Rate limits shared through PostgreSQL (docs/shared-store.md) against limits kept in one
instance's SQLite governance store, in the same run: exact hits with a rate-limited key
(`deja bench gateway --hit-ratio 1 --keys-file`), ABBA, with server CPU per request.

    swift build -c release && python3 Benchmarks/shared_limits.py [ROUNDS]

Starts its own PostgreSQL (fixtures/postgres.sh, port 54349), the mock upstream on 8081 and two
gateways with `server.auth: keys`: 8093 (governance in PostgreSQL, so its key's per-minute
bucket is shared and admitted from leases) and 8094 (governance in SQLite). Stop `make run` first.
"""
import http.client
import json
import os
import subprocess
import sys
import time

B = os.environ.get("DEJA_BIN", ".build/release/deja")
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
ADMIN = "bench"
RUN = ".run/limits-bench"
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


def make_key(port):
    c = http.client.HTTPConnection("127.0.0.1", port)
    # Limited (so that every request takes from the bucket), far above what the load can reach.
    c.request("POST", "/v1/admin/keys", body=json.dumps({"tenant": "bench", "rpm": 100_000_000, "tpm": 100_000_000}),
              headers={"authorization": f"Bearer {ADMIN}", "content-type": "application/json"})
    r = c.getresponse()
    body = json.loads(r.read())
    assert r.status == 201, body
    path = f"{RUN}/key-{port}.txt"
    with open(path, "w") as f:
        f.write(body["secret"] + "\n")
    return path


subprocess.run(["fixtures/postgres.sh", "stop", f"{RUN}/pg"], check=False)
subprocess.run(["rm", "-rf", f"{RUN}/pg"], check=False)
url = subprocess.run(["fixtures/postgres.sh", "start", f"{RUN}/pg", "54349"], check=True, capture_output=True, text=True).stdout.strip()
try:
    start([B, "mock-upstream", "--port", "8081"], log="mock")
    servers, keys = {}, {}
    for name, port, governance in (("PostgreSQL", 8093, url), ("SQLite", 8094, f"../{RUN}/governance.sqlite")):
        env = {"DEJA_ADMIN_KEY": ADMIN, "DEJA_SERVER_PORT": str(port), "DEJA_SERVER_AUTH": "keys",
               "DEJA_CACHE_STORE": f"../{RUN}/{port}-cache.sqlite", "DEJA_CACHE_INDEX_FILE": f"../{RUN}/{port}.hnsw",
               "DEJA_GOVERNANCE_STORE": governance}
        servers[name] = (port, start([B, "serve", "--config", "fixtures/deja.run.yaml"], env, log=name))
        wait_ready(port)
        keys[name] = make_key(port)
    order = ["PostgreSQL", "SQLite", "SQLite", "PostgreSQL"] * ROUNDS
    for name in order:
        port, proc = servers[name]
        out = subprocess.run([B, "bench", "gateway", "--url", f"http://127.0.0.1:{port}/v1", "--concurrency", "64",
                              "--hit-ratio", "1", "--duration", "10", "--keys-file", keys[name], "--server-pid", str(proc.pid)],
                             capture_output=True, text=True).stdout
        rows = [l for l in out.splitlines() if l.startswith("hit") or "CPU" in l or "429" in l or "error" in l.lower()]
        print(f"exact hits, limited key, governance in {name}: " + " | ".join(" ".join(r.split()) for r in rows), flush=True)
finally:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait()
    subprocess.run(["fixtures/postgres.sh", "stop", f"{RUN}/pg"], check=False)

"""What every part of the reliability suite shares: a Deja process on a scratch folder, the fault
upstream, HTTP helpers and the process's memory."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEJA = os.environ.get("DEJA_BIN", os.path.join(ROOT, ".build/release/deja"))
ADMIN_KEY = "reliability-admin-key"
HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Upstream:
    """The fault upstream (fault_upstream.py) in a process of its own, or with `fast`, Deja's own
    mock upstream (no faults, but quick enough for load)."""

    def __init__(self, fast=False):
        self.port = free_port()
        command = ([DEJA, "mock-upstream", "--port", str(self.port)] if fast
                   else [sys.executable, os.path.join(HERE, "fault_upstream.py"), str(self.port)])
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: get(self.port, "/v1/models")[0] == 200, 10, "the fault upstream")

    def stop(self):
        self.process.kill()
        self.process.wait()


class Deja:
    """`deja serve` on a scratch folder (kept across restarts, so a restart finds the same cache)."""

    def __init__(self, upstream_port, extra=None, folder=None):
        self.folder = folder or tempfile.mkdtemp(prefix="deja-reliability-")
        self.port = free_port()
        self.upstream_port = upstream_port
        self.extra = extra or {}
        self.process = None
        self.log_path = os.path.join(self.folder, "deja.log")

    def configuration(self):
        server = {"port": self.port, "request_timeout": 5}
        server.update(self.extra.get("server", {}))
        cache = {"store": os.path.join(self.folder, "cache.sqlite"),
                 "index_file": os.path.join(self.folder, "cache.hnsw"), "snapshot_interval": 2}
        cache.update(self.extra.get("cache", {}))
        return {
            "server": server,
            "cache": cache,
            "providers": {"up": {"base_url": f"http://127.0.0.1:{self.upstream_port}/v1", "timeout": 3}},
            "models": {"*": {"provider": "up"}},
        }

    def start(self, timeout=120):
        path = os.path.join(self.folder, "deja.json")
        with open(path, "w") as f:
            json.dump(self.configuration(), f)
        env = dict(os.environ, DEJA_ADMIN_KEY=ADMIN_KEY)
        started = time.monotonic()
        with open(self.log_path, "a") as log_file:
            self.process = subprocess.Popen(
                [DEJA, "serve", "--config", path], env=env, stdout=subprocess.DEVNULL, stderr=log_file)
        wait_for(lambda: self.process.poll() is None and get(self.port, "/readyz")[0] == 200, timeout,
                 f"deja serve (log: {self.log_path})", process=self.process)
        return time.monotonic() - started

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_bytes(self):
        return rss_bytes(self.process.pid)


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def wait_for(condition, timeout, what, process=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"reliability: {what} exited with status {process.returncode}")
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"reliability: {what} was not ready within {timeout} s")


def request(port, method, path, body=None, headers=None, timeout=10, connection=None):
    """One exchange; returns (status, parsed JSON or raw bytes, headers). Raises OSError when
    the connection fails."""
    c = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    h = {"content-type": "application/json"} if data is not None else {}
    h.update(headers or {})
    try:
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
    finally:
        if connection is None:
            c.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw
    return r.status, parsed, {k.lower(): v for k, v in r.getheaders()}


def get(port, path, **kw):
    return request(port, "GET", path, **kw)


def admin(port, method, path, body=None, **kw):
    return request(port, method, path, body, headers={"authorization": f"Bearer {ADMIN_KEY}"}, **kw)


def chat(port, prompt, model="gpt-test", headers=None, **extra):
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], **extra}
    return request(port, "POST", "/v1/chat/completions", body, headers=headers)


def all_entries(port):
    """Every entry of the cache (the lookup API's pages), by id."""
    entries = {}
    after = None
    while True:
        path = "/v1/cache/entries?limit=100" + (f"&after={after}" if after else "")
        status, page, _ = admin(port, "GET", path)
        assert status == 200, (status, page)
        for e in page["data"]:
            entries[e["id"]] = e
        if not page["has_more"]:
            return entries
        after = page["last_id"]


def is_openai_error(body):
    return isinstance(body, dict) and isinstance(body.get("error"), dict) and "message" in body["error"]


def machine_line():
    """The machine line every `deja bench` prints first."""
    out = subprocess.run([DEJA, "bench", "index", "--n", "10", "--dim", "8", "--queries", "1", "--ef", "8",
                          "--reps", "1", "--warmup", "0", "--json"], capture_output=True, text=True)
    try:
        m = json.loads(out.stdout)["machine"]
        return (f"{m['cpu']} ({m['logicalCPUs']} logical CPUs), SIMD {m['simd']}"
                f"{''.join(' +' + e for e in m['extensions'])}, OpenBLAS {m['blasVersion']} {m['blasCore']}")
    except (ValueError, KeyError):
        return "unknown machine"

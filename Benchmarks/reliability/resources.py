"""Resources: 10,000 idle connections and clients that drip their requests a byte a second, while
ordinary requests go on; their latency before and during, the server's memory per connection, and
what it keeps after the connections close."""

import http.client
import json
import resource
import socket
import statistics
import threading
import time

from common import Deja, Upstream, chat, log


def latencies(port, n=500):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps({"model": "ok", "messages": [{"role": "user", "content": "a question asked again and again"}]})
    out = []
    for _ in range(n):
        started = time.perf_counter()
        c.request("POST", "/v1/chat/completions", body=body, headers={"content-type": "application/json"})
        r = c.getresponse()
        r.read()
        assert r.status == 200, r.status
        out.append((time.perf_counter() - started) * 1000)
    c.close()
    out.sort()
    return out[len(out) // 2], out[int(len(out) * 0.99) - 1]


def run(idle=10_000, drippers=50, request_timeout=5):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    upstream = Upstream()
    deja = Deja(upstream.port, extra={"server": {"max_connections": idle + drippers + 100,
                                                "request_timeout": request_timeout}})
    deja.start()
    result = {"idle_connections": idle, "drippers": drippers}
    try:
        chat(deja.port, "a question asked again and again", model="ok")
        time.sleep(0.5)
        result["p50_ms_before"], result["p99_ms_before"] = latencies(deja.port)
        rss_before = deja.rss_bytes()
        sockets = []
        for _ in range(idle):
            s = socket.create_connection(("127.0.0.1", deja.port))
            sockets.append(s)
        time.sleep(1)
        rss_idle = deja.rss_bytes()

        stop = threading.Event()
        cut_off = [0]

        def drip():
            while not stop.is_set():
                s = socket.create_connection(("127.0.0.1", deja.port))
                s.settimeout(request_timeout + 5)
                head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n"
                try:
                    for byte in head:
                        if stop.is_set():
                            break
                        s.sendall(bytes([byte]))
                        time.sleep(1)
                except OSError:
                    reply = b""
                    try:
                        reply = s.recv(200)
                    except OSError:
                        pass
                    if reply.startswith(b"HTTP/1.1 408"):
                        cut_off[0] += 1
                s.close()

        threads = [threading.Thread(target=drip) for _ in range(drippers)]
        for t in threads:
            t.start()
        time.sleep(request_timeout + 2)
        result["p50_ms_during"], result["p99_ms_during"] = latencies(deja.port)
        stop.set()
        for t in threads:
            t.join()
        result["drippers_cut_off_with_408"] = cut_off[0]
        for s in sockets:
            s.close()
        time.sleep(2)
        rss_after = deja.rss_bytes()
        result["rss_mb_before"] = round(rss_before / 1e6, 1)
        result["rss_mb_with_idle"] = round(rss_idle / 1e6, 1)
        result["rss_mb_after_close"] = round(rss_after / 1e6, 1)
        result["kb_per_idle_connection"] = round((rss_idle - rss_before) / idle / 1000, 1)
        result["errors"] = 0 if deja.process.poll() is None else 1
        log(f"resources: {result}")
    finally:
        deja.stop()
        upstream.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return result

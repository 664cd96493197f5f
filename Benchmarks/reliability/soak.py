"""Soak: half of the measured peak, 90 % hits, a cache that grows into its cap (5,000 entries
here, reached in the first minute), for `minutes`: the server's memory sampled every 10 s must
level off once the cache is full, with no errors and a steady p99."""

import json
import subprocess
import threading
import time

from common import DEJA, Deja, Upstream, log


def bench(port, seconds, rate=None):
    command = [DEJA, "bench", "gateway", "--url", f"http://127.0.0.1:{port}", "--concurrency", "32",
               "--duration", str(seconds), "--hit-ratio", "0.9", "--json"]
    if rate:
        command += ["--rate", str(rate)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def run(minutes=3.0, max_entries=5000, chunk=30):
    upstream = Upstream(fast=True)
    deja = Deja(upstream.port, extra={"cache": {"max_entries": max_entries}})
    deja.start()
    samples = []
    result = {"minutes": minutes, "max_entries": max_entries}
    try:
        peak = bench(deja.port, 10)["requestsPerSecond"]
        result["peak_rps"] = round(peak)
        result["rate"] = round(peak / 2)
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                samples.append(deja.rss_bytes())
                stop.wait(10)

        sampler = threading.Thread(target=sample)
        sampler.start()
        chunks = []
        deadline = time.monotonic() + minutes * 60
        while time.monotonic() < deadline:
            seconds = max(5, min(chunk, int(deadline - time.monotonic())))
            r = bench(deja.port, seconds, rate=peak / 2)
            chunks.append({"rps": r["requestsPerSecond"], "p99": r["all"]["p99Milliseconds"], "errors": r["errors"]})
            log(f"soak: {r['requestsPerSecond']:.0f} req/s, p99 {r['all']['p99Milliseconds']:.1f} ms, "
                f"errors {r['errors']}, RSS {samples[-1] / 1e6:.0f} MB")
        stop.set()
        sampler.join()
        samples.append(deja.rss_bytes())
        result["requests"] = int(sum(c["rps"] for c in chunks) * chunk)
        result["errors"] = sum(c["errors"] for c in chunks)
        result["p99_ms_per_chunk"] = [round(c["p99"], 1) for c in chunks]
        result["rss_mb_samples"] = [round(s / 1e6) for s in samples]
        result["rss_mb_start"] = round(samples[0] / 1e6)
        result["rss_mb_end"] = round(samples[-1] / 1e6)
        # Levelled off: the last third grew by less than 5 % over the middle third.
        third = max(1, len(samples) // 3)
        middle = max(samples[third:2 * third] or samples)
        result["rss_levelled_off"] = max(samples[2 * third:]) <= middle * 1.05
        result["crashed"] = deja.process.poll() is not None
    finally:
        deja.stop()
        upstream.stop()
    return result

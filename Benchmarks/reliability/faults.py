"""Faults: an upstream that errors, stalls, sends garbage, cuts or stalls streams and resets
connections; a store whose disk fills up. Deja must answer each with an error in OpenAI's shape
(or a stream that ends in an error event), cache nothing broken, and keep serving."""

import os
import subprocess
import tempfile

from common import Deja, Upstream, admin, all_entries, chat, is_openai_error, log, request
from fault_upstream import MODES


def stream(port, prompt, model):
    """A streamed chat call; returns (status, the raw text received)."""
    status, body, _ = request(port, "POST", "/v1/chat/completions",
                              {"model": model, "stream": True, "messages": [{"role": "user", "content": prompt}]},
                              timeout=20)
    return status, body if isinstance(body, bytes) else str(body).encode()


def run(rounds=3):
    upstream = Upstream()
    deja = Deja(upstream.port)
    result = {"requests": 0, "cached_good_answers": 0, "wrong_answers": 0, "non_json_errors": 0, "cached_errors": 0, "crashes": 0,
              "server_errors_from_deja": 0, "disk_full": "not run"}
    deja.start()
    try:
        for r in range(rounds):
            for mode in MODES:
                for streamed in (False, True):
                    prompt = f"fault round {r} mode {mode} stream {streamed}"
                    result["requests"] += 1
                    if streamed:
                        status, raw = stream(deja.port, prompt, mode)
                        ok = (status == 200 and b"[DONE]" in raw) if mode == "ok" else (
                            status >= 400 or b'"error"' in raw)
                    else:
                        status, body, _ = chat(deja.port, prompt, model=mode)
                        # The stream faults are faults of streams only.
                        if mode in ("ok", "cut-stream", "stall-stream"):
                            ok = status == 200
                        else:
                            ok = status >= 400 and is_openai_error(body)
                        if status >= 400 and not is_openai_error(body):
                            result["non_json_errors"] += 1
                    if status == 500:
                        result["server_errors_from_deja"] += 1
                    if not ok:
                        result["wrong_answers"] += 1
                        log(f"fault {mode} stream={streamed}: status {status}")
                    if deja.process.poll() is not None:
                        result["crashes"] += 1
                        deja.start()
                    # The server goes on serving.
                    assert chat(deja.port, f"still there after {prompt}")[0] == 200
        entries = all_entries(deja.port).values()
        result["cached_errors"] = len([e for e in entries if broken(e)])
        # The control: the good answers were cached, so the count above means something.
        result["cached_good_answers"] = len([e for e in entries if e["prompt"].startswith("fault ") and e["model"] == "ok"])
    finally:
        deja.stop()
    result["disk_full"] = disk_full(upstream)
    upstream.stop()
    return result


def broken(entry):
    """Whether a cached entry holds the answer of a faulty call."""
    if not entry["prompt"].startswith("fault ") or entry["model"] == "ok":
        return False
    if entry["model"] in ("cut-stream", "stall-stream"):
        return "stream True" in entry["prompt"]
    return True


def disk_full(upstream):
    """The store's disk fills (a 4 MB tmpfs): the lookup API answers 503, the proxy still
    answers, and both recover once space is freed. Needs root for the mount."""
    folder = tempfile.mkdtemp(prefix="deja-full-")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", folder], capture_output=True).returncode != 0:
        return "skipped (mounting a tmpfs needs root)"
    deja = Deja(upstream.port, folder=folder, extra={"cache": {"snapshot_interval": 1}})
    ballast = os.path.join(folder, "ballast")
    try:
        with open(ballast, "wb") as f:
            f.write(b"\0" * (1 << 20))
        deja.start()
        refused = inserted = 0
        for i in range(4000):
            status, body, _ = admin(deja.port, "POST", "/v1/cache/entries",
                                    {"prompt": f"filling the disk {i}", "model": "ok", "response": "x" * 2000})
            if status == 201:
                inserted += 1
            elif status == 503 and is_openai_error(body):
                refused += 1
                if refused >= 20:
                    break
            else:
                return f"failed: status {status} while filling"
        if refused == 0:
            return "failed: the disk never filled"
        proxied = chat(deja.port, "a question while the disk is full", model="ok")[0]
        alive = deja.process.poll() is None
        # Free space, as an operator would.
        os.remove(ballast)
        after = admin(deja.port, "POST", "/v1/cache/entries", {"prompt": "after freeing", "model": "ok", "response": "y"})[0]
        verdict = "ok" if proxied == 200 and alive and after == 201 else "failed"
        return (f"{verdict}: {inserted} inserts, then {refused} refused with 503; proxy {proxied} while full; "
                f"insert after freeing space {after}")
    finally:
        deja.stop()
        subprocess.run(["umount", folder])

"""Fuzz: libFuzzer on the JSON parser and the request decoder (fuzz.sh), then schemathesis
generating requests for every route of docs/openapi.yaml against a running Deja: no crash, no
5xx, every response (errors included) of the documented content type and shape."""

import os
import re
import subprocess

from common import ADMIN_KEY, HERE, ROOT, Deja, Upstream, log

SCHEMATHESIS = os.path.join(ROOT, ".build-reliability/bin/schemathesis")


def libfuzzer(seconds):
    out = subprocess.run([os.path.join(HERE, "fuzz.sh"), str(seconds)], capture_output=True, text=True)
    line = (out.stdout.strip().splitlines() or ["fuzz: no output"])[-1]
    log(line)
    runs = re.search(r"fuzz: (\d+) runs", line)
    crashes = re.search(r"(\d+) crashes", line)
    return {"libfuzzer_seconds": seconds, "libfuzzer_runs": int(runs.group(1)) if runs else None,
            "libfuzzer_crashes": int(crashes.group(1)) if crashes else None, "libfuzzer_line": line}


def schemathesis(seconds):
    upstream = Upstream(fast=True)
    deja = Deja(upstream.port)
    deja.start()
    try:
        out = subprocess.run(
            [SCHEMATHESIS, "run", os.path.join(ROOT, "docs/openapi.yaml"), "--url", f"http://127.0.0.1:{deja.port}",
             "-H", f"Authorization: Bearer {ADMIN_KEY}", "--checks",
             "not_a_server_error,content_type_conformance,response_schema_conformance",
             "--max-time", str(seconds), "-w", "2"],
            capture_output=True, text=True)
        crashed = deja.process.poll() is not None
    finally:
        deja.stop()
        upstream.stop()
    cases = re.search(r"(\d+) generated", out.stdout)
    failures = re.search(r"(\d+) found (\d+) unique failure", out.stdout)
    result = {"schemathesis_seconds": seconds, "schemathesis_cases": int(cases.group(1)) if cases else None,
              "schemathesis_failures": int(failures.group(2)) if failures else (0 if out.returncode == 0 else None),
              "schemathesis_exit": out.returncode, "server_crashed": crashed}
    if out.returncode != 0:
        with open(os.path.join(ROOT, ".build-reliability/schemathesis.log"), "w") as f:
            f.write(out.stdout + out.stderr)
        log("schemathesis found failures: .build-reliability/schemathesis.log")
    log(f"schemathesis: {result}")
    return result


def run(seconds=120):
    result = libfuzzer(seconds)
    result.update(schemathesis(seconds))
    return result

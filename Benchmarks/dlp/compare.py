#!/usr/bin/env python3
"""Deja's DLP detectors beside Microsoft Presidio's pattern recognizers on the same labelled file.

Usage: python3 Benchmarks/dlp/compare.py [DEJA] [FILE]
  DEJA: the deja binary (default .build/release/deja); FILE: fixtures/dlp/labelled.jsonl.
Needs presidio-analyzer (pip install presidio-analyzer); Presidio runs without a language model:
each recognizer's analyze() is called directly, with no NLP artifacts (no context words), as a
gateway would run it in process. Presidio's results are counted at its own default score
threshold (0: every result) and at 0.5. Detectors Presidio lacks (secrets) are Deja's alone.
Also times both on the file's text, one core, in the same run."""
import json, subprocess, sys, time

import tldextract
# Presidio's e-mail recognizer checks domains with tldextract, which would fetch the public
# suffix list from the internet; its bundled snapshot is enough.
tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer, EmailRecognizer, IbanRecognizer, IpRecognizer, PhoneRecognizer, UsSsnRecognizer)

deja = sys.argv[1] if len(sys.argv) > 1 else ".build/release/deja"
path = sys.argv[2] if len(sys.argv) > 2 else "fixtures/dlp/labelled.jsonl"
rows = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]

recognizers = {
    "email": (EmailRecognizer(), "EMAIL_ADDRESS"), "phone": (PhoneRecognizer(), "PHONE_NUMBER"),
    "card": (CreditCardRecognizer(), "CREDIT_CARD"), "iban": (IbanRecognizer(), "IBAN_CODE"),
    "ssn": (UsSsnRecognizer(), "US_SSN"), "ip": (IpRecognizer(), "IP_ADDRESS"),
}

def presidio(threshold):
    scores = {k: [0, 0, 0] for k in recognizers}
    start = time.perf_counter()
    for row in rows:
        labels = [(s["type"], s["start"], s["end"]) for s in row["spans"]]
        found = []
        for kind, (rec, entity) in recognizers.items():
            for r in rec.analyze(row["text"], [entity], None) or []:
                if r.score >= threshold: found.append((kind, r.start, r.end))
        for kind, a, b in found:
            hit = any(t == kind and s < b and a < e for t, s, e in labels)
            scores[kind][0 if hit else 1] += 1
        for kind, a, b in labels:
            if kind in scores and not any(t == kind and s < b and a < e for t, s, e in found):
                scores[kind][2] += 1
    return scores, time.perf_counter() - start

def pr(found, false, missed):
    p = found / (found + false) if found + false else 1.0
    r = found / (found + missed) if found + missed else 1.0
    return p, r

deja_scores = {s["detector"]: s for s in json.loads(subprocess.check_output([deja, "guard", "dlp", path, "--json"]))}
p0, seconds0 = presidio(0.0)
p5, _ = presidio(0.5)
size = sum(len(r["text"].encode()) for r in rows)
print(f"{path}: {len(rows)} texts, {sum(len(r['spans']) for r in rows)} labelled values")
print("detector | Deja P | Deja R | Presidio P (score>=0) | Presidio R | Presidio P (score>=0.5) | Presidio R")
print("---|---|---|---|---|---|---")
for kind in ["email", "phone", "card", "iban", "ssn", "ip", "secret"]:
    d = deja_scores[kind]
    dp, dr = pr(d["found"], d["false_positives"], d["missed"])
    if kind in p0:
        a, b = pr(*p0[kind]); c, e = pr(*p5[kind])
        print(f"{kind} | {dp:.3f} | {dr:.3f} | {a:.3f} | {b:.3f} | {c:.3f} | {e:.3f}")
    else:
        print(f"{kind} | {dp:.3f} | {dr:.3f} | — | — | — | —")
print(f"Presidio's six recognizers: {size / seconds0 / 1e6:.2f} MB/s on this file (Python, one core)")

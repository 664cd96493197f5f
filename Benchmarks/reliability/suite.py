#!/usr/bin/env python3
"""The standing reliability suite (`make reliability`): crash, faults, fuzz, soak, isolation and
resources against a release build of Deja, each part in its own scratch folder. It prints each
part's figures as JSON and writes the table of docs/reliability.md (between its markers), with the
machine, the date and the command.

  python3 Benchmarks/reliability/suite.py                 # everything, ~15 minutes
  python3 Benchmarks/reliability/suite.py --only crash,isolation --no-docs
  python3 Benchmarks/reliability/suite.py --soak-minutes 30   # the long soak
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import crash  # noqa: E402
import faults  # noqa: E402
import fuzz  # noqa: E402
import isolation  # noqa: E402
import resources  # noqa: E402
import soak  # noqa: E402
from common import ROOT, log, machine_line  # noqa: E402

PARTS = ["crash", "faults", "fuzz", "soak", "isolation", "resources"]
BEGIN = "<!-- reliability-results:begin -->"
END = "<!-- reliability-results:end -->"


def row(part, r):
    """One line of the table: part | what ran | failures | lost | crashes | 5xx | non-JSON errors |
    cached errors | cross hits | RSS | notes."""
    if part == "crash":
        lost = r["lost_inserts"] + r["resurrected_deletes"] + r["purge_violations"]
        restart = sorted(r["restart_seconds"])
        notes = (f"{r['acknowledged_inserts']:,} acknowledged inserts, {r['acknowledged_deletes']:,} deletes, "
                 f"{r['purges']} purges; restart {restart[len(restart) // 2]:.2f} s median, {restart[-1]:.2f} s max; "
                 f"chat answers stored after the reply: {r['chat_answers_lost']} of {r['chat_answers']:,} lost"
                 + (f", all acknowledged within {r['chat_loss_window_ms']:.0f} ms of the kill" if r["chat_answers_lost"] else ""))
        return [f"{r['trials']} kill -9 trials", r["inconsistent_restarts"], lost, "–", "–", "–", "–", "–", "", notes]
    if part == "faults":
        notes = (f"{len(faults.MODES)} upstream behaviours × plain and streamed; {r['cached_good_answers']} good answers "
                 f"cached as a control; full disk: {r['disk_full']}")
        return [f"{r['requests']} faulty calls", r["wrong_answers"], "–", r["crashes"], r["server_errors_from_deja"],
                r["non_json_errors"], r["cached_errors"], "–", "", notes]
    if part == "fuzz":
        failures = (r["libfuzzer_crashes"] or 0) + (r["schemathesis_failures"] or 0)
        notes = (f"libFuzzer {r['libfuzzer_runs']:,} inputs in {r['libfuzzer_seconds']} s (ASan); schemathesis "
                 f"{r['schemathesis_cases']:,} generated requests over every route of docs/openapi.yaml in "
                 f"{r['schemathesis_seconds']} s, checking no 5xx and the documented content type and schema")
        return [f"{(r['libfuzzer_runs'] or 0) + (r['schemathesis_cases'] or 0):,} inputs", failures, "–",
                (r["libfuzzer_crashes"] or 0) + int(r["server_crashed"]), "0" if r["schemathesis_exit"] == 0 else "see log",
                "0" if r["schemathesis_exit"] == 0 else "see log", "–", "–", "", notes]
    if part == "soak":
        notes = (f"{r['rate']:,} req/s (half the peak of {r['peak_rps']:,}), 90 % hits, cache capped at "
                 f"{r['max_entries']:,} entries; p99 per 30 s: {', '.join(str(p) for p in r['p99_ms_per_chunk'])} ms; "
                 f"RSS every 10 s: {', '.join(str(m) for m in r['rss_mb_samples'])} MB; "
                 f"{'levels off' if r['rss_levelled_off'] else 'still growing'}")
        return [f"{r['minutes']:g} min, {r['requests']:,} requests", r["errors"], "–", int(r["crashed"]), "–", "–", "–",
                "–", f"{r['rss_mb_start']} → {r['rss_mb_end']} MB", notes]
    if part == "isolation":
        notes = (f"{r['prompts']:,} prompts × tenant, partition, system prompt, parameters; the first side asked "
                 f"again: {r['control_hits']} of {r['control_asked']} hits")
        return [f"{r['pairs']:,} pairs", r["errors"], "–", "–", "–", "–", "–", r["cross_hits"], "", notes]
    if part == "resources":
        notes = (f"{r['idle_connections']:,} idle connections and {r['drippers']} clients dripping a byte a second "
                 f"({r['drippers_cut_off_with_408']} cut off with a 408); hit latency p50/p99 "
                 f"{r['p50_ms_before']:.2f}/{r['p99_ms_before']:.2f} ms before, "
                 f"{r['p50_ms_during']:.2f}/{r['p99_ms_during']:.2f} ms during; "
                 f"{r['kb_per_idle_connection']} kB per idle connection; {r['rss_mb_after_close']} MB after they closed")
        return [f"{r['idle_connections']:,} connections", r["errors"], "–", r["errors"], "–", "–", "–", "–",
                f"{r['rss_mb_before']} → {r['rss_mb_with_idle']} MB", notes]
    return [json.dumps(r)]


def write_docs(results, command, started):
    path = os.path.join(ROOT, "docs/reliability.md")
    with open(path) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"reliability: {path} lacks the markers {BEGIN} ... {END}")
    lines = [BEGIN, "",
             f"Run on {time.strftime('%Y-%m-%d', time.gmtime(started))}, {machine_line()}, "
             f"in {(time.time() - started) / 60:.0f} minutes: `{command}`", "",
             "| part | what ran | failures | lost | crashes | 5xx | non-JSON errors | cached errors | cross hits | RSS |",
             "|------|----------|---------:|-----:|--------:|----:|----------------:|--------------:|-----------:|-----|"]
    notes = []
    for part in PARTS:
        if part in results:
            cells = row(part, results[part])
            lines.append(f"| {part} | " + " | ".join(str(c) for c in cells[:9]) + " |")
            notes.append(f"- **{part}**: {cells[9]}.")
    lines += [""] + notes + ["", END]
    before, rest = text.split(BEGIN, 1)
    _, after = rest.split(END, 1)
    with open(path, "w") as f:
        f.write(before + "\n".join(lines) + after)
    log(f"wrote the results into {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts: " + ", ".join(PARTS))
    parser.add_argument("--crash-trials", type=int, default=10)
    parser.add_argument("--fuzz-seconds", type=int, default=120)
    parser.add_argument("--soak-minutes", type=float, default=3)
    parser.add_argument("--isolation-prompts", type=int, default=1000)
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/reliability.md alone")
    args = parser.parse_args()
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    started = time.time()
    runs = {
        "crash": lambda: crash.run(trials=args.crash_trials),
        "faults": lambda: faults.run(),
        "fuzz": lambda: fuzz.run(seconds=args.fuzz_seconds),
        "soak": lambda: soak.run(minutes=args.soak_minutes),
        "isolation": lambda: isolation.run(prompts=args.isolation_prompts),
        "resources": lambda: resources.run(),
    }
    results = {}
    for part in parts:
        log(f"reliability: {part}")
        results[part] = runs[part]()
    print(json.dumps(results, indent=1))
    if not args.no_docs:
        write_docs(results, "make reliability" if len(sys.argv) == 1 else "python3 Benchmarks/reliability/suite.py "
                   + " ".join(sys.argv[1:]), started)
    failed = any(row(p, results[p])[1] not in (0, "0") for p in results)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

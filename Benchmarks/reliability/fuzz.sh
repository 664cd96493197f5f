#!/bin/sh
# Fuzzes the JSON parser and the proxy's request decoder (Tests/Fuzz/DejaFuzz.swift) with
# libFuzzer under AddressSanitizer for SECONDS (default 120), starting from the committed corpus.
# Usage: Benchmarks/reliability/fuzz.sh [SECONDS]; prints one line: runs, crashes.
#
# SwiftPM links every executable with `main` aliased to its own entry point, which would shadow
# libFuzzer's `main`; so the build's own link is replaced by the same command without the alias.
set -eu
cd "$(dirname "$0")/../.."
seconds=${1:-120}
scratch=.build-fuzz
flags="--product deja-fuzz --scratch-path $scratch -Xswiftc -sanitize=fuzzer,address -Xswiftc -DDEJA_FUZZ"
link=$(swift build $flags -v 2>&1 | grep -E "^[^ ]*swiftc .* -o [^ ]*/deja-fuzz " | tail -1 || true)
if [ -n "$link" ]; then
    eval "$(echo "$link" | sed -e 's/-Xlinker --defsym -Xlinker main=deja_fuzz_main//') -use-ld=lld" >/dev/null 2>&1
fi
binary=$scratch/debug/deja-fuzz
test -x "$binary" || { echo "fuzz: the fuzz target did not build (see swift build $flags)"; exit 1; }
corpus=$scratch/corpus
mkdir -p "$corpus" "$scratch/crashes"
cp Benchmarks/reliability/corpus/* "$corpus"/
log=$scratch/fuzz.log
status=0
"$binary" -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=10 -artifact_prefix="$scratch/crashes/" "$corpus" >"$log" 2>&1 || status=$?
runs=$(grep -o "Done [0-9]* runs" "$log" | grep -o "[0-9]*" || echo "?")
crashes=$(ls "$scratch/crashes" | wc -l)
echo "fuzz: $runs runs in $seconds s, $crashes crashes, corpus $(ls "$corpus" | wc -l) inputs, exit $status (log: $log)"

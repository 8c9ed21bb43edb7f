#!/usr/bin/env bash
# The rules engine at an operator's scale: `record --dry-run` of generated segment logs of
# 100 k, 1 M and 10 M pushes over 10 000 stream keys (scripts/gen-segment-log.py), wall time and
# peak RSS (/usr/bin/time -v), medians of N runs; then the timeline of 100 000 pushes over
# 1 000 stream keys (scripts/gen-timeline-log.py): SVG and HTML sizes. The timeline's render
# time in headless Chromium is measured by its test:
#   cargo test --release --test timeline a_hundred_thousand -- --nocapture
#
# Usage: scripts/bench-scale.sh [-n RUNS] [--work DIR] [--sizes "100000 1000000 10000000"]
#                               [--shuffle] [--no-build]
#   -n RUNS     runs per log (default 3)
#   --work DIR  where the logs go (default ${TMPDIR:-/tmp}/kls-rec-scale; the 10 M log is 750 MB)
#   --sizes S   push counts to measure
#   --shuffle   logs in random order (the external sort's case) instead of grouped by key
#   --no-build  use target/release/kls-rec as it is
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3
work=${TMPDIR:-/tmp}/kls-rec-scale
sizes="100000 1000000 10000000"
shuffle=
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    -n) runs=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    --shuffle) shuffle=--shuffle; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$runs" in ''|*[!0-9]*|0) echo "-n wants a positive integer" >&2; exit 2 ;; esac
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed" >&2; exit 1; }

[ "$build" -eq 0 ] || cargo build --release --quiet
kls=target/release/kls-rec
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
measure() { # LOG ARGS... -> "seconds rss_kib" of one run
  local t="$work/time.txt"
  /usr/bin/time -v -o "$t" "$kls" record "$@" >/dev/null
  awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]}
              /Maximum resident/ {r = $2} END {print s, r}' "$t"
}

echo "record --dry-run of a segment log over 10 000 stream keys ${shuffle:+(shuffled)}, medians of $runs"
printf '%12s %10s %10s %12s\n' pushes "median s" "RSS MiB" "µs per push"
for n in $sizes; do
  log="$work/log-$n.jsonl"
  python3 scripts/gen-segment-log.py --pushes "$n" $shuffle "$log"
  : >"$work/runs.txt"
  for _ in $(seq "$runs"); do measure "$log" --dry-run >>"$work/runs.txt"; done
  s=$(awk '{print $1}' "$work/runs.txt" | median)
  r=$(awk '{print $2}' "$work/runs.txt" | sort -n | tail -1)
  awk -v n="$n" -v s="$s" -v r="$r" 'BEGIN {printf "%12d %10.2f %10.1f %12.2f\n", n, s, r / 1024, s * 1e6 / n}'
  rm -f "$log"
done

echo
log="$work/timeline.jsonl"
python3 scripts/gen-timeline-log.py "$log"
for ext in svg html; do
  measure "$log" --dry-run --timeline "$work/t.$ext" >/dev/null
  printf 'timeline of 100 000 pushes over 1 000 stream keys: %s %d bytes\n' "$ext" "$(stat -c %s "$work/t.$ext")"
done

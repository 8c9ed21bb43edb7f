#!/usr/bin/env bash
# Benchmarks `kls-rec record` against ffmpeg's `-c copy` remux on a 10-minute and a 1-hour
# 720p25 H.264 High + AAC FLV (about 2.6 Mbit/s, so 1 h ≈ 1.1–1.2 GB), the way an operator
# would compare them: wall time and peak RSS (/usr/bin/time -v), medians of N alternating runs.
#
# ffmpeg does not hash its outputs, kls-rec does (the MP4/FLV callbacks carry the MD5 as ETag),
# so the ffmpeg side of the FLV and MP4 comparisons includes an `md5sum` of what it wrote.
# kls-rec's MP4 is always faststart, so ffmpeg's MP4s are written with `-movflags +faststart`.
# kls-rec syncs every file it commits; the others do not, so every timed command ends with a
# `sync` of the output file system: each figure is the time until the outputs are on the disk.
# Beside the figures, the floor: the same number of bytes written by `cp` of the input (three
# for three formats, one for one) and the `md5sum`s of the copies kls-rec reports ETags for.
#
# Usage: scripts/bench.sh [-n RUNS] [--work DIR | --tmpfs] [--keep] [--only 10m|1h] [--no-build]
#   -n RUNS     runs per command (default 5), alternating kls-rec / ffmpeg on the same input
#   --work DIR  where inputs and outputs go (default: target/bench, on the disk of the checkout)
#   --tmpfs     inputs and outputs on tmpfs (/dev/shm/kls-rec-bench), leaving the disk out
#   --keep      keep the generated inputs in DIR for the next run (they are reused when present)
#   --only X    benchmark only the 10-minute or the 1-hour input
#   --no-build  use target/release/kls-rec as it is
#   --scale     instead: the rules at an operator's scale (dry runs of 100 k, 1 M, 10 M-push
#               segment logs, the 100 000-push timeline); see scripts/bench-scale.sh --help
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

runs=5
work=
keep=0
only=
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    -n) runs=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --tmpfs) work=/dev/shm/kls-rec-bench; shift ;;
    --keep) keep=1; shift ;;
    --only) only=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --scale) shift; exec scripts/bench-scale.sh "$@" ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$runs" in ''|*[!0-9]*|0) echo "-n wants a positive integer" >&2; exit 2 ;; esac

# --- tools ---------------------------------------------------------------------------------
need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    echo "installing ${need[*]} with apt-get" >&2
    sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq && $sudo apt-get install -y -qq "${need[@]}"
  else
    echo "missing: ${need[*]} (install ffmpeg and GNU time)" >&2; exit 1
  fi
fi
command -v cargo >/dev/null || { echo "cargo is needed to build kls-rec" >&2; exit 1; }
case "$(ffmpeg -hide_banner -encoders 2>/dev/null)" in
  *libx264*) ;;
  *) echo "this ffmpeg lacks libx264, needed to generate the sample" >&2; exit 1 ;;
esac

# --- where -----------------------------------------------------------------------------------
# Inputs ≈ 1.4 GB; the largest run (three outputs of the 1-hour input) needs ≈ 4 GB more.
need_kb=$((6 * 1024 * 1024))
[ -n "$work" ] || work="$repo/target/bench"
mkdir -p "$work"
free_kb=$(df -Pk "$work" | awk 'NR==2 {print $4}')
if [ "$free_kb" -lt "$need_kb" ]; then
  echo "$work has $((free_kb / 1024)) MiB free, needs $((need_kb / 1024))" >&2; exit 1
fi
where="$work ($(df --output=fstype "$work" | tail -1), $(df --output=source "$work" | tail -1))"
out="$work/out"
cleanup() {
  rm -rf "$out"
  [ "$keep" -eq 1 ] || rm -rf "$work/inputs"
  rmdir "$work" 2>/dev/null || true
}
trap cleanup EXIT
echo "working in $where" >&2

# --- inputs ----------------------------------------------------------------------------------
inputs="$work/inputs"
mkdir -p "$inputs"
ff=(ffmpeg -hide_banner -nostdin -loglevel error -y)
sample="$inputs/sample.flv"
if [ ! -s "$sample" ]; then
  echo "generating a 60 s 720p25 H.264 High + AAC sample (takes a minute or two)" >&2
  # Temporal noise keeps x264 busy enough to reach the bit rate, as camera footage would.
  "${ff[@]}" -f lavfi -i "testsrc2=size=1280x720:rate=25,noise=alls=12:allf=t" \
    -f lavfi -i "sine=frequency=440:sample_rate=44100" -t 60 \
    -c:v libx264 -preset veryfast -profile:v high -bf 2 -pix_fmt yuv420p -g 50 -keyint_min 50 \
    -sc_threshold 0 -b:v 2500k -maxrate 2600k -bufsize 5000k \
    -c:a aac -b:a 128k -ar 44100 -ac 2 -f flv "$sample.part"
  mv "$sample.part" "$sample"
fi
concat() { # concat N OUT: the sample N times, timestamps continuing
  local list="$inputs/list-$1.txt"
  : >"$list"
  for _ in $(seq "$1"); do echo "file '$sample'" >>"$list"; done
  "${ff[@]}" -f concat -safe 0 -i "$list" -map 0 -c copy -f flv "$2.part"
  mv "$2.part" "$2"
}
# The Unix time in the names is the wall clock kls-rec reads (nginx-rtmp record_unique style).
in10="$inputs/bench10m-1764072000.flv"
in60="$inputs/bench1h-1764072000.flv"
[ -s "$in10" ] || [ "$only" = 1h ] || { echo "building the 10-minute input" >&2; concat 10 "$in10"; }
[ -s "$in60" ] || [ "$only" = 10m ] || { echo "building the 1-hour input" >&2; concat 60 "$in60"; }

# --- kls-rec ----------------------------------------------------------------------------------
if [ "$build" -eq 1 ]; then
  echo "building kls-rec (release)" >&2
  cargo build --release --quiet
fi
kls="$repo/target/release/kls-rec"
[ -x "$kls" ] || { echo "no $kls" >&2; exit 1; }

# --- measuring -------------------------------------------------------------------------------
res="$work/results.txt" # label input seconds rss_kib, one line per run
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$res"
# timed LABEL INPUT CMD...: one run in a fresh output directory, then removes the output.
timed() {
  local label=$1 input=$2
  shift 2
  rm -rf "$out"
  mkdir -p "$out"
  sync -f "$work"
  local t0 t1 tv="$work/time.txt"
  t0=$(date +%s%N)
  /usr/bin/time -v -o "$tv" "$@" >/dev/null
  sync -f "$work"
  t1=$(date +%s%N)
  local rss
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tv")
  echo "$label $(basename "$input") $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}') $rss" >>"$res"
  rm -rf "$out"
}

ff_all() { # IN: the three outputs in one process, then the MD5s kls-rec would compute
  "${ff[@]}" -i "$1" \
    -map 0 -c copy -f flv "$out/x.flv" \
    -map 0 -c copy -movflags +faststart -f mp4 "$out/x.mp4" \
    -map 0 -c copy -f hls -hls_time 10 -hls_list_size 0 -hls_playlist_type vod \
    -hls_segment_filename "$out/x-%d.ts" "$out/x.m3u8"
  md5sum "$out/x.mp4" "$out/x.flv"
}
ff_mp4() { "${ff[@]}" -i "$1" -map 0 -c copy -movflags +faststart -f mp4 "$out/x.mp4" && md5sum "$out/x.mp4"; }
ff_flv() { "${ff[@]}" -i "$1" -map 0 -c copy -f flv "$out/x.flv" && md5sum "$out/x.flv"; }
ff_hls() {
  "${ff[@]}" -i "$1" -map 0 -c copy -f hls -hls_time 10 -hls_list_size 0 -hls_playlist_type vod \
    -hls_segment_filename "$out/x-%d.ts" "$out/x.m3u8"
}
kls_rec() { "$kls" record --quiet -o "$out" --formats "$1" "$2"; } # callbacks: stdout → /dev/null
floor_all() { # IN: three copies, then the MD5s of two (the MP4's and the FLV's ETags)
  cp "$1" "$out/a.flv" && cp "$1" "$out/b.flv" && cp "$1" "$out/c.flv"
  md5sum "$out/a.flv" "$out/b.flv"
}
floor_one() { cp "$1" "$out/a.flv" && md5sum "$out/a.flv"; } # IN: one copy and its MD5
export -f ff_all ff_mp4 ff_flv ff_hls kls_rec floor_all floor_one
export kls out
ff_env="$(declare -p ff)"
export ff_env

# pair LABEL_A LABEL_B INPUT 'CMD_A' 'CMD_B': N alternating runs of each, in A B, B A, A B, …
# order: the second of two heavy runs back to back is often the slower (page cache, writeback,
# CPU frequency), so neither command always takes that place.
pair() {
  local a=$1 b=$2 input=$3 ca=$4 cb=$5
  for i in $(seq "$runs"); do
    echo "  $input: run $i/$runs of $a | $b" >&2
    if [ $((i % 2)) = 1 ]; then
      timed "$a" "$input" bash -c "eval \"\$ff_env\"; $ca" _ "$input"
      timed "$b" "$input" bash -c "eval \"\$ff_env\"; $cb" _ "$input"
    else
      timed "$b" "$input" bash -c "eval \"\$ff_env\"; $cb" _ "$input"
      timed "$a" "$input" bash -c "eval \"\$ff_env\"; $ca" _ "$input"
    fi
  done
}

bench_input() {
  local input=$1
  pair kls-all ff-all "$input" 'kls_rec hls,mp4,flv "$1"' 'ff_all "$1"'
  pair kls-mp4 ff-mp4 "$input" 'kls_rec mp4 "$1"' 'ff_mp4 "$1"'
  pair kls-hls ff-hls "$input" 'kls_rec hls "$1"' 'ff_hls "$1"'
  pair kls-flv ff-flv "$input" 'kls_rec flv "$1"' 'ff_flv "$1"'
  for i in $(seq "$runs"); do
    echo "  $input: run $i/$runs of the floor" >&2
    timed floor-all "$input" bash -c 'floor_all "$1"' _ "$input"
    timed floor-one "$input" bash -c 'floor_one "$1"' _ "$input"
    timed cp "$input" cp "$input" "$out/x.flv"
  done
}

[ "$only" = 1h ] || bench_input "$in10"
[ "$only" = 10m ] || bench_input "$in60"

# --- report ----------------------------------------------------------------------------------
median() { sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
stat_of() { # LABEL INPUT FIELD(3 = seconds, 4 = RSS KiB) -> median; RSS: maximum over runs
  if [ "$3" = 4 ]; then
    awk -v l="$1" -v i="$2" '$1 == l && $2 == i {print $4}' "$res" | sort -n | tail -1
  else
    awk -v l="$1" -v i="$2" '$1 == l && $2 == i {print $3}' "$res" | median
  fi
}

describe() {
  local f=$1
  echo "$(basename "$f"): $(du -m "$f" | cut -f1) MiB, $(ffprobe -v error -show_entries format=duration,bit_rate -of csv=p=0 "$f")" \
    "(duration s, bit rate)"
}

echo
echo "kls-rec benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$repo" rev-parse --short HEAD)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -h | awk '/Mem:/ {print $2 " RAM"}'), load $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "outputs: $where; $runs runs per command, medians, each up to its outputs synced; peak RSS is the largest of the runs"
for input in "$in10" "$in60"; do
  [ -s "$input" ] || continue
  name=$(basename "$input")
  grep -q " $name " "$res" || continue
  echo
  describe "$input"
  printf '%-44s %9s %9s %9s %9s\n' command "median s" "× ffmpeg" "× floor" "RSS MiB"
  # kls-rec, its ffmpeg counterpart, its floor (three copies + 2 MD5s, one copy + MD5, one copy)
  for group in "kls-all ff-all floor-all" "kls-mp4 ff-mp4 floor-one" "kls-flv ff-flv floor-one" \
    "kls-hls ff-hls cp"; do
    set -- $group
    tf=$(stat_of "$2" "$name" 3)
    tl=$(stat_of "$3" "$name" 3)
    for l in "$1" "$2" "$3"; do
      t=$(stat_of "$l" "$name" 3)
      rss=$(stat_of "$l" "$name" 4)
      ratio() { awk -v a="$t" -v b="$1" 'BEGIN {printf "%.2f", a / b}'; }
      case $l in
        kls-all) what="kls-rec record --formats hls,mp4,flv" ;;
        ff-all) what="ffmpeg → flv+mp4(faststart)+hls, md5sum" ;;
        kls-mp4) what="kls-rec record --formats mp4" ;;
        ff-mp4) what="ffmpeg → mp4 +faststart, md5sum" ;;
        kls-hls) what="kls-rec record --formats hls" ;;
        ff-hls) what="ffmpeg → hls (10 s, vod)" ;;
        kls-flv) what="kls-rec record --formats flv" ;;
        ff-flv) what="ffmpeg → flv, md5sum" ;;
        floor-all) what="floor: 3 × cp, md5sum of 2" ;;
        floor-one) what="floor: cp, md5sum" ;;
        cp) what="floor: cp" ;;
      esac
      printf '%-44s %9.3f %9s %9s %9.1f\n' "$what" "$t" "$(ratio "$tf")" "$(ratio "$tl")" \
        "$(awk -v k="$rss" 'BEGIN {print k / 1024}')"
    done
  done
  echo "targets (1 h): all ≤ 0.50 × ffmpeg and ≤ 1.5 × floor, mp4 ≤ 0.50 ×, flv ≤ 0.60 ×, peak RSS ≤ 32 MiB"
done
if grep -q " $(basename "$in10") " "$res" && grep -q " $(basename "$in60") " "$res"; then
  echo
  echo "peak RSS growth 10 min → 1 h (MiB):"
  for l in kls-all kls-mp4 kls-hls kls-flv; do
    a=$(stat_of "$l" "$(basename "$in10")" 4)
    b=$(stat_of "$l" "$(basename "$in60")" 4)
    printf '  %-8s %7.1f → %7.1f  (+%.1f)\n' "$l" "$(awk -v k="$a" 'BEGIN {print k / 1024}')" \
      "$(awk -v k="$b" 'BEGIN {print k / 1024}')" "$(awk -v a="$a" -v b="$b" 'BEGIN {print (b - a) / 1024}')"
  done
fi
cp "$res" "${TMPDIR:-/tmp}/kls-rec-bench-results.txt"
echo "(raw runs: ${TMPDIR:-/tmp}/kls-rec-bench-results.txt)"

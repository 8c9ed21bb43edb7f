#!/usr/bin/env bash
# Makes testdata/same-second/: two pushes of one stream, each 0.3 s long, the second starting
# 0.6 s after the first, at another picture size (an encoder restarted with new settings). The
# size change is a codec change, so the second push opens a file of its own, which starts and
# ends in the same second as the first: both would be named cam-1764072000-1764072000.
#
# The wall clocks are in the names (Unix seconds, then Unix milliseconds). H.264 (single-
# threaded x264) + AAC, bit-exact, as scripts/gen-testdata.sh makes the other fixtures.
#
# Usage: scripts/gen-same-second.sh [DIR]   (default testdata/same-second)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-testdata/same-second}
mkdir -p "$out"
push() { # SIZE OUT
  ffmpeg -hide_banner -nostdin -loglevel error -y \
    -f lavfi -i "testsrc2=size=$1:rate=25" -f lavfi -i "sine=frequency=440:sample_rate=44100" \
    -t 0.3 -c:v libx264 -threads 1 -preset veryfast -g 25 -pix_fmt yuv420p -bf 0 \
    -c:a aac -b:a 64k -ac 1 -flags:v +bitexact -flags:a +bitexact \
    -f flv -flvflags no_duration_filesize -fflags +bitexact -map_metadata -1 "$2"
}
push 160x120 "$out/cam-1764072000.flv"
push 176x144 "$out/cam-1764072000600.flv"

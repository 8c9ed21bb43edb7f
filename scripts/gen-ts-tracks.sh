#!/usr/bin/env bash
# Regenerates testdata/ts/tracks/: MPEG-TS programs with more than one video stream.
#
#   twovideo-1764072000.ts     ffmpeg's MPEG-TS muxer, three streams in this PMT order: H.264
#                              128x72 (PID 0x100), AAC (0x101), H.264 96x64 (0x102)
#   silentfirst-1764072000.ts  the same file without a single packet of PID 0x100: the PMT
#                              still lists it, but only the second video stream carries frames
#
# Needs ffmpeg (5.1, libx264) and python3. ffmpeg's output is reproducible with these flags.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-testdata/ts/tracks}
mkdir -p "$out"

ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=128x72:rate=25" \
  -f lavfi -i "sine=frequency=440:sample_rate=44100" \
  -f lavfi -i "testsrc=size=96x64:rate=25" \
  -t 1.6 -map 0:v -map 1:a -map 2:v \
  -c:v libx264 -threads 1 -preset veryfast -g 25 -bf 2 -b:v 40k \
  -c:a aac -b:a 32k -ac 1 \
  -fflags +bitexact -flags:v +bitexact -map_metadata -1 \
  -f mpegts "$out/twovideo-1764072000.ts"

python3 - "$out/twovideo-1764072000.ts" "$out/silentfirst-1764072000.ts" <<'PY'
import sys
src = open(sys.argv[1], "rb").read()
assert len(src) % 188 == 0 and src[0] == 0x47
keep = bytearray()
for at in range(0, len(src), 188):
    packet = src[at : at + 188]
    if ((packet[1] & 0x1F) << 8 | packet[2]) != 0x100:
        keep += packet
open(sys.argv[2], "wb").write(keep)
PY
ls -l "$out"

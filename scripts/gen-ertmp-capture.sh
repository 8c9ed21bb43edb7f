#!/usr/bin/env bash
# Regenerates testdata/ertmp/ertmp.pcap: each Enhanced RTMP fixture (testdata/ertmp/*-1764072000.flv
# but the two-push pair) published by FFmpeg 8 (PyAV) to a minimal RTMP server on 127.0.0.1
# (scripts/gen-rtmp-dump.py, which also writes the raw dumps in testdata/ertmp/rtmp/), one push
# after another, captured on loopback. The capture's times are shifted so that it begins at
# 1764072000 (2025-11-25 12:00:00 UTC), the fixtures' start, so its recordings carry the names
# the fixtures' own recordings carry.
#
#   scripts/gen-ertmp-capture.sh [PYAV_PYTHON [OUT.pcap NAME...]]
#
# With OUT.pcap and NAMEs, only those fixtures are pushed, into a capture of their own (the
# committed ertmp.pcap stays as it is), e.g. testdata/ertmp/h264x2-aac.pcap of h264x2-aac.
#
# Needs tcpdump, python3 and root (or CAP_NET_RAW) to capture.
set -euo pipefail
cd "$(dirname "$0")/.."
pyav=${1:-/opt/pyav/bin/python}
port=19351
out=testdata/ertmp
pcap=${2:-$out/ertmp.pcap}
names=("${@:3}")
[ ${#names[@]} -gt 0 ] || names=(av1-opus vp9-flac hevc-ac3 h264-eac3 h264-2aac av1-aac)
tmp=$(mktemp -d)
trap 'kill "${dump:-}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir -p "$out/rtmp"

# Only segments with a payload, SYN, FIN or RST: reassembly needs no pure ACKs.
filter="tcp port $port and (tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0 or (ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2)) > 0)"
tcpdump -i lo -U -s 262144 -w "$tmp/ertmp.pcap" "$filter" 2>"$tmp/tcpdump.log" &
dump=$!
sleep 2
for name in "${names[@]}"; do
  RTMP_PORT=$port python3 scripts/gen-rtmp-dump.py --pyav "$pyav" \
    "$out/$name-1764072000.flv" "$out/rtmp/$name.rtmp" "$name"
done
sleep 1
kill -INT "$dump"
wait "$dump" || true
dump=

python3 scripts/pcap-shift.py "$tmp/ertmp.pcap" "$pcap"
ls -l "$pcap" "$out/rtmp"

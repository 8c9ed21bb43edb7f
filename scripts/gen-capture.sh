#!/usr/bin/env bash
# Regenerates the committed packet capture in testdata/capture/: one small sample pushed twice
# over RTMP to a server on 127.0.0.1, with a ~5 s reconnect between, captured on loopback.
#
#   pushed.flv   the sample both pushes sent (`-c copy`: what the capture must give back)
#   cam.pcap     tcpdump's capture (Ethernet link type, microsecond times)
#
# The tests read the same packets as pcapng too: they build it from cam.pcap at test time
# (`testutil::pcapng_of`: one interface, nanosecond times, `if_tsresol` 9), nothing committed.
#
# Needs ffmpeg (5.1) and tcpdump, and root (or CAP_NET_RAW) to capture. The capture is
# not byte-reproducible (handshake bytes, ports and times change), only its content is.
set -euo pipefail
cd "$(dirname "$0")/.."
out=testdata/capture
port=19350
mkdir -p "$out"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
ff=(ffmpeg -hide_banner -loglevel error -y)

# ~10 s, 160x120 H.264 with B-frames at 15 fps + AAC at 22.05 kHz mono, about 50 kbit/s: few
# messages and bytes keep the capture small.
"${ff[@]}" -f lavfi -i "testsrc2=size=160x120:rate=15" -f lavfi -i "sine=frequency=520:sample_rate=22050" \
  -t 10 -c:v libx264 -threads 1 -preset veryfast -pix_fmt yuv420p -g 30 -keyint_min 30 -sc_threshold 0 \
  -profile:v high -bf 2 -b:v 30k -maxrate 40k -bufsize 80k -c:a aac -b:a 16k -ar 22050 -ac 1 \
  -f flv -flvflags no_duration_filesize -fflags +bitexact -map_metadata -1 "$out/pushed.flv"

# Pure ACKs are left out (only segments with a payload, SYN, FIN or RST), to keep the file small;
# reassembly does not need them.
filter="tcp port $port and (tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0 or (ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2)) > 0)"
tcpdump -i lo -U -s 262144 -w "$tmp/cam.pcap" "$filter" 2>"$tmp/tcpdump.log" &
pids+=($!)
sleep 2

push() {
  # The listening ffmpeg is the simplest RTMP server: it takes one publish and exits.
  ffmpeg -hide_banner -loglevel error -y -listen 1 -i "rtmp://127.0.0.1:$port/live/cam" -c copy \
    -f flv "$tmp/received-$1.flv" &
  local server=$!
  sleep 1
  "${ff[@]}" -re -i "$out/pushed.flv" -c copy -f flv "rtmp://127.0.0.1:$port/live/cam?vdoid=42"
  wait "$server" || true  # the listening ffmpeg reports the client's disconnect as an I/O error
  ffprobe -v error -count_packets -show_entries stream=codec_type,nb_read_packets -of csv=p=0 \
    "$tmp/received-$1.flv" >&2
}
push 1
sleep 5
push 2
sleep 2
kill -INT "${pids[0]}"
wait "${pids[0]}" || true
pids=()
cp "$tmp/cam.pcap" "$out/cam.pcap"

ls -l "$out"

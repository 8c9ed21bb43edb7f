#!/usr/bin/env bash
# Regenerates testdata/flash/: FLV files of the Flash-era codecs only FLV carries (Sorenson
# H.263, Screen video, Nellymoser, Speex, ADPCM, linear PCM, G.711), as Flash Player and Flash
# Media Server sent them, with ffmpeg (Debian's ffmpeg 5.1 with libspeex); a raw RTMP dump of
# one of them (scripts/gen-rtmp-dump.py) and a capture on loopback of that publish. Each file is
# a few seconds and under 100 KB.
#
# Needs ffmpeg (5.1, with libspeex), tcpdump, python3 and root (or CAP_NET_RAW) to capture. The
# FLV files are byte-reproducible (bitexact); the dump and the capture only in content
# (handshake bytes, ports and times change).
set -euo pipefail
cd "$(dirname "$0")/.."
out=testdata/flash
port=19352
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'kill "${dump:-}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
ff=(ffmpeg -hide_banner -loglevel error -y)
flv=(-f flv -flvflags no_duration_filesize -fflags +bitexact -map_metadata -1)
src=(-f lavfi -i "testsrc2=size=176x144:rate=15")
tone=(-f lavfi -i "sine=frequency=440:sample_rate=44100")
x264=(-c:v libx264 -threads 1 -preset veryfast -pix_fmt yuv420p -g 30 -keyint_min 30 -sc_threshold 0 -bf 0)

# Sorenson Spark (flv1) with Nellymoser 22 kHz mono (SoundFormat 6): a Flash Player webcam push,
# 2 s in two GOPs (Sorenson frames are large: the files stay small).
"${ff[@]}" "${src[@]}" "${tone[@]}" -t 2 -c:v flv -g 15 -b:v 60k -c:a nellymoser -ar 22050 -ac 1 \
  "${flv[@]}" "$out/spark-nelly-1764072000.flv"
# Sorenson Spark only, no audio.
"${ff[@]}" "${src[@]}" -t 2 -c:v flv -g 15 -b:v 60k "${flv[@]}" "$out/spark-1764072000.flv"
# H.264 with Nellymoser 8 kHz (SoundFormat 5).
"${ff[@]}" "${src[@]}" "${tone[@]}" -t 4 "${x264[@]}" -b:v 60k -c:a nellymoser -ar 8000 -ac 1 \
  "${flv[@]}" "$out/h264-nelly-1764072000.flv"
# Speex 16 kHz mono (SoundFormat 11), as a Flash Player microphone sends it, with Sorenson Spark.
"${ff[@]}" "${src[@]}" "${tone[@]}" -t 2 -c:v flv -g 15 -b:v 60k -c:a libspeex -ar 16000 -ac 1 \
  "${flv[@]}" "$out/spark-speex-1764072000.flv"
# Speex audio only.
"${ff[@]}" "${tone[@]}" -t 4 -c:a libspeex -ar 16000 -ac 1 "${flv[@]}" "$out/speex-1764072000.flv"
# Screen video (CodecID 3) with ADPCM (SoundFormat 1).
"${ff[@]}" -f lavfi -i "testsrc2=size=96x64:rate=5" "${tone[@]}" -t 3 -c:v flashsv -g 10 \
  -c:a adpcm_swf -ar 11025 -ac 1 "${flv[@]}" "$out/screen-adpcm-1764072000.flv"
# Linear PCM, little endian (SoundFormat 3), 16-bit mono 11 kHz, audio only.
"${ff[@]}" "${tone[@]}" -t 2 -c:a pcm_s16le -ar 11025 -ac 1 "${flv[@]}" "$out/pcm-1764072000.flv"
# G.711 A-law and mu-law (SoundFormats 7 and 8), 8 kHz mono.
"${ff[@]}" "${tone[@]}" -t 2 -c:a pcm_alaw -ar 8000 -ac 1 "${flv[@]}" "$out/alaw-1764072000.flv"
"${ff[@]}" "${tone[@]}" -t 2 -c:a pcm_mulaw -ar 8000 -ac 1 "${flv[@]}" "$out/mulaw-1764072000.flv"

# The Sorenson + Nellymoser push as a raw RTMP dump of its publish, and that publish captured on
# loopback: only segments with a payload, SYN, FIN or RST (reassembly needs no pure ACKs).
mkdir -p "$out/rtmp"
filter="tcp port $port and (tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0 or (ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2)) > 0)"
tcpdump -i lo -U -s 262144 -w "$tmp/flash.pcap" "$filter" 2>"$tmp/tcpdump.log" &
dump=$!
sleep 2
RTMP_PORT=$port scripts/gen-rtmp-dump.py "$out/spark-nelly-1764072000.flv" \
  "$out/rtmp/spark-nelly-1764072000.rtmp" spark-nelly
sleep 1
kill -INT "$dump"
wait "$dump" || true
dump=

# The capture's times shifted to begin at the fixtures' start.
python3 scripts/pcap-shift.py "$tmp/flash.pcap" "$out/flash.pcap"
ls -l "$out" "$out/rtmp"

#!/usr/bin/env bash
# Regenerates testdata/play/: what viewers received, captured at the player side.
#
#   published.flv       the sample every connection carries (`-c copy`: what must come back)
#   edge.pcap           one capture on loopback holding four TCP connections:
#                         1. an RTMP publish of live/cam (ffmpeg pushing to a listening ffmpeg),
#                         2. an RTMP play of live/show (a listening ffmpeg serving the sample,
#                            an ffmpeg client playing it),
#                         3. an HTTP-FLV download of /live/hot.flv (a small python server,
#                            chunked transfer-encoding, keep-alive: a first request for
#                            /crossdomain.xml on the same connection), fetched by curl,
#                         4. an unrelated TCP connection (a few text lines).
#   hot.curl            curl -i's saved response of connection 3 (headers, chunked body)
#   show.rtmp    the server-to-client bytes of connection 2 (S0/S1/S2 first)
#   play-client.pcap    connection 2 with only its client-to-server packets
#
# Needs ffmpeg (5.1), curl, tcpdump and python3, and root (or CAP_NET_RAW) to capture. The
# capture is not byte-reproducible (handshake bytes, ports and times change), only its content.
set -euo pipefail
cd "$(dirname "$0")/.."
out=testdata/play
publish_port=19371
play_port=19372
http_port=19373
other_port=19374
mkdir -p "$out"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
ff=(ffmpeg -hide_banner -loglevel error -y)

# ~4 s, 160x120 H.264 with B-frames at 15 fps + AAC at 22.05 kHz mono: small on purpose.
"${ff[@]}" -f lavfi -i "testsrc2=size=160x120:rate=15" -f lavfi -i "sine=frequency=520:sample_rate=22050" \
  -t 4 -c:v libx264 -threads 1 -preset veryfast -pix_fmt yuv420p -g 30 -keyint_min 30 -sc_threshold 0 \
  -profile:v high -bf 2 -b:v 30k -maxrate 40k -bufsize 80k -c:a aac -b:a 16k -ar 22050 -ac 1 \
  -f flv -flvflags no_duration_filesize -fflags +bitexact -map_metadata -1 "$out/published.flv"

# Pure ACKs are left out (only segments with a payload, SYN, FIN or RST).
payload="(tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0 or (ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2)) > 0)"
ports="(tcp port $publish_port or tcp port $play_port or tcp port $http_port or tcp port $other_port)"
tcpdump -i lo -U -s 262144 -w "$tmp/edge.pcap" "$ports and $payload" 2>"$tmp/tcpdump.log" &
pids+=($!)
sleep 2

# 1. A publish: the listening ffmpeg takes one publish and exits.
"${ff[@]}" -listen 1 -i "rtmp://127.0.0.1:$publish_port/live/cam" -c copy -f flv "$tmp/received.flv" &
server=$!
sleep 1
"${ff[@]}" -re -i "$out/published.flv" -c copy -f flv "rtmp://127.0.0.1:$publish_port/live/cam"
wait "$server" || true

# 2. A play: the listening ffmpeg serves the sample to one player.
"${ff[@]}" -re -i "$out/published.flv" -c copy -f flv -listen 1 "rtmp://127.0.0.1:$play_port/live/show" &
server=$!
sleep 1
"${ff[@]}" -i "rtmp://127.0.0.1:$play_port/live/show" -c copy -f flv "$tmp/played.flv" || true
wait "$server" || true

# 3. HTTP-FLV: chunks of the sample's bytes as they would leave an edge (HTTP/1.1, chunked).
python3 - "$out/published.flv" "$http_port" <<'PY' &
import http.server, socketserver, sys
flv = open(sys.argv[1], "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path.startswith("/crossdomain.xml"):
            body = b'<?xml version="1.0"?><cross-domain-policy/>\n'
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "video/x-flv")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        step = 4093  # odd chunk sizes, so chunk boundaries fall inside FLV tags
        for i in range(0, len(flv), step):
            part = flv[i : i + step]
            self.wfile.write(b"%x\r\n" % len(part) + part + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True
    def log_message(self, *a):
        pass
socketserver.TCPServer.allow_reuse_address = True
with socketserver.TCPServer(("127.0.0.1", int(sys.argv[2])), H) as s:
    s.handle_request()
PY
server=$!
sleep 1
curl -sS -i -o "$tmp/crossdomain.txt" "http://127.0.0.1:$http_port/crossdomain.xml" \
  -o "$out/hot.curl" "http://127.0.0.1:$http_port/live/hot.flv?token=abc"
wait "$server" || true

# 4. Unrelated TCP: a few lines of text.
python3 - "$other_port" <<'PY' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
c, _ = s.accept(); c.recv(100); c.sendall(b"+OK hello\r\n"); c.close()
PY
server=$!
sleep 1
python3 -c "
import socket, sys
s = socket.create_connection(('127.0.0.1', $other_port)); s.sendall(b'PING\r\n'); s.recv(100); s.close()"
wait "$server" || true

sleep 2
kill -INT "${pids[0]}"
wait "${pids[0]}" || true
pids=()
cp "$tmp/edge.pcap" "$out/edge.pcap"
tcpdump -r "$out/edge.pcap" -w "$out/play-client.pcap" "tcp dst port $play_port" 2>/dev/null

# The server-to-client bytes of the play (loopback: no loss; segments in sequence order).
python3 - "$out/edge.pcap" "$play_port" "$out/show.rtmp" <<'PY'
import struct, sys
src = open(sys.argv[1], "rb").read()
port = int(sys.argv[2])
assert struct.unpack_from("<I", src, 0)[0] == 0xA1B2C3D4
linktype = struct.unpack_from("<I", src, 20)[0]
assert linktype == 1, "expected Ethernet frames on lo"
segs = {}
pos = 24
while pos + 16 <= len(src):
    _, _, caplen, _ = struct.unpack_from("<IIII", src, pos)
    frame = src[pos + 16 : pos + 16 + caplen]
    pos += 16 + caplen
    ip = frame[14:]
    if ip[0] >> 4 != 4 or ip[9] != 6:
        continue
    ihl = (ip[0] & 15) * 4
    total = struct.unpack_from(">H", ip, 2)[0]
    tcp = ip[ihl:total]
    sport, dport, seq = struct.unpack_from(">HHI", tcp, 0)
    data = tcp[(tcp[12] >> 4) * 4 :]
    if sport == port and data:
        segs.setdefault(seq, data)
out = b"".join(segs[s] for s in sorted(segs))
open(sys.argv[3], "wb").write(out)
PY
ffprobe -v error -count_packets -show_entries stream=codec_type,nb_read_packets -of csv=p=0 \
  "$tmp/played.flv" >&2
ls -l "$out"

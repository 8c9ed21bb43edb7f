#!/usr/bin/env python3
"""Records a raw RTMP dump (the client-to-server bytes of one connection, handshake included) of
ffmpeg publishing an FLV file with `-c copy`, so the media bytes are the FLV's.

A minimal RTMP server on 127.0.0.1 answers just enough for ffmpeg to publish: the handshake
(S0/S1/S2), `_result` for `connect` and `createStream`, `onStatus NetStream.Publish.Start`.

    scripts/gen-rtmp-dump.py [--pyav PYTHON] INPUT.flv OUTPUT.rtmp [PUBLISH_NAME]

With --pyav the publisher is FFmpeg 8 through PyAV's interpreter PYTHON (stream copy into its
FLV muxer over rtmp://), which sends Enhanced RTMP v1/v2 (FourCC video and audio, multitrack):
the Enhanced RTMP dumps in testdata/ertmp/rtmp/ were made that way, e.g.

    scripts/gen-rtmp-dump.py --pyav /opt/pyav/bin/python \
        testdata/ertmp/av1-opus-1764072000.flv testdata/ertmp/rtmp/av1-opus.rtmp av1-opus

The first committed fixture was made with (ffmpeg 5.1):

    scripts/gen-rtmp-dump.py testdata/push/show-1764075600.flv testdata/rtmp/show-1764075600.rtmp
"""
import os
import socket
import struct
import subprocess
import sys
import threading


def amf_str(s):
    b = s.encode()
    return b"\x02" + struct.pack(">H", len(b)) + b


def amf_num(n):
    return b"\x00" + struct.pack(">d", n)


def amf_obj(pairs):
    out = b"\x03"
    for k, v in pairs:
        kb = k.encode()
        out += struct.pack(">H", len(kb)) + kb + v
    return out + b"\x00\x00\x09"


def chunks(csid, type_id, stream_id, body, chunk_size=128):
    """One message as chunks: a type 0 header, then type 3 continuations."""
    out = bytes([csid]) + b"\x00\x00\x00" + struct.pack(">I", len(body))[1:] + bytes([type_id])
    out += struct.pack("<I", stream_id) + body[:chunk_size]
    for i in range(chunk_size, len(body), chunk_size):
        out += bytes([0xC0 | csid]) + body[i : i + chunk_size]
    return out


def txid_after(data, name):
    """The transaction id (AMF0 number) after a command name in raw client bytes."""
    key = amf_str(name) + b"\x00"
    i = data.find(key)
    if i < 0 or len(data) < i + len(key) + 8:
        return None
    return struct.unpack(">d", data[i + len(key) : i + len(key) + 8])[0]


def serve(listener, dump_path):
    conn, _ = listener.accept()
    received = bytearray()
    answered = set()

    def need(n):
        while len(received) < n:
            b = conn.recv(65536)
            if not b:
                return False
            received.extend(b)
        return True

    need(1 + 1536)
    s1 = bytes(1536)
    conn.sendall(b"\x03" + s1 + bytes(received[1 : 1 + 1536]))
    need(1 + 1536 + 1536)
    while True:
        tx = txid_after(received, "connect")
        if tx is not None and "connect" not in answered:
            answered.add("connect")
            conn.sendall(chunks(2, 5, 0, struct.pack(">I", 2500000)))
            conn.sendall(chunks(2, 6, 0, struct.pack(">IB", 2500000, 2)))
            body = amf_str("_result") + amf_num(tx)
            body += amf_obj([("fmsVer", amf_str("FMS/3,0,1,123")), ("capabilities", amf_num(31))])
            body += amf_obj(
                [
                    ("level", amf_str("status")),
                    ("code", amf_str("NetConnection.Connect.Success")),
                    ("description", amf_str("Connection succeeded.")),
                    ("objectEncoding", amf_num(0)),
                ]
            )
            conn.sendall(chunks(3, 20, 0, body))
        tx = txid_after(received, "createStream")
        if tx is not None and "createStream" not in answered:
            answered.add("createStream")
            body = amf_str("_result") + amf_num(tx) + b"\x05" + amf_num(1)
            conn.sendall(chunks(3, 20, 0, body))
        if txid_after(received, "publish") is not None and "publish" not in answered:
            answered.add("publish")
            body = amf_str("onStatus") + amf_num(0) + b"\x05"
            body += amf_obj(
                [
                    ("level", amf_str("status")),
                    ("code", amf_str("NetStream.Publish.Start")),
                    ("description", amf_str("Started publishing.")),
                ]
            )
            conn.sendall(chunks(5, 20, 1, body))
        b = conn.recv(65536)
        if not b:
            break
        received.extend(b)
    conn.close()
    with open(dump_path, "wb") as f:
        f.write(received)


# Stream copy with FFmpeg 8's FLV muxer, run under PyAV's interpreter.
PYAV_PUBLISH = """
import sys, av
src, url = sys.argv[1], sys.argv[2]
i = av.open(src)
o = av.open(url, "w", format="flv")
out = {s.index: o.add_stream_from_template(s, opaque=True) for s in i.streams}
for s in out.values():
    # FFmpeg rebuilds vpcC from the stream's colour fields, which its FLV reader leaves at
    # RGB; the encoder that wrote the FLV left them unspecified (2), and so must the publish.
    if s.type == "video" and s.codec_context.name == "vp9":
        s.codec_context.colorspace = 2
for p in i.demux():
    if p.dts is None:
        continue
    p.stream = out[p.stream.index]
    o.mux(p)
o.close()
"""


def main():
    args = sys.argv[1:]
    pyav = None
    if args[:1] == ["--pyav"]:
        pyav, args = args[1], args[2:]
    src, dst = args[0], args[1]
    name = args[2] if len(args) > 2 else "show?vdoid=demo42"
    listener = socket.socket()
    # RTMP_PORT fixes the port, for a capture filter (scripts/gen-ertmp-capture.sh).
    listener.bind(("127.0.0.1", int(os.environ.get("RTMP_PORT", "0"))))
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.listen(1)
    port = listener.getsockname()[1]
    t = threading.Thread(target=serve, args=(listener, dst))
    t.start()
    url = f"rtmp://127.0.0.1:{port}/live/{name}"
    if pyav:
        subprocess.run([pyav, "-c", PYAV_PUBLISH, src, url], check=True)
    else:
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", src, "-c", "copy",
             "-f", "flv", url],
            check=True,
        )
    t.join()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes an FLV from an HEVC (or H.264) + AAC MP4, taking every packet's bytes and times from
ffprobe (-show_packets -show_data), so no FLV muxer is involved: ffmpeg 5.1 cannot write HEVC
into FLV. The HEVC signalling is chosen: legacy CodecID 12 (Chinese CDNs) or Enhanced RTMP v1
(IsExHeader + FourCC 'hvc1').

usage: flv-from-mp4.py IN.mp4 OUT.flv codecid|enhanced
"""
import json
import struct
import subprocess
import sys


def hexdump_bytes(dump):
    out = bytearray()
    for line in dump.strip().splitlines():
        # "00000000: 0101 6000 ...  ascii": the hex groups sit between the colon and two spaces.
        hexpart = line.split(":", 1)[1].split("  ")[0]
        out += bytes.fromhex(hexpart.replace(" ", ""))
    return bytes(out)


def probe(path, what):
    out = subprocess.run(["ffprobe", "-v", "error", what, "-show_data", "-of", "json", path],
                         check=True, capture_output=True).stdout
    return json.loads(out)


def tag(kind, ts, body):
    ts &= 0xFFFFFFFF
    header = bytes([kind]) + len(body).to_bytes(3, "big") + (ts & 0xFFFFFF).to_bytes(3, "big") \
        + bytes([ts >> 24]) + b"\0\0\0"
    return header + body + struct.pack(">I", 11 + len(body))


def si24(v):
    return (v & 0xFFFFFF).to_bytes(3, "big")


def main():
    src, dst, signal = sys.argv[1:4]
    streams = probe(src, "-show_streams")["streams"]
    packets = probe(src, "-show_packets")["packets"]
    video = next(s for s in streams if s["codec_type"] == "video")
    audio = next((s for s in streams if s["codec_type"] == "audio"), None)
    vcodec = video["codec_name"]
    assert vcodec in ("hevc", "h264"), vcodec
    t0 = min(float(p["dts_time"]) for p in packets)

    def ms(t):
        return round((float(t) - t0) * 1000)

    def video_body(frame_type, packet_type, cts, payload):
        if signal == "enhanced":
            fourcc = b"hvc1" if vcodec == "hevc" else b"avc1"
            head = bytes([0x80 | frame_type << 4 | packet_type]) + fourcc
            return head + (si24(cts) if packet_type == 1 else b"") + payload
        codec_id = 12 if vcodec == "hevc" else 7
        return bytes([frame_type << 4 | codec_id, packet_type]) + si24(cts) + payload

    out = bytearray(b"FLV\x01" + bytes([0x05 if audio else 0x01]) + b"\0\0\0\x09\0\0\0\0")
    out += tag(9, 0, video_body(1, 0, 0, hexdump_bytes(video["extradata"])))
    if audio:
        out += tag(8, 0, b"\xaf\x00" + hexdump_bytes(audio["extradata"]))
    for p in packets:
        data = hexdump_bytes(p["data"])
        dts = ms(p["dts_time"])
        if p["codec_type"] == "video":
            key = p["flags"].startswith("K")
            cts = ms(p["pts_time"]) - dts
            out += tag(9, dts, video_body(1 if key else 2, 1, cts, data))
        else:
            out += tag(8, dts, b"\xaf\x01" + data)
    last = max(ms(p["dts_time"]) for p in packets)
    out += tag(9, last, video_body(1, 2, 0, b""))
    open(dst, "wb").write(out)


main()

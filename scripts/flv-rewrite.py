#!/usr/bin/env python3
"""Rewrites an ffmpeg-written FLV the way some cameras and small encoders send their video, for
the Annex B / in-band parameter set fixtures (testdata/annexb/):

  annexb  the AVC/HEVC sequence header body becomes the record's parameter sets in Annex B form
          (4-byte start codes, VPS/SPS/PPS in the record's order); coded frames are unchanged.
  inband  the video sequence header is removed and the record's parameter sets are put in-band,
          4-byte length-prefixed, in front of the first keyframe's NAL units; every other coded
          frame is unchanged.
  badrecord  the sequence header's configurationVersion is 0: a record no MP4 or TS writer can
          use, while FLV can carry it (one format failing).
  noaudio / novideo  the audio / video tags are removed (single-track inputs).
  noop    tags copied unchanged (with --max-ms: a short push).

Both the legacy CodecID (7 AVC, 12 HEVC) and the Enhanced RTMP (IsExHeader, FourCC) headers are
handled. --max-ms keeps only the tags up to that timestamp (small fixtures).

usage: flv-rewrite.py MODE IN.flv OUT.flv [--max-ms N]"""
MODES = ("annexb", "inband", "badrecord", "noaudio", "novideo", "noop")
import struct
import sys


def tags(data):
    assert data[:3] == b"FLV"
    pos = struct.unpack(">I", data[5:9])[0] + 4
    while pos + 11 <= len(data):
        ttype = data[pos] & 0x1F
        size = int.from_bytes(data[pos + 1:pos + 4], "big")
        ts = int.from_bytes(data[pos + 4:pos + 7], "big") | (data[pos + 7] << 24)
        yield ttype, ts, data[pos + 11:pos + 11 + size]
        pos += 11 + size + 4


def write_tag(out, ttype, ts, body):
    out += bytes([ttype]) + len(body).to_bytes(3, "big") + (ts & 0xFFFFFF).to_bytes(3, "big")
    out += bytes([ts >> 24 & 0xFF, 0, 0, 0]) + body + struct.pack(">I", 11 + len(body))


def video_header(body):
    """(header length, packet type, hevc) of a video tag: the bytes before the record/NALUs."""
    if body[0] & 0x80:  # Enhanced RTMP: byte, FourCC, [SI24 for CodedFrames]
        ptype = body[0] & 0x0F
        return (8 if ptype == 1 else 5), {0: 0, 1: 1, 3: 1}.get(ptype, ptype), body[1:5] == b"hvc1"
    return 5, body[1], (body[0] & 0x0F) == 12


def record_sets(record, hevc):
    """Parameter sets of an avcC / hvcC, in the record's order."""
    sets = []
    if not hevc:
        pos = 6
        for count_at in ("sps", "pps"):
            n = record[5] & 0x1F if count_at == "sps" else record[pos]
            pos += 0 if count_at == "sps" else 1
            for _ in range(n):
                size = int.from_bytes(record[pos:pos + 2], "big")
                sets.append(record[pos + 2:pos + 2 + size])
                pos += 2 + size
        return sets
    pos, arrays = 23, record[22]
    for _ in range(arrays):
        n = int.from_bytes(record[pos + 1:pos + 3], "big")
        pos += 3
        for _ in range(n):
            size = int.from_bytes(record[pos:pos + 2], "big")
            nal = record[pos + 2:pos + 2 + size]
            if (nal[0] >> 1) & 0x3F in (32, 33, 34):  # VPS, SPS, PPS (not SEI)
                sets.append(nal)
            pos += 2 + size
    return sets


def main():
    mode, src, dst, *rest = sys.argv[1:]
    assert mode in MODES, f"mode {mode!r} is none of {MODES}"
    max_ms = int(rest[1]) if rest[:1] == ["--max-ms"] else None
    data = open(src, "rb").read()
    out = bytearray(data[:13])
    sets = None
    for ttype, ts, body in tags(data):
        if max_ms is not None and ttype != 18 and ts > max_ms:
            break
        if (mode == "noaudio" and ttype == 8) or (mode == "novideo" and ttype == 9):
            continue
        if ttype == 9 and mode == "badrecord" and video_header(body)[1] == 0:
            hlen = video_header(body)[0]
            body = body[:hlen] + b"\0" + body[hlen + 1:]
        if ttype == 9 and mode in ("annexb", "inband") and body and (body[0] >> 4 & 7) != 5:
            hlen, ptype, hevc = video_header(body)
            if ptype == 0:
                sets = record_sets(body[hlen:], hevc)
                if mode == "inband":
                    continue
                body = body[:hlen] + b"".join(b"\0\0\0\1" + s for s in sets)
            elif ptype == 1 and mode == "inband" and sets is not None and (body[0] >> 4 & 7) == 1:
                body = body[:hlen] + b"".join(len(s).to_bytes(4, "big") + s for s in sets) + body[hlen:]
                sets = None
        write_tag(out, ttype, ts, body)
    if mode in ("novideo",):
        out[4] &= ~0x01
    if mode == "noaudio":
        out[4] &= ~0x04
    open(dst, "wb").write(out)


main()

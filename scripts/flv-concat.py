#!/usr/bin/env python3
"""Joins FLV files tag by tag into one, the way a live encoder that restarts mid-push sends them:
each later file's tags (its sequence headers included) follow the earlier ones, with timestamps
continued. Script tags of later files are dropped. Used by gen-testdata.sh for the codec-change
fixture."""
import struct
import sys


def tags(path):
    data = open(path, "rb").read()
    assert data[:3] == b"FLV", path
    pos = struct.unpack(">I", data[5:9])[0] + 4
    while pos + 11 <= len(data):
        ttype = data[pos] & 0x1F
        size = int.from_bytes(data[pos + 1:pos + 4], "big")
        ts = int.from_bytes(data[pos + 4:pos + 7], "big") | (data[pos + 7] << 24)
        body = data[pos + 11:pos + 11 + size]
        yield ttype, ts, body
        pos += 11 + size + 4


def main():
    *inputs, output = sys.argv[1:]
    out = bytearray(b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00")
    offset = 0
    for n, path in enumerate(inputs):
        last = 0
        for ttype, ts, body in tags(path):
            if ttype == 18 and n > 0:
                continue
            t = ts + offset if ttype != 18 else 0
            last = max(last, t)
            header = bytes([ttype]) + len(body).to_bytes(3, "big") + (t & 0xFFFFFF).to_bytes(3, "big") + bytes([t >> 24 & 0xFF, 0, 0, 0])
            out += header + body + struct.pack(">I", 11 + len(body))
        offset = last + 40
    open(output, "wb").write(out)


main()

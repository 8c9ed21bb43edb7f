#!/usr/bin/env python3
"""Copies a little-endian microsecond pcap with its times shifted so that it begins at
1764072000 (2025-11-25 12:00:00 UTC), the fixtures' start.

Usage: scripts/pcap-shift.py IN.pcap OUT.pcap
"""
import struct
import sys

START_S = 1764072000

src = bytearray(open(sys.argv[1], "rb").read())
assert struct.unpack_from("<I", src, 0)[0] == 0xA1B2C3D4, "expected a little-endian microsecond pcap"
pos, first = 24, None
while pos + 16 <= len(src):
    sec, usec, caplen = struct.unpack_from("<III", src, pos)
    t = sec * 1_000_000 + usec
    first = t if first is None else first
    t = START_S * 1_000_000 + (t - first)
    struct.pack_into("<II", src, pos, t // 1_000_000, t % 1_000_000)
    pos += 16 + caplen
open(sys.argv[2], "wb").write(src)

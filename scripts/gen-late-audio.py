#!/usr/bin/env python3
"""Makes a push whose audio track first appears late, stamped earlier than the video already
sent: the AAC sequence header and the first AAC frames arrive in file order only after several
seconds of video, as an encoder whose audio queue backs up sends them. The audio header comes
past the prelude (3 s of media), so the track is a configuration change (README, "Several audio
and video tracks"), and its first frames carry timestamps the video has long passed.

From an ffmpeg-written H.264 + AAC FLV, without touching a payload or a timestamp:
  - audio frames before START_MS are removed (the audio track begins there),
  - the audio sequence header is moved to just before the first audio frame,
  - every audio tag is moved LAG_MS later in file order than its timestamp says,
  - tags after MAX_MS are removed (a small fixture).

Usage: scripts/gen-late-audio.py IN.flv OUT.flv [START_MS LAG_MS MAX_MS]
       (defaults 500 4000 6500: audio from 0.5 s, sent 4 s late, 6.5 s of media)
"""
import struct
import sys


def flv_tags(data):
    """(type, timestamp ms, whole tag bytes including its PreviousTagSize) after the header."""
    pos = struct.unpack(">I", data[5:9])[0] + 4
    while pos + 11 <= len(data):
        size = int.from_bytes(data[pos + 1:pos + 4], "big")
        ts = int.from_bytes(data[pos + 4:pos + 7], "big") | (data[pos + 7] << 24)
        yield data[pos] & 0x1F, ts, data[pos:pos + 11 + size + 4]
        pos += 11 + size + 4


def main():
    src, dst, *rest = sys.argv[1:]
    start_ms, lag_ms, max_ms = (int(v) for v in (rest or ["500", "4000", "6500"]))
    data = open(src, "rb").read()
    head = data[:struct.unpack(">I", data[5:9])[0] + 4]
    # Each tag is keyed by when it is sent: (send time ms, header before frames, file order).
    keyed = []
    for n, (kind, ts, raw) in enumerate(flv_tags(data)):
        if kind != 18 and ts > max_ms:
            continue
        if kind == 8:
            sequence_header = raw[12] == 0  # AACPacketType 0
            if not sequence_header and ts < start_ms:
                continue
            at = (start_ms if sequence_header else ts) + lag_ms
            keyed.append((at, 0 if sequence_header else 1, n, raw))
        else:
            keyed.append((ts if kind == 9 else -1, 0, n, raw))
    keyed.sort()
    open(dst, "wb").write(head + b"".join(raw for *_, raw in keyed))


main()

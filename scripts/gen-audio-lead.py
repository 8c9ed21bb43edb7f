#!/usr/bin/env python3
"""Makes the audio-lead fixtures: pushes whose audio runs ahead of (or behind) the video in file
order, as an MPEG-TS muxer with a large mux delay or Apple's segmenter writes them, so that at a
cut the packets next to the keyframe in the file are not the ones next to it in time.

One 11 s encode (128x96 H.264 with B-frames, a keyframe every 0.72 s so cuts do not fall on
whole seconds; 44.1 kHz mono AAC; single-threaded, bit-exact) is copied into an FLV and an MPEG-TS by ffmpeg, then
re-ordered here without touching a payload or a timestamp:

  lead-1764072000.flv  audio tags moved 600 ms ahead of the video of the same time
  lead-1764072000.ts   audio PES packets moved 600 ms ahead
  lag-1764072000.ts    audio PES packets moved 600 ms behind

Usage: scripts/gen-audio-lead.py [OUT_DIR]   (default testdata/audio-lead)
"""
import os
import subprocess
import sys
import tempfile

SHIFT_MS = 600
TS_PACKET = 188


def encode(tmp):
    src = os.path.join(tmp, "src.mkv")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=128x96:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
         "-t", "11", "-c:v", "libx264", "-threads", "1", "-preset", "veryfast", "-g", "18", "-keyint_min", "18",
         "-sc_threshold", "0", "-bf", "2", "-b:v", "20k", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-b:a", "16k", "-ac", "1",
         "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact", src],
        check=True)
    out = {}
    for ext in ["flv", "ts"]:
        out[ext] = os.path.join(tmp, "copy." + ext)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", src, "-c", "copy",
                        "-fflags", "+bitexact", out[ext]], check=True)
    return out


def flv_tags(data):
    """(type, timestamp ms, whole tag bytes including its PreviousTagSize) after the header."""
    pos = int.from_bytes(data[5:9], "big") + 4
    while pos + 11 <= len(data):
        size = int.from_bytes(data[pos + 1:pos + 4], "big")
        ts = int.from_bytes(data[pos + 4:pos + 7], "big") | (data[pos + 7] << 24)
        yield data[pos] & 0x1F, ts, data[pos:pos + 11 + size + 4]
        pos += 11 + size + 4


def reorder_flv(path, shift_ms):
    data = open(path, "rb").read()
    head = data[:int.from_bytes(data[5:9], "big") + 4]
    # The script tag and the sequence headers (AVCPacketType / AACPacketType 0) stay in front;
    # media tags are sorted by when they should appear in the file: audio `shift_ms` early.
    keyed = []
    for n, (kind, ts, raw) in enumerate(flv_tags(data)):
        header = kind == 18 or (kind in (8, 9) and raw[12] == 0)
        at = -10**9 if header else (ts - shift_ms if kind == 8 else ts)
        keyed.append((at, n, raw))
    keyed.sort()
    return head + b"".join(raw for _, _, raw in keyed)


def pes_time_ms(payload):
    """DTS (or PTS) of a PES header at the start of `payload`, in ms; None if absent."""
    if payload[:3] != b"\x00\x00\x01" or len(payload) < 14:
        return None
    flags = payload[7] >> 6
    if flags == 0:
        return None
    at = 14 if flags == 3 else 9  # the DTS follows the PTS when both are present
    b = payload[at:at + 5]
    t = ((b[0] >> 1) & 7) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7 | b[4] >> 1
    return t / 90


def ts_units(data):
    """TS packets grouped into units: one PES packet of a PID (from its unit start), or one
    table packet. Yields (pid, time ms or None, bytes)."""
    open_units = {}
    order = []
    for pos in range(0, len(data) - TS_PACKET + 1, TS_PACKET):
        pkt = data[pos:pos + TS_PACKET]
        pid = (pkt[1] & 0x1F) << 8 | pkt[2]
        start = pkt[1] & 0x40
        afc = pkt[3] >> 4 & 3
        body = 4 + (1 + pkt[4] if afc & 2 else 0)
        if pid < 0x20 or pid == 0x1000:
            order.append([pid, None, pkt])
            continue
        if start or pid not in open_units:
            unit = [pid, pes_time_ms(pkt[body:]), bytearray()]
            open_units[pid] = unit
            order.append(unit)
        open_units[pid][2] += pkt
    return order


def reorder_ts(path, shift_ms, audio_pid):
    units = ts_units(open(path, "rb").read())
    keyed = []
    last = -10**9
    for n, (pid, t, raw) in enumerate(units):
        if t is None:
            at = last  # tables and unstamped units stay with what precedes them
        else:
            at = t - shift_ms if pid == audio_pid else t
            last = max(last, at) if pid != audio_pid else last
        keyed.append((at, n, bytes(raw)))
    keyed.sort()
    return b"".join(raw for _, _, raw in keyed)


def audio_pid(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries",
                          "stream=id", "-of", "csv=p=0", path],
                         check=True, capture_output=True, text=True).stdout
    return int(out.split()[0], 16)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "testdata/audio-lead"
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        copy = encode(tmp)
        pid = audio_pid(copy["ts"])
        outputs = {
            "lead-1764072000.flv": reorder_flv(copy["flv"], SHIFT_MS),
            "lead-1764072000.ts": reorder_ts(copy["ts"], SHIFT_MS, pid),
            "lag-1764072000.ts": reorder_ts(copy["ts"], -SHIFT_MS, pid),
        }
    for name, data in outputs.items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
        print(name, len(data))


main()

#!/usr/bin/env python3
"""Writes the Enhanced RTMP fixtures in testdata/ertmp/ with FFmpeg 8's own FLV muxer (through
PyAV), which signals AV1, VP9 and HEVC with video FourCCs and Opus, FLAC, AC-3 and E-AC-3 with
Enhanced RTMP v2 audio FourCCs (SoundFormat 9), and a second audio or video track as a
multitrack packet.

    /opt/pyav/bin/python scripts/gen-ertmp.py [OUT_DIR [NAME...]]

With NAMEs, only those fixtures are written (the others' committed bytes stay as they are).

Each fixture is a few seconds at 160x96, 25 fps, one keyframe a second, so the whole set stays
small. Unix start times are in the names, as nginx-rtmp's record_unique writes them. The files
are committed; run this only to change them (encoders are deterministic for one PyAV build, not
across builds).
"""

import fractions
import math
import os
import sys

import av
import numpy as np

WIDTH, HEIGHT, FPS = 160, 96, 25
START = 1764072000

# name, video encoder (None: no video) and options, or a list of video tracks (encoder, options,
# size), audio tracks (encoder, rate, channels, options), seconds
X264 = ("libx264", {"preset": "veryfast", "g": "25", "bf": "2", "threads": "1"})
FIXTURES = [
    ("av1-opus", ("libsvtav1", {"preset": "12", "svtav1-params": "keyint=25:lp=1"}),
     [("libopus", 48000, 2, {})], 3),
    ("vp9-flac", ("libvpx-vp9", {"deadline": "realtime", "cpu-used": "8", "g": "25",
                                 "threads": "1"}),
     [("flac", 44100, 2, {})], 3),
    ("hevc-ac3", ("libx265", {"x265-params":
                              "log-level=error:keyint=25:min-keyint=25:bframes=2:pools=1:"
                              "frame-threads=1"}),
     [("ac3", 48000, 2, {})], 3),
    ("h264-eac3", ("libx264", {"preset": "veryfast", "g": "25", "bf": "2", "threads": "1"}),
     [("eac3", 48000, 2, {})], 3),
    ("h264-2aac", ("libx264", {"preset": "veryfast", "g": "25", "bf": "2", "threads": "1"}),
     [("aac", 44100, 2, {}), ("aac", 48000, 1, {})], 3),
    ("av1-aac", ("libsvtav1", {"preset": "12", "svtav1-params": "keyint=25:lp=1"}),
     [("aac", 44100, 2, {})], 3),
    # Two H.264 video tracks of different sizes (a multitrack tag for the second) and AAC.
    ("h264x2-aac", [X264 + ((WIDTH, HEIGHT),), X264 + ((96, 64),)],
     [("aac", 44100, 2, {})], 2),
]
# The same stream pushed twice, 60 s apart after the first push ends: only the first push is
# written, as both pushes are the same bytes; the tests copy it under the second push's name,
# show-av1-1764072062.flv (`testutil::show_av1_pushes`).
TWO_PUSHES = ("show-av1", ("libsvtav1", {"preset": "12", "svtav1-params": "keyint=25:lp=1"}),
              [("libopus", 48000, 2, {})], 2)
BITRATE = {"libsvtav1": 60_000, "libvpx-vp9": 60_000, "libx265": 60_000, "libx264": 60_000}


def picture(i, width=WIDTH, height=HEIGHT):
    """A moving test picture: a gradient with a bar that travels one column a frame."""
    y = np.full((height, width), 16, np.uint8)
    y[:, :] = (np.arange(width) * 200 // width + 16).astype(np.uint8)
    x = (i * 4) % width
    y[:, x:x + 8] = 235
    u = np.full((height // 2, width // 2), (64 + i * 3) % 256, np.uint8)
    v = np.full((height // 2, width // 2), 128, np.uint8)
    return np.concatenate([y.reshape(-1), u.reshape(-1), v.reshape(-1)]).reshape(
        height * 3 // 2, width)


def write(path, video, audios, seconds):
    out = av.open(path, "w", format="flv", options={"flvflags": "no_duration_filesize"})
    out.flags |= 0  # keep defaults
    streams = []
    videos = video if isinstance(video, list) else [video + ((WIDTH, HEIGHT),)] if video else []
    for enc, opts, (width, height) in videos:
        vs = out.add_stream(enc, rate=FPS, options=dict(opts))
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        vs.bit_rate = BITRATE[enc]
        vs.time_base = fractions.Fraction(1, FPS)
        streams.append(("v", vs, (width, height)))
    for k, (enc, rate, channels, opts) in enumerate(audios):
        a = out.add_stream(enc, rate=rate, options=dict(opts))
        a.layout = "stereo" if channels == 2 else "mono"
        if enc in ("aac", "libopus", "ac3", "eac3"):
            a.bit_rate = 32_000 * channels
        streams.append(("a", a, (rate, channels, 300 + 200 * k)))
    for kind, s, size in streams:
        if kind == "v":
            for i in range(seconds * FPS):
                f = av.VideoFrame.from_ndarray(picture(i, *size), format="yuv420p")
                f.pts = i
                f.time_base = fractions.Fraction(1, FPS)
                out.mux(s.encode(f))
            out.mux(s.encode(None))
    # Audio after video: the muxer interleaves by DTS.
    for kind, s, params in streams:
        if kind != "a":
            continue
        rate, channels, freq = params
        n = s.codec_context.frame_size or 1024
        total = seconds * rate
        for start in range(0, total, n):
            t = (np.arange(start, min(start + n, total)) / rate)
            mono = (0.3 * np.sin(2 * math.pi * freq * t)).astype(np.float32)
            fmt = s.codec_context.format.name
            data = np.tile(mono, (channels, 1))
            if fmt in ("s16", "s16p"):
                data = (data * 32767).astype(np.int16)
            elif fmt in ("s32", "s32p"):
                data = (data * 2147483647).astype(np.int32)
            if not s.codec_context.format.is_planar:
                data = data.T.reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(data, format=fmt,
                                               layout=s.layout.name)
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = fractions.Fraction(1, rate)
            out.mux(s.encode(frame))
        out.mux(s.encode(None))
    out.close()


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "testdata", "ertmp")
    only = set(sys.argv[2:])
    os.makedirs(out_dir, exist_ok=True)
    for name, video, audios, seconds in FIXTURES:
        if not only or name in only:
            write(os.path.join(out_dir, f"{name}-{START}.flv"), video, audios, seconds)
    name, video, audios, seconds = TWO_PUSHES
    if only and name not in only:
        return
    write(os.path.join(out_dir, f"{name}-{START}.flv"), video, audios, seconds)


if __name__ == "__main__":
    main()

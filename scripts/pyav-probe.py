#!/usr/bin/env python3
"""Reads a media file with FFmpeg 8 (through PyAV) and prints what it holds as JSON: the test
oracle for the codecs and containers Debian's ffprobe 5.1 cannot read (Enhanced RTMP FLV v1/v2,
AV1, VP9, Opus, FLAC in FLV, fMP4 HLS).

    scripts/pyav-probe.py FILE [--decode]

FILE is any input libavformat opens: FLV, MP4, fragmented MP4, MPEG-TS, an HLS playlist.
Printed (one JSON object on stdout):

    format:  name, long_name
    streams: per stream index: type, codec_name, profile, width, height, sample_rate, channels,
             time_base ("num/den"), extradata (hex, md5, size), and every packet in demux order:
             pts, dts, duration (in time_base; null where FFmpeg has none), size, md5 of the
             payload, key, corrupt, side_data (type, size, md5; only when present)
    log:     FFmpeg's messages at level error and above while opening and reading
    ffprobe: what `ffprobe -show_format -show_streams -of json` of FFmpeg 8 would print of the
             fields outMediainfo carries: format (format_name, size, duration, bit_rate) and
             streams (index, codec_type, codec_name, profile, width, height, sample_rate, channels,
             r_frame_rate, bit_rate)

With --decode every packet is also decoded (each stream's decoder is flushed at the end):
streams get decoded_frames and decode_errors, and the exit status is 1 when any decoder raised
an error or FFmpeg logged one (as `ffmpeg -v error -i FILE -f null -` prints nothing only for a
clean file). Without --decode the exit status is 0 once the file was read to its end; a file
FFmpeg cannot open exits 2 with the reason on stderr.

Runs with the interpreter of the virtual environment that .ci/run makes from
scripts/pyav-requirements.txt (/opt/pyav/bin/python).
"""

import hashlib
import json
import os
import sys

import av
import av.logging

# A stream that first appears late (e.g. after a sequence end tag of another codec) is only
# found with a long probe; without one, demux() raises IndexError on its first packet.
OPEN_OPTIONS = {
    "probesize": "100000000",
    "analyzeduration": "100000000",
}


def md5(data):
    return hashlib.md5(bytes(data)).hexdigest()


def stream_facts(stream):
    cc = stream.codec_context
    extradata = bytes(cc.extradata or b"")
    facts = {
        "index": stream.index,
        "type": stream.type,
        "codec_name": cc.name,
        "profile": cc.profile,
        "width": None,
        "height": None,
        "sample_rate": None,
        "channels": None,
        "time_base": f"{stream.time_base.numerator}/{stream.time_base.denominator}",
        "extradata": extradata.hex(),
        "extradata_md5": md5(extradata),
        "extradata_size": len(extradata),
        "packets": [],
    }
    if stream.type == "video":
        facts["width"] = cc.width
        facts["height"] = cc.height
    elif stream.type == "audio":
        facts["sample_rate"] = cc.sample_rate
        facts["channels"] = cc.channels
    return facts


def packet_facts(packet):
    payload = bytes(packet)
    facts = {
        "pts": packet.pts,
        "dts": packet.dts,
        "duration": packet.duration,
        "size": packet.size,
        "md5": md5(payload),
        "key": bool(packet.is_keyframe),
        "corrupt": bool(packet.is_corrupt),
    }
    if packet.has_sidedata:
        facts["side_data"] = [
            {"type": str(sd.data_type), "size": sd.data_size, "md5": md5(sd)}
            for sd in packet.iter_sidedata()
        ]
    return facts


def is_flush(packet):
    """The empty packet demux() yields per stream at the end of the file."""
    return packet.size == 0 and packet.dts is None and packet.pts is None


def decode(stream, packet, facts):
    try:
        facts["decoded_frames"] += len(stream.codec_context.decode(packet))
    except av.FFmpegError as e:
        facts["decode_errors"].append(f"packet dts {packet.dts}: {e}")


def ffprobe_like(path, container):
    """The format and stream fields of ffprobe's JSON that outMediainfo carries."""
    fmt = {"format_name": container.format.name, "size": str(os.path.getsize(path))}
    if container.duration is not None:
        fmt["duration"] = f"{container.duration / 1_000_000:.6f}"
    if container.bit_rate:
        fmt["bit_rate"] = str(container.bit_rate)
    streams = []
    for s in container.streams:
        cc = s.codec_context
        st = {"index": s.index, "codec_name": cc.codec.canonical_name, "codec_type": s.type}
        if cc.profile:
            st["profile"] = cc.profile
        if s.type == "video":
            st.update(width=cc.width, height=cc.height)
            rate = s.base_rate
            st["r_frame_rate"] = f"{rate.numerator}/{rate.denominator}" if rate else "0/0"
        elif s.type == "audio":
            st.update(sample_rate=str(cc.sample_rate), channels=cc.channels)
        if s.bit_rate:
            st["bit_rate"] = str(s.bit_rate)
        streams.append(st)
    return {"format": fmt, "streams": streams}


def probe(path, decoding):
    container = av.open(path, options=OPEN_OPTIONS)
    streams = {s.index: stream_facts(s) for s in container.streams}
    if decoding:
        for facts in streams.values():
            facts["decoded_frames"] = 0
            facts["decode_errors"] = []
    for packet in container.demux():
        facts = streams.get(packet.stream_index)
        if facts is None:
            continue
        if not is_flush(packet):
            facts["packets"].append(packet_facts(packet))
        if decoding:
            decode(packet.stream, None if is_flush(packet) else packet, facts)
    result = {
        "format": {
            "name": container.format.name,
            "long_name": container.format.long_name,
        },
        "streams": [streams[i] for i in sorted(streams)],
        "ffprobe": ffprobe_like(path, container),
    }
    container.close()
    return result


def main():
    args = sys.argv[1:]
    decoding = "--decode" in args
    paths = [a for a in args if a != "--decode"]
    if len(paths) != 1:
        sys.exit("usage: pyav-probe.py FILE [--decode]")
    av.logging.set_level(av.logging.ERROR)
    with av.logging.Capture(local=False) as logs:
        try:
            result = probe(paths[0], decoding)
        except (av.FFmpegError, OSError, IndexError) as e:
            print(f"{paths[0]}: {e}", file=sys.stderr)
            sys.exit(2)
    result["log"] = [
        f"{name or ''}: {message.strip()}"
        for level, name, message in logs
        if level <= av.logging.ERROR
    ]
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    failed = decoding and (
        result["log"] or any(s["decode_errors"] for s in result["streams"])
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

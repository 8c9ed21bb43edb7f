#!/usr/bin/env python3
"""Re-packetises the video PES of ffmpeg-written transport streams so that PES boundaries fall
inside access units and inside NAL units, as Apple's mediafilesegmenter writes them: each PES
begins with the tail of the previous access unit (no start code at the start of its payload,
data_alignment_indicator 0), then the next access unit, whose PTS/DTS the PES carries.

Boundary placements, in turn from one access unit to the next:
  slice    inside the previous access unit's last slice NAL (a 78-87-byte tail, as Apple's)
  between  between two NAL units of the previous access unit (before its last NAL)
  split    inside the start code of the previous access unit's last NAL
  nostart  as `slice`, and the access unit's largest NAL is cut again by an extra PES with no
           PTS/DTS and no start code at all
  aligned  at the access unit's start (the normal case, kept in the mix)
One more H.264 file has the PES of three access units without PTS/DTS (appleuntimed-*).

Audio, PAT/PMT and every other packet are kept as they are; a new video PES is written where
the source's PES with the same timestamps began, with that packet's PCR and random access flag.

  scripts/gen-ts-repack.py            # makes the sources with ffmpeg, writes testdata/ts/
  scripts/gen-ts-repack.py IN.ts OUT.ts

Then checks that ffprobe reads each re-packetised file's video packets as it reads the
source's (size, MD5, DTS, PTS, key flag): ffprobe rebuilds access units with its parser.
Python 3, no third-party modules; ffmpeg/ffprobe 5.1 (libx264, libx265) for the sources.
"""

import json
import os
import subprocess
import sys

TS = 188
PLACEMENTS = ["slice", "between", "split", "nostart", "aligned"]


def packets(data):
    for off in range(0, len(data) - TS + 1, TS):
        yield data[off:off + TS]


def parse_packet(p):
    pid = ((p[1] & 0x1F) << 8) | p[2]
    pusi = bool(p[1] & 0x40)
    afc = (p[3] >> 4) & 3
    af = b""
    pos = 4
    if afc & 2:
        n = p[4]
        af = p[5:5 + n]
        pos = 5 + n
    payload = p[pos:] if afc & 1 else b""
    return pid, pusi, af, payload


def video_pid(data):
    """The PID of the first H.264/HEVC stream of the first PMT."""
    pmt_pid = None
    for p in packets(data):
        pid, pusi, _, payload = parse_packet(p)
        if pid == 0 and pusi and pmt_pid is None:
            sec = payload[1 + payload[0]:]
            pmt_pid = ((sec[10] & 0x1F) << 8) | sec[11]
        elif pid == pmt_pid and pusi:
            sec = payload[1 + payload[0]:]
            slen = ((sec[1] & 0x0F) << 8) | sec[2]
            info = ((sec[10] & 0x0F) << 8) | sec[11]
            i = 12 + info
            while i < 3 + slen - 4:
                st, epid = sec[i], ((sec[i + 1] & 0x1F) << 8) | sec[i + 2]
                if st in (0x1B, 0x24):
                    return epid, st
                i += 5 + (((sec[i + 3] & 0x0F) << 8) | sec[i + 4])
    raise SystemExit("no H.264/HEVC stream in the PMT")


def read_ts(t):
    return ((t[0] >> 1) & 7) << 30 | t[1] << 22 | (t[2] >> 1) << 15 | t[3] << 7 | t[4] >> 1


def video_pes(data, vpid):
    """[(packet index of its start, pts, dts, es bytes, adaptation field of its first packet)]."""
    out = []
    for i, p in enumerate(packets(data)):
        pid, pusi, af, payload = parse_packet(p)
        if pid != vpid:
            continue
        if pusi:
            flags, hlen = payload[7] >> 6, payload[8]
            pts = read_ts(payload[9:14]) if flags & 2 else None
            dts = read_ts(payload[14:19]) if flags == 3 else pts
            out.append([i, pts, dts, bytearray(payload[9 + hlen:]), af])
        elif out:
            out[-1][3] += payload
    return out


def start_codes(es):
    """Offsets of the 3-byte start codes (00 00 01) in es."""
    found, i = [], es.find(b"\x00\x00\x01")
    while i >= 0:
        found.append(i)
        i = es.find(b"\x00\x00\x01", i + 3)
    return found


def nal_starts(au):
    """(offset of the start code including a leading zero of a 4-byte one, payload offset)."""
    res = []
    for s in start_codes(au):
        lead = s - 1 if s > 0 and au[s - 1] == 0 else s
        res.append((lead, s + 3))
    return res


def cuts_for(k, prev_au, au):
    """PES boundaries around the start of access unit k, as offsets relative to its start
    (negative: inside the previous AU), and extra no-PTS cuts inside it (positive)."""
    placement = PLACEMENTS[k % len(PLACEMENTS)]
    nals = nal_starts(prev_au)
    last_lead, last_payload = nals[-1]
    last_len = len(prev_au) - last_payload
    tail = 78 + k % 10
    if tail >= last_len - 4:
        tail = max(1, last_len // 2)
    if placement == "slice":
        return -tail, []
    if placement == "between":
        return -(len(prev_au) - last_lead), []
    if placement == "split":
        return -(len(prev_au) - last_lead) + 2, []
    if placement == "nostart":
        # The largest NAL of this AU, cut in its middle by a PES of its own without timestamps.
        own = nal_starts(au) + [(len(au), len(au))]
        big = max(range(len(own) - 1), key=lambda j: own[j + 1][0] - own[j][1])
        a, b = own[big][1], own[big + 1][0]
        extra = [a + (b - a) // 3, a + 2 * (b - a) // 3] if b - a > 400 else []
        return -tail, extra
    return 0, []


def pes_header(pts, dts):
    def enc(marker, t):
        return bytes([
            (marker << 4) | (((t >> 30) & 7) << 1) | 1,
            (t >> 22) & 0xFF,
            (((t >> 15) & 0x7F) << 1) | 1,
            (t >> 7) & 0xFF,
            ((t & 0x7F) << 1) | 1,
        ])
    if pts is None:
        opt = b""
        flags = 0x00
    elif dts is None or dts == pts:
        opt = enc(2, pts)
        flags = 0x80
    else:
        opt = enc(3, pts) + enc(1, dts)
        flags = 0xC0
    # '10', scrambling 00, priority 0, data_alignment_indicator 0, copyright 0, original 0.
    return bytes([0, 0, 1, 0xE0, 0, 0, 0x80, flags, len(opt)]) + opt


class Packetiser:
    def __init__(self, pid):
        self.pid, self.cc = pid, 0

    def pes(self, payload, af_first):
        """TS packets carrying one PES; af_first: the source's adaptation field of the first
        packet, of which the discontinuity and random access flags and the PCR are kept."""
        content = b""
        if af_first:
            flags = af_first[0] & 0xD0
            content = bytes([flags]) + (af_first[1:7] if flags & 0x10 else b"")
        out = []
        while True:
            room = TS - 4 - (1 + len(content) if content else 0)
            chunk = payload[:room]
            if len(chunk) < room:
                length = TS - 4 - 1 - len(chunk)
                body = content or (b"\x00" if length else b"")
                field = bytes([length]) + body + b"\xff" * (length - len(body))
            else:
                field = bytes([len(content)]) + content if content else b""
            afc = 0x30 if field else 0x10
            hdr = bytes([0x47, (0x40 if not out else 0) | (self.pid >> 8), self.pid & 0xFF,
                         afc | self.cc])
            self.cc = (self.cc + 1) & 0x0F
            pkt = hdr + field + chunk
            assert len(pkt) == TS, len(pkt)
            out.append(pkt)
            payload = payload[len(chunk):]
            content = b""
            if not payload:
                return out


def repack(data, untimed=()):
    """The re-packetised stream; the PES of the access units numbered in `untimed` carry no
    PTS/DTS."""
    vpid, _ = video_pid(data)
    src = video_pes(data, vpid)
    for k in untimed:
        src[k][1] = src[k][2] = None
    es = bytearray()
    starts = []
    for _, _, _, b, _ in src:
        starts.append(len(es))
        es += b
    starts.append(len(es))
    # New PES k: from boundary[k] to boundary[k+1], timestamps of AU k; extra cuts without.
    bounds, extras = [0], [[]]
    for k in range(1, len(src)):
        rel, extra = cuts_for(k, es[starts[k - 1]:starts[k]], es[starts[k]:starts[k + 1]])
        bounds.append(starts[k] + rel)
        extras.append([starts[k] + e for e in extra])
    bounds.append(len(es))
    pk = Packetiser(vpid)
    new_pes = {}
    for k, (idx, pts, dts, _, af) in enumerate(src):
        pieces = [bounds[k]] + [e for e in extras[k] if bounds[k] < e < bounds[k + 1]]
        pieces.append(bounds[k + 1])
        out = []
        for j in range(len(pieces) - 1):
            body = bytes(es[pieces[j]:pieces[j + 1]])
            timed = j == 0 and pts is not None
            header = pes_header(pts, dts if dts != pts else None) if timed else pes_header(None, None)
            out += pk.pes(header + body, af if j == 0 else b"")
        new_pes[idx] = out
    result = bytearray()
    for i, p in enumerate(packets(data)):
        pid = ((p[1] & 0x1F) << 8) | p[2]
        if pid == vpid:
            for q in new_pes.get(i, []):
                result += q
        else:
            result += p
    return bytes(result)


def probe(path):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-show_packets", "-show_data_hash",
         "MD5", "-show_entries", "packet=pts,dts,size,flags,data_hash", "-of", "json", path],
        check=True, capture_output=True, text=True).stdout
    return [(p.get("pts"), p.get("dts"), p["size"], p["flags"][0], p["data_hash"])
            for p in json.loads(out)["packets"]]


def check(source, repacked):
    a, b = probe(source), probe(repacked)
    if a != b:
        bad = next(i for i, (x, y) in enumerate(zip(a, b)) if x != y) if len(a) == len(b) else None
        raise SystemExit(f"{repacked}: ffprobe reads {len(b)} video packets, the source {len(a)}; "
                         f"first difference at {bad}")
    print(f"{repacked}: {len(a)} video packets, as ffprobe reads the source")


def segments(data, vpid, count):
    """Cuts a transport stream before PAT packets into `count` pieces of similar size; each cut
    falls just before a video PES whose first bytes are the tail of the access unit before it."""
    pats = [i for i, p in enumerate(packets(data)) if parse_packet(p)[0] == 0]
    n = len(data) // TS
    cuts = []
    for j in range(1, count):
        want = n * j // count
        cuts.append(min(pats, key=lambda i: abs(i - want)))
    cuts = [0] + sorted(set(cuts)) + [n]
    return [data[a * TS:b * TS] for a, b in zip(cuts, cuts[1:])]


def duration_s(seg_path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                          "csv=p=0", seg_path], check=True, capture_output=True, text=True).stdout
    return float(out.strip() or 0)


def make_sources(d):
    ff = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
          "testsrc2=size=192x108:rate=25", "-f", "lavfi", "-i",
          "sine=frequency=440:sample_rate=44100", "-t", "3", "-pix_fmt", "yuv420p"]
    aac = ["-c:a", "aac", "-b:a", "24k", "-ac", "1", "-fflags", "+bitexact", "-f", "mpegts"]
    h264 = os.path.join(d, "src-h264.ts")
    hevc = os.path.join(d, "src-hevc.ts")
    subprocess.run(ff + ["-c:v", "libx264", "-threads", "1", "-preset", "veryfast", "-bf", "2",
                         "-g", "25", "-slices", "2", "-b:v", "100k"] + aac + [h264], check=True)
    subprocess.run(ff + ["-c:v", "libx265", "-x265-params",
                         "bframes=2:keyint=25:min-keyint=25:pools=1:frame-threads=1:log-level=error",
                         "-b:v", "100k"] + aac + [hevc], check=True)
    return h264, hevc


def main():
    if len(sys.argv) == 3:
        data = open(sys.argv[1], "rb").read()
        open(sys.argv[2], "wb").write(repack(data))
        check(sys.argv[1], sys.argv[2])
        return
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "ts")
    os.makedirs(d, exist_ok=True)
    for src in make_sources(d):
        codec = "h264" if "h264" in src else "hevc"
        data = open(src, "rb").read()
        out = os.path.join(d, f"apple{codec}-1764072000.ts")
        open(out, "wb").write(repack(data))
        check(src, out)
    # Access units starting in PES without timestamps (two in a row, one alone): ffprobe gives
    # them none, ffmpeg's remux the previous DTS plus the last step.
    src = os.path.join(d, "src-h264.ts")
    open(os.path.join(d, "appleuntimed-1764072000.ts"), "wb").write(
        repack(open(src, "rb").read(), untimed=(10, 11, 30)))
    # A playlist of re-packetised H.264 segments: access units span the segment boundaries.
    seg_dir = os.path.join(d, "applehls")
    os.makedirs(seg_dir, exist_ok=True)
    data = open(os.path.join(d, "appleh264-1764072000.ts"), "rb").read()
    vpid, _ = video_pid(data)
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2", "#EXT-X-MEDIA-SEQUENCE:0",
             "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-PROGRAM-DATE-TIME:2025-11-25T12:00:00.000Z"]
    for j, seg in enumerate(segments(data, vpid, 3)):
        name = f"seg{j}.ts"
        path = os.path.join(seg_dir, name)
        open(path, "wb").write(seg)
        lines += [f"#EXTINF:{duration_s(path):.3f},", name]
    lines.append("#EXT-X-ENDLIST")
    playlist = os.path.join(seg_dir, "applehls-1764072000.m3u8")
    open(playlist, "w").write("\n".join(lines) + "\n")
    check(os.path.join(d, "src-h264.ts"), playlist)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Adds data PIDs to an MPEG-TS written by ffmpeg (one program, H.264 + AAC), as broadcast and
Apple HLS encoders carry them beside the media:

- PID 0x0102: SCTE-35 (stream_type 0x86, CUEI registration descriptor in the program loop), a splice_insert
  section every second (SCTE 35 §9.7.3), with a correct CRC-32;
- PID 0x0103: timed ID3 (stream_type 0x15, metadata_pointer_descriptor in the program info and
  metadata_descriptor on the stream, both format_identifier 'ID3 ' as Apple writes them), one
  PES (stream_id 0xBD, PTS) with an ID3v2.4 PRIV tag every second;
- with --klv, PID 0x0104: KLV (stream_type 0x06 with a KLVA registration descriptor), one PES
  (stream_id 0xBD) with a small SMPTE 336M universal-label packet every second.

The PMT is rewritten with the new streams (new section, CRC-32/MPEG-2); every media packet is
kept byte for byte. The data packets are inserted before the first TS packet whose PES on the
video PID starts at or after each second.

Usage: ts-add-data.py IN.ts OUT.ts [--klv]
Standard library only.
"""

import struct
import sys

PACKET = 188
SCTE_PID, ID3_PID, KLV_PID = 0x102, 0x103, 0x104


def crc32_mpeg2(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else (crc << 1)
            crc &= 0xFFFFFFFF
    return crc


def section_packets(pid, section, cc):
    """A PSI section (pointer_field 0) in as many packets as it needs, stuffed with 0xFF."""
    payload = b"\x00" + section
    out = []
    first = True
    while payload:
        chunk, payload = payload[:184], payload[184:]
        hdr = struct.pack(">BHB", 0x47, (0x4000 if first else 0) | pid, 0x10 | (cc & 0x0F))
        out.append(hdr + chunk + b"\xff" * (184 - len(chunk)))
        cc += 1
        first = False
    return out, cc


def pes_packets(pid, stream_id, pts, data, cc):
    """A PES with a PTS, split into packets; the last one padded with an adaptation field."""
    pts_bytes = bytes([
        0x21 | ((pts >> 29) & 0x0E),
        (pts >> 22) & 0xFF,
        0x01 | ((pts >> 14) & 0xFE),
        (pts >> 7) & 0xFF,
        0x01 | ((pts << 1) & 0xFE),
    ])
    header = bytes([0x84, 0x80, 5]) + pts_bytes  # data_alignment_indicator, PTS only
    body = header + data
    pes = b"\x00\x00\x01" + bytes([stream_id]) + struct.pack(">H", len(body)) + body
    out = []
    first = True
    while pes:
        room = 184
        chunk = pes[:room]
        pes = pes[len(chunk):]
        pusi = 0x4000 if first else 0
        if len(chunk) < 184:
            stuff = 184 - len(chunk)
            if stuff == 1:
                af = b"\x00"
            else:
                af = bytes([stuff - 1, 0x00]) + b"\xff" * (stuff - 2)
            hdr = struct.pack(">BHB", 0x47, pusi | pid, 0x30 | (cc & 0x0F))
            out.append(hdr + af + chunk)
        else:
            hdr = struct.pack(">BHB", 0x47, pusi | pid, 0x10 | (cc & 0x0F))
            out.append(hdr + chunk)
        cc += 1
        first = False
    return out, cc


def splice_insert(event_id, pts):
    """splice_info_section with a splice_insert (out of network, 30 s break) at `pts`."""
    cmd = struct.pack(">IB", event_id, 0x7F)  # splice_event_id, cancel 0 + reserved
    # out_of_network 1, program_splice 1, duration 1, immediate 0, reserved
    cmd += bytes([0xEF])
    cmd += bytes([0xFE | ((pts >> 32) & 1)]) + struct.pack(">I", pts & 0xFFFFFFFF)  # splice_time
    dur = 30 * 90000
    cmd += bytes([0xFE | ((dur >> 32) & 1)]) + struct.pack(">I", dur & 0xFFFFFFFF)  # break_duration
    cmd += struct.pack(">HBB", event_id & 0xFFFF, 0, 0)  # unique_program_id, avail_num, expected
    body = bytes([0x00])  # protocol_version
    body += bytes([0x00, 0, 0, 0, 0])  # encrypted 0, algorithm 0, pts_adjustment 0
    body += bytes([0x00])  # cw_index
    # tier 0xFFF (12 bits) + splice_command_length (12 bits)
    tier_len = (0xFFF << 12) | len(cmd)
    body += struct.pack(">I", tier_len)[1:]
    body += bytes([0x05]) + cmd  # splice_command_type splice_insert
    body += struct.pack(">H", 0)  # descriptor_loop_length
    length = len(body) + 4
    sec = bytes([0xFC]) + struct.pack(">H", 0x3000 | length) + body
    return sec + struct.pack(">I", crc32_mpeg2(sec))


def id3_tag(n):
    """ID3v2.4 with one PRIV frame (owner com.apple.streaming.transportStreamTimestamp style)."""
    owner = b"com.kls-rec.test\x00"
    frame_data = owner + struct.pack(">Q", n)
    frame = b"PRIV" + syncsafe(len(frame_data)) + b"\x00\x00" + frame_data
    return b"ID3\x04\x00\x00" + syncsafe(len(frame)) + frame


def syncsafe(n):
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def klv_packet(n):
    key = bytes.fromhex("060e2b34020b01010e01030101000000")  # UAS local set key
    value = bytes([0x02, 0x08]) + struct.pack(">Q", 1764072000000000 + n * 1000000)
    return key + bytes([len(value)]) + value


def parse_pmt(section):
    """(program_number, PCR PID, program descriptors, [(type, pid, descriptors)])."""
    program = struct.unpack(">H", section[3:5])[0]
    pcr = struct.unpack(">H", section[8:10])[0] & 0x1FFF
    info_len = struct.unpack(">H", section[10:12])[0] & 0x0FFF
    info = section[12:12 + info_len]
    rest = section[12 + info_len:-4]
    streams = []
    while len(rest) >= 5:
        es_len = struct.unpack(">H", rest[3:5])[0] & 0x0FFF
        streams.append((rest[0], struct.unpack(">H", rest[1:3])[0] & 0x1FFF, rest[5:5 + es_len]))
        rest = rest[5 + es_len:]
    return program, pcr, info, streams


def build_pmt(program, pcr, info, streams, version):
    body = struct.pack(">H", 0xE000 | pcr) + struct.pack(">H", 0xF000 | len(info)) + info
    for st, pid, desc in streams:
        body += bytes([st]) + struct.pack(">HH", 0xE000 | pid, 0xF000 | len(desc)) + desc
    head = struct.pack(">H", program) + bytes([0xC1 | (version << 1), 0, 0])
    length = len(head) + len(body) + 4
    sec = bytes([0x02]) + struct.pack(">H", 0xB000 | length) + head + body
    return sec + struct.pack(">I", crc32_mpeg2(sec))


def read_pts(pes):
    if len(pes) < 14 or pes[:3] != b"\x00\x00\x01" or not pes[7] & 0x80:
        return None
    p = pes[9:14]
    return (((p[0] >> 1) & 7) << 30) | (p[1] << 22) | ((p[2] >> 1) << 15) | (p[3] << 7) | (p[4] >> 1)


def payload(pkt):
    afc = (pkt[3] >> 4) & 3
    if afc == 1:
        return pkt[4:]
    if afc == 3:
        return pkt[5 + pkt[4]:]
    return b""


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    klv = "--klv" in sys.argv
    if len(args) != 2:
        sys.exit(__doc__)
    data = open(args[0], "rb").read()
    packets = [data[i:i + PACKET] for i in range(0, len(data) - PACKET + 1, PACKET)]
    pmt_pid = None
    video_pid = None
    new_pmt = None
    out = []
    cc = {"pmt": 0, SCTE_PID: 0, ID3_PID: 0, KLV_PID: 0}
    next_second = None
    n = 0
    for pkt in packets:
        pid = struct.unpack(">H", pkt[1:3])[0] & 0x1FFF
        pusi = bool(pkt[1] & 0x40)
        if pid == 0 and pmt_pid is None:
            pl = payload(pkt)
            sec = pl[1 + pl[0]:]
            pmt_pid = struct.unpack(">H", sec[10:12])[0] & 0x1FFF
        if pid == pmt_pid and pmt_pid is not None:
            if new_pmt is None:
                pl = payload(pkt)
                sec = pl[1 + pl[0]:]
                length = struct.unpack(">H", sec[1:3])[0] & 0x0FFF
                program, pcr, info, streams = parse_pmt(sec[:3 + length])
                video_pid = next(p for st, p, _ in streams if st == 0x1B)
                # metadata_pointer_descriptor (tag 0x25): format 'ID3 ', service 0, program.
                # format 0xFFFF 'ID3 ', metadata_format 0xFF 'ID3 ', service 0, program.
                info += bytes([0x25, 15, 0xFF, 0xFF]) + b"ID3 " + b"\xffID3 " + \
                    bytes([0x00, 0x1F]) + struct.pack(">H", program)
                # SCTE 35 §8.1: the CUEI registration_descriptor is in the program loop.
                info += bytes([0x05, 4]) + b"CUEI"
                streams = list(streams)
                streams.append((0x86, SCTE_PID, b""))
                # metadata_descriptor (tag 0x26): format 'ID3 ', service 0, decoder_config 0.
                id3 = bytes([0x26, 13, 0xFF, 0xFF]) + b"ID3 " + b"\xffID3 " + bytes([0x00, 0x0F])
                streams.append((0x15, ID3_PID, id3))
                if klv:
                    streams.append((0x06, KLV_PID, bytes([0x05, 4]) + b"KLVA"))
                new_pmt = build_pmt(program, pcr, info, streams, 1)
            pkts, cc["pmt"] = section_packets(pmt_pid, new_pmt, cc["pmt"])
            out.extend(pkts)
            continue
        if pid == video_pid and pusi:
            pts = read_pts(payload(pkt))
            if pts is not None:
                if next_second is None:
                    next_second = pts
                if pts >= next_second:
                    pkts, cc[SCTE_PID] = section_packets(
                        SCTE_PID, splice_insert(100 + n, pts + 2 * 90000), cc[SCTE_PID])
                    out.extend(pkts)
                    pkts, cc[ID3_PID] = pes_packets(ID3_PID, 0xBD, pts, id3_tag(n), cc[ID3_PID])
                    out.extend(pkts)
                    if klv:
                        pkts, cc[KLV_PID] = pes_packets(KLV_PID, 0xFC, pts, klv_packet(n), cc[KLV_PID])
                        out.extend(pkts)
                    n += 1
                    next_second = pts + 90000
        out.append(pkt)
    open(args[1], "wb").write(b"".join(out))


if __name__ == "__main__":
    main()

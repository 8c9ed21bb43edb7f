#!/usr/bin/env python3
"""Makes a capture holding many pushes from the committed one, for the capture benchmark.

    scripts/gen-capture-fleet.py [--copies N] [--stagger-ms MS] [SOURCE.pcap] OUT.pcap

SOURCE (default testdata/capture/cam.pcap, Ethernet, IPv4) holds two RTMP pushes; each copy
replays its packets with each client port replaced by a fresh one (20000, 20001, ...: every
copy's connections are connections of their own) and its times moved by copy * MS, and the copies' records are merged in time order, so
the pushes overlap the way a busy ingest's do. IP and TCP checksums are recomputed. 25 copies
(the default) give 50 pushes. Standard library only.
"""
import argparse
import heapq
import struct


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def read_pcap(path):
    with open(path, "rb") as f:
        head = f.read(24)
        magic = struct.unpack("<I", head[:4])[0]
        if magic != 0xA1B2C3D4:
            raise SystemExit(f"{path}: a little-endian microsecond pcap is expected")
        records = []
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                break
            sec, usec, incl, orig = struct.unpack("<IIII", rh)
            records.append((sec * 1_000_000 + usec, orig, f.read(incl)))
    return head, records


def rewrite(frame, server_ports, port_of):
    """The frame with its client port (the one not in server_ports) replaced by port_of(port)."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return frame
    b = bytearray(frame)
    ihl = (b[14] & 0x0F) * 4
    ip, tcp = 14, 14 + ihl
    sport, dport = struct.unpack("!HH", b[tcp : tcp + 4])
    if sport in server_ports:
        struct.pack_into("!H", b, tcp + 2, port_of(dport))
    else:
        struct.pack_into("!H", b, tcp, port_of(sport))
    total = struct.unpack("!H", b[ip + 2 : ip + 4])[0]
    struct.pack_into("!H", b, ip + 10, 0)
    struct.pack_into("!H", b, ip + 10, checksum(bytes(b[ip:tcp])))
    seg = bytes(b[tcp : ip + total])
    pseudo = bytes(b[ip + 12 : ip + 20]) + struct.pack("!BBH", 0, 6, len(seg))
    struct.pack_into("!H", b, tcp + 16, 0)
    seg = bytes(b[tcp : ip + total])
    struct.pack_into("!H", b, tcp + 16, checksum(pseudo + seg))
    return bytes(b)


def server_ports(records):
    """Ports that receive a SYN without ACK: the servers'."""
    ports = set()
    for _, _, frame in records:
        if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
            continue
        tcp = 14 + (frame[14] & 0x0F) * 4
        flags = frame[tcp + 13]
        if flags & 0x02 and not flags & 0x10:
            ports.add(struct.unpack("!H", frame[tcp + 2 : tcp + 4])[0])
    return ports


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=25)
    ap.add_argument("--stagger-ms", type=int, default=400)
    ap.add_argument("source", nargs="?", default="testdata/capture/cam.pcap")
    ap.add_argument("out")
    a = ap.parse_args()
    head, records = read_pcap(a.source)
    servers = server_ports(records)

    fresh = {}

    def copy(i):
        def port_of(port):
            return fresh.setdefault((i, port), 20000 + len(fresh))

        for t, orig, frame in records:
            yield t + i * a.stagger_ms * 1000, i, orig, rewrite(frame, servers, port_of)

    with open(a.out, "wb") as out:
        out.write(head)
        for t, _, orig, frame in heapq.merge(*(copy(i) for i in range(a.copies))):
            out.write(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(frame), orig))
            out.write(frame)


if __name__ == "__main__":
    main()

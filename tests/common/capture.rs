//! Committed pcap captures taken apart and put back together, segments reordered, repeated or
//! dropped, to check TCP reassembly end to end.

use std::path::Path;

/// A pcap record of a committed capture (little-endian, microseconds, Ethernet + IPv4).
#[derive(Clone)]
pub struct Record {
    pub bytes: Vec<u8>,
    /// (source port, destination port) and whether it carries a TCP payload without SYN, FIN
    /// or RST: only those are moved, dropped or repeated.
    pub flow: (u16, u16),
    pub movable: bool,
}

pub fn read_capture(path: &Path) -> (Vec<u8>, Vec<Record>) {
    let data = std::fs::read(path).unwrap();
    assert_eq!(data[..4], [0xd4, 0xc3, 0xb2, 0xa1]);
    let header = data[..24].to_vec();
    let mut records = Vec::new();
    let mut pos = 24;
    while pos + 16 <= data.len() {
        let caplen = u32::from_le_bytes(data[pos + 8..pos + 12].try_into().unwrap()) as usize;
        let bytes = data[pos..pos + 16 + caplen].to_vec();
        let frame = &bytes[16..];
        let ip = &frame[14..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let ip_len = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        let tcp = &ip[ihl..];
        let flow = (
            u16::from_be_bytes([tcp[0], tcp[1]]),
            u16::from_be_bytes([tcp[2], tcp[3]]),
        );
        let payload = ip_len - ihl - usize::from(tcp[12] >> 4) * 4;
        let control = tcp[13] & 0x07 != 0;
        records.push(Record {
            bytes,
            flow,
            movable: payload > 0 && !control,
        });
        pos += 16 + caplen;
    }
    (header, records)
}

pub fn write_capture(path: &Path, header: &[u8], records: &[Record]) {
    let mut out = header.to_vec();
    for r in records {
        out.extend_from_slice(&r.bytes);
    }
    std::fs::write(path, out).unwrap();
}

/// Runs of consecutive movable records of one flow.
pub fn runs(records: &[Record]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 0..=records.len() {
        let breaks = i == records.len()
            || !records[i].movable
            || (i > start && records[i].flow != records[start].flow);
        if breaks {
            if i > start {
                out.push(start..i);
            }
            start = if i < records.len() && records[i].movable {
                i
            } else {
                i + 1
            };
        }
    }
    out
}

/// Every window of 5 segments of each run reversed (each delivered up to 4 segments late),
/// every seventh data segment repeated at once and every eleventh 3 records earlier; and how
/// many segments moved.
pub fn mangle(records: &[Record]) -> (Vec<Record>, usize) {
    let mut shuffled = records.to_vec();
    let mut moved = 0;
    for run in runs(records) {
        for w in shuffled[run].chunks_mut(5) {
            w.reverse();
            moved += w.len();
        }
    }
    let mut mangled = Vec::new();
    for (i, r) in shuffled.into_iter().enumerate() {
        mangled.push(r.clone());
        if r.movable && i % 7 == 0 {
            mangled.push(r.clone());
        }
        if r.movable && i % 11 == 0 {
            let at = mangled.len().saturating_sub(3);
            mangled.insert(at, r);
        }
    }
    (mangled, moved)
}

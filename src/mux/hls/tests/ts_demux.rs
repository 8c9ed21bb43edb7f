//! A test-only MPEG-TS reader (ISO/IEC 13818-1) that also checks what the writer promises:
//! packet framing, PAT+PMT opening each segment, continuity counters per PID, monotonic PCRs.

use std::collections::HashMap;

pub(crate) struct Pes {
    pub(crate) pid: u16,
    pub(crate) pts_90k: i64,
    pub(crate) dts_90k: i64,
    pub(crate) random_access: bool,
    pub(crate) segment: usize,
    pub(crate) data: Vec<u8>,
}

#[derive(Default)]
pub(crate) struct Demuxed {
    pub(crate) pes: Vec<Pes>,
    /// (segment, PCR base) in stream order.
    pub(crate) pcrs: Vec<(usize, i64)>,
    /// (stream_type, PID) from the last PMT.
    pub(crate) streams: Vec<(u8, u16)>,
    pub(crate) pcr_pid: u16,
}

fn timestamp(b: &[u8]) -> i64 {
    let b = |i: usize| i64::from(b[i]);
    ((b(0) >> 1) & 7) << 30 | b(1) << 22 | (b(2) >> 1) << 15 | b(3) << 7 | b(4) >> 1
}

fn finish_pes(out: &mut Demuxed, pid: u16, seg: usize, rai: bool, bytes: &[u8]) {
    assert_eq!(&bytes[..3], &[0, 0, 1], "PES start code on PID {pid:#x}");
    let declared = usize::from(u16::from_be_bytes([bytes[4], bytes[5]]));
    if declared != 0 {
        assert_eq!(
            declared,
            bytes.len() - 6,
            "PES_packet_length on PID {pid:#x}"
        );
    }
    let flags = bytes[7];
    let header_len = usize::from(bytes[8]);
    assert!(flags & 0x80 != 0, "PES without PTS");
    let pts = timestamp(&bytes[9..14]);
    let dts = if flags & 0x40 != 0 {
        timestamp(&bytes[14..19])
    } else {
        pts
    };
    out.pes.push(Pes {
        pid,
        pts_90k: pts,
        dts_90k: dts,
        random_access: rai,
        segment: seg,
        data: bytes[9 + header_len..].to_vec(),
    });
}

pub(crate) fn demux(segments: &[Vec<u8>]) -> Demuxed {
    let mut out = Demuxed::default();
    let mut cc: HashMap<u16, u8> = HashMap::new();
    // PID → (segment, random access, bytes) of the PES being gathered.
    let mut open: HashMap<u16, (usize, bool, Vec<u8>)> = HashMap::new();
    for (seg, bytes) in segments.iter().enumerate() {
        assert_eq!(bytes.len() % 188, 0, "segment {seg} is not whole packets");
        for (i, p) in bytes.chunks(188).enumerate() {
            assert_eq!(p[0], 0x47, "sync byte, segment {seg} packet {i}");
            let pid = u16::from_be_bytes([p[1] & 0x1F, p[2]]);
            let pusi = p[1] & 0x40 != 0;
            let afc = (p[3] >> 4) & 3;
            let counter = p[3] & 0x0F;
            if i == 0 {
                assert_eq!(pid, 0, "segment {seg} starts with the PAT");
            }
            if i == 1 {
                assert_eq!(pid, 0x1000, "segment {seg} continues with the PMT");
            }
            match (cc.get(&pid), afc & 1 != 0) {
                (Some(&last), true) => assert_eq!(counter, (last + 1) & 15, "CC on {pid:#x}"),
                (Some(&last), false) => assert_eq!(counter, last, "CC of AF-only on {pid:#x}"),
                (None, true) => assert_eq!(counter, 0),
                (None, false) => {}
            }
            if afc & 1 != 0 || cc.contains_key(&pid) {
                cc.insert(pid, counter);
            }
            let mut at = 4;
            let mut rai = false;
            if afc & 2 != 0 {
                let len = usize::from(p[4]);
                if len > 0 {
                    rai = p[5] & 0x40 != 0;
                    if p[5] & 0x10 != 0 {
                        let b = |k: usize| i64::from(p[6 + k]);
                        let base = b(0) << 25 | b(1) << 17 | b(2) << 9 | b(3) << 1 | b(4) >> 7;
                        assert_eq!(pid, out.pcr_pid, "PCR only on the PCR PID");
                        if let Some(&(_, last)) = out.pcrs.last() {
                            assert!(base >= last, "PCR went back {last} -> {base}");
                        }
                        out.pcrs.push((seg, base));
                    }
                }
                at = 5 + len;
            }
            if afc & 1 == 0 {
                continue;
            }
            let payload = &p[at..];
            match pid {
                0 => {
                    assert!(pusi);
                    let s = &payload[1..];
                    assert_eq!(s[0], 0);
                    assert_eq!(&s[8..12], &[0x00, 0x01, 0xF0, 0x00]);
                }
                0x1000 => {
                    let s = &payload[1..];
                    assert_eq!(s[0], 2);
                    let len = usize::from(u16::from_be_bytes([s[1] & 0x0F, s[2]]));
                    out.pcr_pid = u16::from_be_bytes([s[8] & 0x1F, s[9]]);
                    out.streams.clear();
                    let mut k = 12;
                    while k + 5 <= 3 + len - 4 {
                        out.streams
                            .push((s[k], u16::from_be_bytes([s[k + 1] & 0x1F, s[k + 2]])));
                        k += 5;
                    }
                }
                _ => {
                    if pusi {
                        if let Some((s, r, b)) = open.remove(&pid) {
                            finish_pes(&mut out, pid, s, r, &b);
                        }
                        open.insert(pid, (seg, rai, payload.to_vec()));
                    } else {
                        open.get_mut(&pid)
                            .expect("continuation without a start")
                            .2
                            .extend_from_slice(payload);
                    }
                }
            }
        }
    }
    let mut rest: Vec<_> = open.into_iter().collect();
    rest.sort_by_key(|(pid, _)| *pid);
    for (pid, (s, r, b)) in rest {
        finish_pes(&mut out, pid, s, r, &b);
    }
    out
}

/// The NAL units of an Annex B byte stream (3- or 4-byte start codes).
pub(crate) fn annexb_nals(data: &[u8]) -> Vec<Vec<u8>> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i..i + 3] == [0, 0, 1] {
            starts.push((i, i + 3));
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut nals = Vec::new();
    for (k, &(_, begin)) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(data.len(), |s| s.0);
        // A 4-byte start code's zero_byte belongs to the start code, not to this NAL unit.
        if k + 1 < starts.len() && end > begin && data[end - 1] == 0 {
            end -= 1;
        }
        nals.push(data[begin..end].to_vec());
    }
    nals
}

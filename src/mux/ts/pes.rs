//! PES packets (ISO/IEC 13818-1 §2.4.3.6) and their carriage in transport packets (§2.4.3.2),
//! with the adaptation field (§2.4.3.4) carrying the PCR, the random_access_indicator and the
//! stuffing that fills the last packet of a PES.

use std::io::{self, Write};

use crate::container::ts::{
    AF_PCR, AF_RANDOM_ACCESS, PACKET_BODY_LEN as BODY_LEN, PACKET_LEN, PES_START_CODE, PREFIX_DTS,
    PREFIX_PTS, PREFIX_PTS_ONLY, PacketHeader, WRAP_90K, pcr_bytes, timestamp_bytes,
};

/// Longest PES header [`pes_header`] writes: 9 bytes, PTS and DTS.
pub(crate) const MAX_HEADER_LEN: usize = 19;

/// Appends a PES header for one access unit to `out`. `pts_90k`/`dts_90k` are taken modulo 2^33;
/// DTS is written only when it differs from PTS (§2.4.3.7: PTS_DTS_flags '10' or '11').
/// `pes_len` is the PES_packet_length: the bytes after that field, or 0 for "unbounded", which
/// §2.4.3.7 allows for video elementary streams only.
pub(crate) fn pes_header(
    out: &mut Vec<u8>,
    stream_id: u8,
    pts_90k: i64,
    dts_90k: i64,
    es_len: usize,
    bounded: bool,
) -> io::Result<()> {
    let pts = pts_90k.rem_euclid(WRAP_90K);
    let dts = dts_90k.rem_euclid(WRAP_90K);
    let with_dts = pts != dts;
    let header_data_len: u8 = if with_dts { 10 } else { 5 };
    let pes_len = if bounded {
        // 3 bytes of flags and header_data_length precede the optional fields.
        let n = 3 + usize::from(header_data_len) + es_len;
        u16::try_from(n).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("PES_packet_length: {n} bytes exceed 65535 for stream_id {stream_id:#04x}"),
            )
        })?
    } else {
        0
    };
    out.extend_from_slice(&PES_START_CODE);
    out.push(stream_id);
    out.extend_from_slice(&pes_len.to_be_bytes()); // PES_packet_length
    // '10', scrambling 00, priority 0, data_alignment_indicator 1 (each PES starts an access
    // unit), copyright 0, original_or_copy 0.
    out.push(0x84);
    out.push(if with_dts { 0xC0 } else { 0x80 }); // PTS_DTS_flags, no other optional fields
    out.push(header_data_len); // PES_header_data_length
    let prefix = if with_dts {
        PREFIX_PTS
    } else {
        PREFIX_PTS_ONLY
    };
    out.extend_from_slice(&timestamp_bytes(prefix, pts));
    if with_dts {
        out.extend_from_slice(&timestamp_bytes(PREFIX_DTS, dts));
    }
    Ok(())
}

/// What the first transport packet of a PES announces in its adaptation field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct FirstPacket {
    /// PCR base (90 kHz, taken modulo 2^33); the 27 MHz extension is always 0.
    pub(crate) pcr_base_90k: Option<i64>,
    /// random_access_indicator: the PES starts a keyframe (§2.4.3.5).
    pub(crate) random_access: bool,
}

/// Splits one whole PES, given as its header and its payload (`parts`, so neither is copied
/// into one buffer first), into transport packets on `pid`, written to `out`. `cc` holds the
/// PID's last continuity_counter and is advanced for each packet (every packet here has a
/// payload).
pub(crate) fn write_pes(
    out: &mut impl Write,
    pid: u16,
    cc: &mut u8,
    parts: [&[u8]; 2],
    first: FirstPacket,
) -> io::Result<()> {
    let [mut head, mut body] = parts;
    let mut is_first = true;
    loop {
        let mut p = [0xFFu8; PACKET_LEN];
        *cc = (*cc + 1) & 0x0F;
        // Adaptation field bytes this packet needs before stuffing: length + flags (+ PCR).
        let (pcr, rai) = if is_first {
            (first.pcr_base_90k, first.random_access)
        } else {
            (None, false)
        };
        let af_min = match (pcr.is_some(), rai) {
            (true, _) => 8,
            (false, true) => 2,
            (false, false) => 0,
        };
        let payload_len = (head.len() + body.len()).min(BODY_LEN - af_min);
        let af_len = BODY_LEN - payload_len; // stuffing grows the field to fill the packet
        let header = PacketHeader {
            pid,
            unit_start: is_first,
            adaptation_field: af_len > 0,
            payload: true,
            continuity_counter: *cc,
        };
        p[..4].copy_from_slice(&header.bytes());
        if af_len > 0 {
            p[4] = (af_len - 1) as u8; // adaptation_field_length (0: a single stuffing byte)
            if af_len > 1 {
                // discontinuity 0, random_access_indicator, priority 0, PCR_flag, others 0
                p[5] = (if rai { AF_RANDOM_ACCESS } else { 0 })
                    | (if pcr.is_some() { AF_PCR } else { 0 });
                if let Some(base) = pcr {
                    p[6..12].copy_from_slice(&pcr_bytes(base));
                }
            }
        }
        // The payload: what is left of the header, then of the body.
        let from_head = head.len().min(payload_len);
        let at = 4 + af_len;
        p[at..at + from_head].copy_from_slice(&head[..from_head]);
        p[at + from_head..].copy_from_slice(&body[..payload_len - from_head]);
        out.write_all(&p)?;
        head = &head[from_head..];
        body = &body[payload_len - from_head..];
        is_first = false;
        if head.is_empty() && body.is_empty() {
            return Ok(());
        }
    }
}

/// A packet with only an adaptation field carrying a PCR (§2.4.3.3: no payload, so the
/// continuity_counter repeats the PID's last one instead of advancing).
pub(crate) fn pcr_only_packet(pid: u16, cc: u8, pcr_base_90k: i64) -> [u8; PACKET_LEN] {
    let mut p = [0xFFu8; PACKET_LEN];
    let header = PacketHeader {
        pid,
        unit_start: false,
        adaptation_field: true,
        payload: false,
        continuity_counter: cc,
    };
    p[..4].copy_from_slice(&header.bytes());
    p[4] = (BODY_LEN - 1) as u8; // adaptation_field_length: the whole packet
    p[5] = AF_PCR;
    p[6..12].copy_from_slice(&pcr_bytes(pcr_base_90k));
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ts(bytes: &[u8]) -> i64 {
        let b = |i: usize| i64::from(bytes[i]);
        ((b(0) >> 1) & 7) << 30 | b(1) << 22 | (b(2) >> 1) << 15 | b(3) << 7 | b(4) >> 1
    }

    #[test]
    fn header_with_and_without_dts() {
        let mut h = Vec::new();
        pes_header(&mut h, 0xE0, 126_000 + 7200, 126_000, 100, false).unwrap();
        assert_eq!(&h[..9], &[0, 0, 1, 0xE0, 0, 0, 0x84, 0xC0, 10]);
        assert_eq!(h[9] >> 4, 0b0011);
        assert_eq!(parse_ts(&h[9..14]), 133_200);
        assert_eq!(h[14] >> 4, 0b0001);
        assert_eq!(parse_ts(&h[14..19]), 126_000);

        let mut h = Vec::new();
        pes_header(&mut h, 0xC0, 5, 5, 100, true).unwrap();
        assert_eq!(&h[..9], &[0, 0, 1, 0xC0, 0, 108, 0x84, 0x80, 5]);
        assert_eq!(parse_ts(&h[9..14]), 5);
    }

    #[test]
    fn timestamps_wrap_at_33_bits() {
        let mut h = Vec::new();
        pes_header(&mut h, 0xC0, WRAP_90K + 42, WRAP_90K + 42, 1, true).unwrap();
        assert_eq!(parse_ts(&h[9..14]), 42);
        let mut h = Vec::new();
        pes_header(&mut h, 0xC0, -1, -1, 1, true).unwrap();
        assert_eq!(parse_ts(&h[9..14]), WRAP_90K - 1);
        assert_eq!(pcr_bytes(WRAP_90K + 1), pcr_bytes(1));
    }

    #[test]
    fn oversized_bounded_pes_is_an_error() {
        let mut h = Vec::new();
        let e = pes_header(&mut h, 0xC0, 0, 0, 70_000, true).unwrap_err();
        assert!(e.to_string().contains("PES_packet_length"));
    }

    /// payload_unit_start, continuity_counter, adaptation field, payload.
    type Parsed = (bool, u8, Vec<u8>, Vec<u8>);

    /// Splits output into packets, checking framing.
    fn packets(ts: &[u8]) -> Vec<Parsed> {
        assert_eq!(ts.len() % PACKET_LEN, 0);
        ts.chunks(PACKET_LEN)
            .map(|p| {
                assert_eq!(p[0], 0x47);
                let afc = (p[3] >> 4) & 3;
                let (af, payload) = if afc & 2 != 0 {
                    let n = 1 + usize::from(p[4]);
                    (p[4..4 + n].to_vec(), p[4 + n..].to_vec())
                } else {
                    (Vec::new(), p[4..].to_vec())
                };
                (p[1] & 0x40 != 0, p[3] & 0x0F, af, payload)
            })
            .collect()
    }

    #[test]
    fn splits_and_stuffs_every_length() {
        for len in [1usize, 175, 176, 182, 183, 184, 185, 367, 368, 1000] {
            for first in [
                FirstPacket::default(),
                FirstPacket {
                    pcr_base_90k: Some(63_000),
                    random_access: true,
                },
                FirstPacket {
                    pcr_base_90k: None,
                    random_access: true,
                },
            ] {
                let pes: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let mut out = Vec::new();
                let mut cc = 15;
                write_pes(
                    &mut out,
                    0x100,
                    &mut cc,
                    [&pes[..len.min(7)], &pes[len.min(7)..]],
                    first,
                )
                .unwrap();
                let pk = packets(&out);
                let joined: Vec<u8> = pk.iter().flat_map(|p| p.3.clone()).collect();
                assert_eq!(joined, pes, "len {len} {first:?}");
                assert!(pk[0].0 && pk[1..].iter().all(|p| !p.0));
                for (i, p) in pk.iter().enumerate() {
                    assert_eq!(usize::from(p.1), i % 16);
                    assert!(!p.3.is_empty());
                    // Stuffing only in the last packet.
                    if i + 1 < pk.len() && i > 0 {
                        assert!(p.2.is_empty());
                    }
                }
                let af0 = &pk[0].2;
                if first.random_access {
                    assert_eq!(af0[1] & 0x40, 0x40);
                }
                if first.pcr_base_90k.is_some() {
                    assert_eq!(af0[1] & 0x10, 0x10);
                    assert_eq!(&af0[2..8], &pcr_bytes(63_000));
                }
                assert_eq!(usize::from(cc), (pk.len() - 1) % 16);
            }
        }
    }

    #[test]
    fn pcr_only_packet_layout() {
        let p = pcr_only_packet(0x101, 7, 90_000);
        assert_eq!(&p[..6], &[0x47, 0x01, 0x01, 0x27, 183, 0x10]);
        assert_eq!(&p[6..12], &pcr_bytes(90_000));
        assert!(p[12..].iter().all(|&b| b == 0xFF));
    }
}

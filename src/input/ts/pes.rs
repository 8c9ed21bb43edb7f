//! PES packets (ISO/IEC 13818-1 §2.4.3.6–2.4.3.7): reassembled from the payloads of one PID,
//! from one payload_unit_start to the next (PES_packet_length 0, as video uses, is allowed), and
//! their headers read for PTS/DTS.

use crate::container::ts::{PES_START_CODE, parse_timestamp};

/// Largest PES kept: far above any real access unit, and a bound on memory for hostile input.
pub(crate) const MAX_PES_BYTES: usize = 32 << 20;

/// A complete PES packet's timing and elementary stream bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pes {
    /// File offset of the packet that started it.
    pub(crate) offset: u64,
    pub(crate) stream_id: u8,
    /// 33-bit values as carried.
    pub(crate) pts: Option<u64>,
    pub(crate) dts: Option<u64>,
    /// random_access_indicator of its first packet.
    pub(crate) random_access: bool,
    pub(crate) data: Vec<u8>,
}

/// Collects one PID's payloads into PES packets.
#[derive(Debug, Default)]
pub(crate) struct PesAssembler {
    buf: Vec<u8>,
    offset: u64,
    random_access: bool,
    active: bool,
    /// Bytes dropped because the PES outgrew [`MAX_PES_BYTES`].
    overflow: bool,
}

/// What a payload completed.
pub(crate) enum Assembled {
    Pes(Pes),
    /// A PES that could not be read; the message names the problem, the offset where it began.
    Bad {
        offset: u64,
        what: String,
    },
}

impl PesAssembler {
    /// Adds one packet's payload; returns the PES it completes, if any (the previous one when
    /// this payload starts a new unit, or this one when its bounded length is reached).
    pub(crate) fn push(
        &mut self,
        payload: &[u8],
        unit_start: bool,
        random_access: bool,
        offset: u64,
    ) -> Option<Assembled> {
        let mut done = None;
        if unit_start {
            done = self.finish();
            self.active = true;
            self.offset = offset;
            self.random_access = random_access;
        } else if !self.active {
            // The continuation of a PES whose start was lost: nothing to attach it to.
            return None;
        }
        if self.buf.len() + payload.len() > MAX_PES_BYTES {
            self.overflow = true;
        } else {
            self.buf.extend_from_slice(payload);
        }
        if done.is_none() && self.bounded_complete() {
            done = self.finish();
        }
        done
    }

    /// The elementary stream bytes gathered so far of the PES in progress, once its header is
    /// complete (the first bytes of the next PES, when the previous one was just completed).
    pub(crate) fn peek_es(&self) -> Option<&[u8]> {
        if !self.active || self.buf.len() < 9 || self.buf[..3] != [0, 0, 1] {
            return None;
        }
        self.buf.get(9 + usize::from(self.buf[8])..)
    }

    /// Whether a PES with a PES_packet_length has all its bytes.
    fn bounded_complete(&self) -> bool {
        match self.buf.get(4..6) {
            Some(l) => {
                let len = usize::from(u16::from_be_bytes([l[0], l[1]]));
                len != 0 && self.buf.len() >= 6 + len
            }
            None => false,
        }
    }

    /// Completes the PES being gathered, if any (at the end of the input, or on a new start).
    pub(crate) fn finish(&mut self) -> Option<Assembled> {
        if !self.active {
            return None;
        }
        self.active = false;
        let buf = std::mem::take(&mut self.buf);
        if std::mem::take(&mut self.overflow) {
            return Some(Assembled::Bad {
                offset: self.offset,
                what: format!("PES packet over {MAX_PES_BYTES} bytes"),
            });
        }
        Some(match parse(buf, self.offset, self.random_access) {
            Ok(p) => Assembled::Pes(p),
            Err(what) => Assembled::Bad {
                offset: self.offset,
                what,
            },
        })
    }
}

/// §2.4.3.7 PES header: start code, stream_id, length, optional header with PTS/DTS.
fn parse(mut buf: Vec<u8>, offset: u64, random_access: bool) -> Result<Pes, String> {
    if buf.len() < 9 || buf[..3] != PES_START_CODE {
        return Err("PES packet without packet_start_code_prefix".into());
    }
    let stream_id = buf[3];
    let len = usize::from(u16::from_be_bytes([buf[4], buf[5]]));
    let end = if len == 0 { buf.len() } else { 6 + len };
    if end > buf.len() {
        return Err(format!(
            "PES packet cut short: PES_packet_length {len}, {} bytes present",
            buf.len() - 6
        ));
    }
    if buf[6] & 0xC0 != 0x80 {
        return Err(format!(
            "PES stream 0x{stream_id:02x} without the optional PES header"
        ));
    }
    let flags = buf[7] >> 6;
    let header_len = usize::from(buf[8]);
    let data_start = 9 + header_len;
    if data_start > end {
        return Err(format!(
            "PES_header_data_length {header_len} past the packet"
        ));
    }
    let ts = |at: usize| -> Result<u64, String> {
        let b = buf
            .get(at..at + 5)
            .filter(|_| at + 5 <= data_start)
            .ok_or("PTS/DTS past the PES header")?;
        Ok(parse_timestamp(&[b[0], b[1], b[2], b[3], b[4]]))
    };
    let (pts, dts) = match flags {
        0b10 => (Some(ts(9)?), None),
        0b11 => (Some(ts(9)?), Some(ts(14)?)),
        _ => (None, None),
    };
    buf.truncate(end);
    buf.drain(..data_start);
    Ok(Pes {
        offset,
        stream_id,
        pts,
        dts,
        random_access,
        data: buf,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pes(pts: u64, dts: Option<u64>, data: &[u8], bounded: bool) -> Vec<u8> {
        let mut h = Vec::new();
        let body_len = 3 + if dts.is_some() { 10 } else { 5 } + data.len();
        h.extend([0, 0, 1, 0xE0]);
        h.extend((if bounded { body_len as u16 } else { 0 }).to_be_bytes());
        h.push(0x84);
        h.push(if dts.is_some() { 0xC0 } else { 0x80 });
        h.push(if dts.is_some() { 10 } else { 5 });
        let enc = |marker: u8, t: u64| {
            [
                (marker << 4) | (((t >> 30) as u8 & 7) << 1) | 1,
                (t >> 22) as u8,
                (((t >> 15) as u8) << 1) | 1,
                (t >> 7) as u8,
                ((t as u8) << 1) | 1,
            ]
        };
        h.extend(enc(if dts.is_some() { 3 } else { 2 }, pts));
        if let Some(d) = dts {
            h.extend(enc(1, d));
        }
        h.extend(data);
        h
    }

    #[test]
    fn reassembles_bounded_and_unbounded() {
        let mut a = PesAssembler::default();
        let p = pes((1 << 33) - 1, Some(7), &[9; 300], false);
        assert!(a.push(&p[..100], true, true, 0).is_none());
        assert!(a.push(&p[100..], false, false, 188).is_none());
        let q = pes(5, None, &[1, 2], true);
        let Some(Assembled::Pes(done)) = a.push(&q, true, false, 376) else {
            panic!("expected a PES");
        };
        assert_eq!(
            (done.pts, done.dts, done.data.len()),
            (Some((1 << 33) - 1), Some(7), 300)
        );
        assert!(done.random_access);
        // The bounded PES is complete; finishing hands it over.
        let Some(Assembled::Pes(q)) = a.finish() else {
            panic!("expected the bounded PES");
        };
        assert_eq!((q.pts, q.data), (Some(5), vec![1, 2]));
    }

    #[test]
    fn bad_headers_are_reported() {
        let mut a = PesAssembler::default();
        assert!(a.push(&[1, 2, 3], false, false, 0).is_none());
        a.push(&[0, 0, 1, 0xE0, 0, 0, 0x84, 0x80, 200, 1], true, false, 5);
        let Some(Assembled::Bad { offset, what }) = a.finish() else {
            panic!("expected damage");
        };
        assert_eq!(offset, 5);
        assert!(what.contains("PES_header_data_length"), "{what}");
        let mut p = pes(5, None, &[1, 2, 3], true);
        p.truncate(p.len() - 1);
        a.push(&p, true, false, 0);
        assert!(matches!(a.finish(), Some(Assembled::Bad { .. })));
    }
}

//! Transport packets (ISO/IEC 13818-1 §2.4.3.2–2.4.3.5): 188-byte packets read from any
//! `Read`, with resynchronisation after damage: when a packet does not start with the sync byte
//! 0x47, bytes are skipped to the next position where two sync bytes lie 188 bytes apart (or
//! one lies at the end of the input), and the skip is reported with its byte offset.

use std::io::{self, Read};

use crate::container::ts::{AF_DISCONTINUITY, AF_RANDOM_ACCESS, PacketHeader};
use crate::container::ts::{PACKET_LEN, SYNC_BYTE};
use crate::media::Damage;

/// Read-ahead: a multiple of the packet size, so packet boundaries stay in place.
const BUFFER_LEN: usize = 64 * PACKET_LEN;

/// One transport packet's header fields and payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TsPacket {
    /// File offset of the sync byte.
    pub(crate) offset: u64,
    pub(crate) pid: u16,
    pub(crate) transport_error: bool,
    pub(crate) payload_unit_start: bool,
    pub(crate) continuity_counter: u8,
    pub(crate) has_payload: bool,
    /// adaptation_field discontinuity_indicator (§2.4.3.5).
    pub(crate) discontinuity: bool,
    pub(crate) random_access: bool,
    pub(crate) payload: Vec<u8>,
}

pub(crate) enum PacketEvent {
    Packet(TsPacket),
    Damage(Damage),
}

/// Reads transport packets, resynchronising on lost sync bytes.
pub(crate) struct PacketReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Start of unread bytes in `buf`.
    start: usize,
    /// File offset of `buf[start]`.
    offset: u64,
    eof: bool,
}

impl<R: Read> PacketReader<R> {
    pub(crate) fn new(inner: R) -> PacketReader<R> {
        PacketReader {
            inner,
            buf: Vec::with_capacity(2 * BUFFER_LEN),
            start: 0,
            offset: 0,
            eof: false,
        }
    }

    /// Bytes consumed so far.
    pub(crate) fn position(&self) -> u64 {
        self.offset
    }

    /// Makes at least `n` unread bytes available unless the input ends first.
    fn fill(&mut self, n: usize) -> io::Result<()> {
        if self.buf.len() - self.start >= n || self.eof {
            return Ok(());
        }
        self.buf.drain(..self.start);
        self.start = 0;
        let mut chunk = [0u8; BUFFER_LEN];
        while self.buf.len() < n && !self.eof {
            match self.inner.read(&mut chunk) {
                Ok(0) => self.eof = true,
                Ok(k) => self.buf.extend_from_slice(&chunk[..k]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
    }

    /// The next packet or damage report; `None` at the end of the input.
    pub(crate) fn next_event(&mut self) -> io::Result<Option<PacketEvent>> {
        self.fill(PACKET_LEN + 1)?;
        let avail = self.buf.len() - self.start;
        if avail == 0 {
            return Ok(None);
        }
        if self.buf[self.start] == SYNC_BYTE && avail >= PACKET_LEN {
            let p = parse(&self.buf[self.start..self.start + PACKET_LEN], self.offset);
            self.consume(PACKET_LEN);
            return Ok(Some(PacketEvent::Packet(p)));
        }
        if self.buf[self.start] == SYNC_BYTE && self.eof {
            let offset = self.offset;
            self.consume(avail);
            return Ok(Some(PacketEvent::Damage(Damage::Truncated {
                offset,
                what: format!("transport packet ({avail} of {PACKET_LEN} bytes)"),
            })));
        }
        // Lost sync: look for a sync byte confirmed by another one a packet later.
        let from = self.offset;
        let mut skipped = 0u64;
        loop {
            self.fill(2 * PACKET_LEN + 1)?;
            let data = &self.buf[self.start..];
            if data.is_empty() {
                break;
            }
            let found = (1..data.len()).find(|&i| {
                data[i] == SYNC_BYTE
                    && match data.get(i + PACKET_LEN) {
                        Some(&b) => b == SYNC_BYTE,
                        // Near the end: a sync byte followed by a whole packet is enough.
                        None => self.eof && data.len() - i >= PACKET_LEN,
                    }
            });
            match found {
                Some(i) => {
                    self.consume(i);
                    skipped += i as u64;
                    break;
                }
                None => {
                    // Keep the last packet's worth, where a sync byte may still be confirmed.
                    let keep = if self.eof { 0 } else { PACKET_LEN };
                    let drop = data.len().saturating_sub(keep).max(1);
                    self.consume(drop);
                    skipped += drop as u64;
                    if self.eof && self.buf.len() == self.start {
                        break;
                    }
                }
            }
        }
        Ok(Some(PacketEvent::Damage(Damage::Skipped {
            offset: from,
            len: skipped,
            what: "bytes without MPEG-TS sync (0x47 every 188 bytes)".into(),
        })))
    }
}

/// §2.4.3.2 header and §2.4.3.4 adaptation field of one 188-byte packet.
fn parse(p: &[u8], offset: u64) -> TsPacket {
    let (header, transport_error) = PacketHeader::parse(&[p[0], p[1], p[2], p[3]]);
    let mut packet = TsPacket {
        offset,
        pid: header.pid,
        transport_error,
        payload_unit_start: header.unit_start,
        continuity_counter: header.continuity_counter,
        has_payload: header.payload,
        discontinuity: false,
        random_access: false,
        payload: Vec::new(),
    };
    let mut body = 4;
    if header.adaptation_field {
        let len = usize::from(p[4]);
        if len > 0 {
            packet.discontinuity = p[5] & AF_DISCONTINUITY != 0;
            packet.random_access = p[5] & AF_RANDOM_ACCESS != 0;
        }
        body = 5 + len;
    }
    // An adaptation field overrunning the packet leaves no payload (§2.4.3.5: at most 183 bytes).
    if packet.has_payload && body < PACKET_LEN {
        packet.payload = p[body..].to_vec();
    } else {
        packet.has_payload = false;
    }
    packet
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(pid: u16, cc: u8, fill: u8) -> Vec<u8> {
        let mut p = vec![fill; PACKET_LEN];
        p[0] = SYNC_BYTE;
        p[1] = 0x40 | (pid >> 8) as u8;
        p[2] = pid as u8;
        p[3] = 0x10 | cc;
        p
    }

    fn events(data: &[u8]) -> Vec<String> {
        let mut r = PacketReader::new(data);
        let mut out = Vec::new();
        while let Some(e) = r.next_event().unwrap() {
            out.push(match e {
                PacketEvent::Packet(p) => format!("pkt {} @{}", p.pid, p.offset),
                PacketEvent::Damage(d) => d.to_string(),
            });
        }
        out
    }

    #[test]
    fn resyncs_after_garbage_and_reports_offsets() {
        let mut d = packet(0x100, 0, 1);
        d.extend([0x12, 0x47, 2, 3, 4]);
        d.extend(packet(0x100, 1, 2));
        d.extend(packet(0x101, 0, 3));
        d.extend(&packet(0x101, 1, 3)[..100]);
        assert_eq!(
            events(&d),
            [
                "pkt 256 @0",
                "at byte 188: skipped 5 bytes (bytes without MPEG-TS sync (0x47 every 188 bytes))",
                "pkt 256 @193",
                "pkt 257 @381",
                "at byte 569: truncated transport packet (100 of 188 bytes)",
            ]
        );
        // Only garbage.
        assert_eq!(events(&[1, 2, 3]).len(), 1);
        assert!(events(&[]).is_empty());
    }

    #[test]
    fn hostile_adaptation_field_length() {
        let mut p = packet(0x100, 0, 0);
        p[3] = 0x30;
        p[4] = 250;
        let t = parse(&p, 0);
        assert!(!t.has_payload && t.payload.is_empty());
    }
}

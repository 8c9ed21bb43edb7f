//! TCP stream reassembly for one direction of one connection (RFC 9293 §3.4 sequence numbers).
//!
//! Sequence numbers are 32-bit and wrap; each segment is placed on a 64-bit stream offset by
//! its signed distance from the next expected byte (serial-number arithmetic, RFC 1982), so a
//! stream may run past 4 GiB and wrap any number of times.
//!
//! - Duplicates and retransmissions of delivered bytes are dropped.
//! - Out-of-order segments wait in a buffer bounded by a window ([`DEFAULT_WINDOW`] bytes).
//! - Overlaps are trimmed and **the first copy wins**: bytes already delivered or buffered are
//!   never replaced by a later copy (the BSD policy most IDS apply by default). A capture sees
//!   the bytes the sender sent first, so a later, different copy is the suspect one.
//! - A hole that never fills is declared lost when the buffered bytes behind it exceed the
//!   window, when a segment lands further than the window past it, or at the end
//!   ([`Reassembler::flush`]): the reader gets an [`Output::Gap`] and the stream resumes.

use std::collections::BTreeMap;

/// Out-of-order bytes held per direction before the hole in front of them is declared lost.
pub(crate) const DEFAULT_WINDOW: u64 = 16 * 1024 * 1024;

/// Where a stretch of bytes came from in the capture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mark {
    /// 1-based packet number.
    pub frame: u64,
    /// Byte offset of the packet's record in the capture file.
    pub offset: u64,
    /// Capture time, Unix milliseconds.
    pub time_ms: i64,
}

/// What the reassembler hands on, in stream order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// The next bytes of the stream, with the packet that carried them.
    Data { bytes: Vec<u8>, mark: Mark },
    /// `lost` bytes never arrived; the stream resumes with the bytes of the packet `mark`.
    Gap { lost: u64, mark: Mark },
}

/// One direction's byte stream.
#[derive(Debug)]
pub struct Reassembler {
    /// Sequence number of the next byte to deliver (`None` until the first segment).
    next_seq: Option<u32>,
    /// Stream offset of the next byte to deliver.
    delivered: u64,
    /// Buffered out-of-order bytes by stream offset; ranges never overlap, all lie past
    /// `delivered`.
    pending: BTreeMap<u64, (Vec<u8>, Mark)>,
    pending_bytes: u64,
    window: u64,
    /// Segments (or parts) dropped as copies of bytes already seen.
    pub(crate) duplicate_bytes: u64,
}

impl Reassembler {
    /// `isn`: the initial sequence number from the SYN, when it was captured (the stream then
    /// starts at `isn + 1`); otherwise the first segment's sequence number starts it.
    pub fn new(isn: Option<u32>, window: u64) -> Reassembler {
        Reassembler {
            next_seq: isn.map(|s| s.wrapping_add(1)),
            delivered: 0,
            pending: BTreeMap::new(),
            pending_bytes: 0,
            window: window.max(1),
            duplicate_bytes: 0,
        }
    }

    /// Starts the stream at `isn + 1`, the initial sequence number of a SYN seen after the
    /// reassembler was made without one (the server's SYN+ACK of a connection begun by the
    /// client's SYN). A stream that a segment has started already keeps its start.
    pub(crate) fn anchor(&mut self, isn: u32) {
        self.next_seq.get_or_insert(isn.wrapping_add(1));
    }

    /// Changes the window; buffered bytes beyond a smaller one are handled at the next segment.
    pub(crate) fn set_window(&mut self, window: u64) {
        self.window = window.max(1);
    }

    /// Stream offset of the next byte to deliver (= bytes delivered or declared lost).
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Whether out-of-order bytes wait behind a hole.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The stream offset a sequence number stands for, or `None` before the stream starts
    /// (nothing seen yet) or behind its start.
    pub(crate) fn offset_of(&self, seq: u32) -> Option<u64> {
        let next = self.next_seq?;
        // Serial-number distance: within ±2 GiB of the next expected byte.
        let dist = i64::from(seq.wrapping_sub(next) as i32);
        u64::try_from(self.delivered as i64 + dist).ok()
    }

    /// Takes one segment's payload; whatever became contiguous is appended to `out`.
    pub fn push(&mut self, seq: u32, payload: &[u8], mark: Mark, out: &mut Vec<Output>) {
        if payload.is_empty() {
            return;
        }
        let next = *self.next_seq.get_or_insert(seq);
        let dist = i64::from(seq.wrapping_sub(next) as i32);
        let start = self.delivered as i64 + dist;
        let end = start + payload.len() as i64;
        // A segment far past the hole: the hole is not going to fill within the window. First,
        // since handing on what follows the hole moves `delivered`, possibly past `start`.
        let far = start.max(0) as u64;
        while far > self.delivered + self.window {
            if !self.declare_lost(out, Some((far, mark))) {
                break;
            }
        }
        if end <= self.delivered as i64 {
            self.duplicate_bytes += payload.len() as u64;
            return;
        }
        // Bytes before `delivered` were delivered (or declared lost) already: first copy wins.
        let skip = (self.delivered as i64 - start).max(0) as usize;
        self.duplicate_bytes += skip as u64;
        let start = (start.max(0) as u64).max(self.delivered);
        let payload = payload.get(skip..).unwrap_or_default();
        if start == self.delivered && self.pending.is_empty() {
            self.advance(payload.len() as u64);
            out.push(Output::Data {
                bytes: payload.to_vec(),
                mark,
            });
            return;
        }
        self.insert(start, payload, mark);
        self.drain(out);
        while self.pending_bytes > self.window {
            self.declare_lost(out, None);
        }
    }

    /// Declares every remaining hole lost and hands on all buffered bytes (end of the stream).
    pub fn flush(&mut self, out: &mut Vec<Output>) {
        while self.declare_lost(out, None) {}
    }

    /// Buffers the parts of `payload` (at stream offset `start`) no buffered range covers.
    fn insert(&mut self, start: u64, payload: &[u8], mark: Mark) {
        let end = start + payload.len() as u64;
        let mut cursor = start;
        // Ranges that may overlap: the one starting at or before `start`, and those inside.
        let first = self
            .pending
            .range(..=start)
            .next_back()
            .map(|(k, _)| *k)
            .unwrap_or(start);
        let covered: Vec<(u64, u64)> = self
            .pending
            .range(first..end)
            .map(|(k, (b, _))| (*k, *k + b.len() as u64))
            .filter(|(_, e)| *e > start)
            .collect();
        let mut pieces = Vec::new();
        for (s, e) in covered {
            if s > cursor {
                pieces.push((cursor, s));
            }
            cursor = cursor.max(e);
        }
        if cursor < end {
            pieces.push((cursor, end));
        }
        let dup: u64 = payload.len() as u64 - pieces.iter().map(|(s, e)| e - s).sum::<u64>();
        self.duplicate_bytes += dup;
        for (s, e) in pieces {
            let bytes = payload[(s - start) as usize..(e - start) as usize].to_vec();
            self.pending_bytes += e - s;
            self.pending.insert(s, (bytes, mark));
        }
    }

    /// Hands on buffered ranges that start at the next expected byte.
    fn drain(&mut self, out: &mut Vec<Output>) {
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() != self.delivered {
                break;
            }
            let (bytes, mark) = entry.remove();
            self.pending_bytes -= bytes.len() as u64;
            self.advance(bytes.len() as u64);
            out.push(Output::Data { bytes, mark });
        }
    }

    /// Declares the hole before the first buffered range (or before `beyond`, a segment not
    /// buffered) lost and hands on what follows it. False when there was no hole to declare.
    fn declare_lost(&mut self, out: &mut Vec<Output>, beyond: Option<(u64, Mark)>) -> bool {
        let next = match (self.pending.first_key_value(), beyond) {
            // Never past the segment itself: its bytes would land behind the delivered ones.
            (Some((k, _)), Some(b)) if *k > b.0 => b,
            (Some((k, (_, mark))), _) => (*k, *mark),
            (None, Some(b)) => b,
            (None, None) => return false,
        };
        let lost = next.0 - self.delivered;
        if lost > 0 {
            self.advance(lost);
            out.push(Output::Gap { lost, mark: next.1 });
        }
        self.drain(out);
        true
    }

    fn advance(&mut self, n: u64) {
        self.delivered += n;
        if let Some(s) = &mut self.next_seq {
            // Sequence space is modulo 2^32.
            *s = s.wrapping_add(n as u32);
        }
    }
}

#[cfg(test)]
mod tests;

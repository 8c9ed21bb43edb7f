//! RTMP handshake and chunk stream, client to server (Adobe "Real-Time Messaging Protocol (RTMP)
//! Specification" 1.0, December 2012: §5.2 handshake C0/C1/C2, §5.3.1 chunk format, §5.4.1 Set
//! Chunk Size, §5.4.2 Abort Message).
//!
//! [`ChunkReader`] is push-based: bytes go in as they arrive (a raw dump in blocks, a capture
//! segment by segment), complete messages come out. State is kept **per chunk stream id**
//! (timestamp, delta, length, type, stream id, partial message), so chunks of different chunk
//! streams may interleave freely. Bodies are copied as they arrive: the reader buffers at most one
//! chunk header plus, while resynchronising, one chunk of look-ahead; messages grow only with the
//! bytes actually received, and all partial messages together are capped at
//! [`MAX_PARTIAL_BYTES`], so no length field ever sizes an allocation.
//!
//! Extended timestamps (§5.3.1.3): a 0xFFFFFF field in a type 0/1/2 header is followed by the
//! 32-bit value. Whether a type 3 chunk repeats it differs between encoders (FFmpeg and librtmp
//! repeat it, some do not), so, as SRS does, the 4 bytes are taken as the repeat only when they
//! equal the value last read on that chunk stream or the message's timestamp. A type 3 chunk that
//! starts a message adds the previous header's field, which after a type 0 header is its
//! absolute timestamp (the FFmpeg and SRS reading of §5.3.1.2.4).
//!
//! Damage (corruption, bytes missing from a capture) makes the reader drop the partial messages it
//! cannot trust and scan for a plausible type 0/1 chunk header whose chunk is followed by another
//! plausible header, reporting what it skipped with input offsets.

use std::collections::{HashMap, VecDeque};

use super::Position;
use crate::media::Damage;

mod damage;
mod header;
mod resync;
#[cfg(test)]
mod tests;

use header::{Header, Parse, parse_header};

/// C0 (version) + C1 + C2 (§5.2.2–§5.2.4).
pub(crate) const HANDSHAKE_LEN: u64 = 1 + 1536 + 1536;
/// C0 for plain RTMP; 6 is RTMPE (encrypted, not readable).
pub(crate) const RTMP_VERSION: u8 = 3;
/// Chunk size until the client sends Set Chunk Size (§5.4.1).
pub(crate) const DEFAULT_CHUNK_SIZE: usize = 128;
/// Bytes all partial messages together may hold; beyond, messages are dropped and reported.
pub(crate) const MAX_PARTIAL_BYTES: usize = 64 * 1024 * 1024;
/// Longest chunk header: 3-byte basic header, 11-byte type 0 header, extended timestamp.
#[cfg(test)]
pub(crate) const MAX_HEADER_LEN: usize = 3 + 11 + 4;
/// The 24-bit timestamp value that announces an extended timestamp (§5.3.1.3).
const EXTENDED: u32 = 0xFF_FFFF;

/// Protocol control message types handled here (§5.4).
pub(crate) const TYPE_SET_CHUNK_SIZE: u8 = 1;
pub(crate) const TYPE_ABORT: u8 = 2;

/// One complete message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Message {
    pub(crate) csid: u32,
    pub(crate) type_id: u8,
    /// Absolute message timestamp, extended timestamps resolved (wrapping 32-bit).
    pub(crate) timestamp_ms: u32,
    pub(crate) stream_id: u32,
    pub(crate) body: Vec<u8>,
    /// Where the message's first chunk header is.
    pub(crate) at: Position,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ChunkEvent {
    Message(Message),
    Damage(Damage),
}

/// A message being reassembled on one chunk stream.
#[derive(Debug)]
struct Partial {
    body: Vec<u8>,
    received: usize,
    length: usize,
    type_id: u8,
    stream_id: u32,
    timestamp_ms: u32,
    at: Position,
    /// Bytes are missing or over the cap: the rest is consumed and thrown away.
    damaged: bool,
    /// Started by a type 3 header right after a loss of sync: checked before it is handed on.
    unsure: bool,
}

/// What a chunk stream remembers between headers (§5.3.1.2: types 1–3 omit fields).
#[derive(Debug, Default)]
pub(super) struct ChunkStream {
    /// A type 0 header (or type 1 on chunk stream 2) has set the fields.
    known: bool,
    timestamp_ms: u32,
    /// The last type 0/1/2 timestamp field (resolved), added by a type 3 that starts a message.
    delta_ms: u32,
    /// The last type 0/1/2 header announced an extended timestamp.
    extended: bool,
    length: usize,
    type_id: u8,
    stream_id: u32,
    /// Sync was lost since this stream's last type 0/1/2 header: a type 3 header that seems to
    /// start a message may instead continue one lost in the damage.
    unsure: bool,
    /// First body byte of the stream's last message (sound byte, frame type and codec id).
    last_first_byte: Option<u8>,
    partial: Option<Partial>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Handshake bytes still to skip.
    Handshake {
        left: u64,
    },
    Header,
    /// Body bytes of the current chunk still to come.
    Body {
        csid: u32,
        left: usize,
    },
    /// Out of sync since stream position `since`: scanning for a chunk header.
    Lost {
        since: u64,
    },
}

/// Where bytes fed together came from (for positions).
#[derive(Clone, Copy, Debug)]
struct Segment {
    stream_pos: u64,
    input_offset: u64,
    arrival_ms: Option<i64>,
}

/// Client-to-server RTMP bytes → messages.
#[derive(Debug)]
pub(crate) struct ChunkReader {
    /// Unconsumed bytes; `buf[0]` is at stream position `base`.
    buf: Vec<u8>,
    base: u64,
    /// Stream position after the last byte fed or lost.
    stream_end: u64,
    segments: VecDeque<Segment>,
    state: State,
    /// Reason recorded when sync was lost, reported at the resync.
    lost_why: String,
    chunk_size: usize,
    /// A Set Chunk Size was read (else a resynchronisation may find the size by trial).
    chunk_size_seen: bool,
    streams: HashMap<u32, ChunkStream>,
    partial_bytes: usize,
    finished: bool,
    out: VecDeque<ChunkEvent>,
    /// Chunk headers still to parse before stopping (a resynchronisation trial); None: no limit.
    header_budget: Option<usize>,
    /// While resynchronising: the buffered length at which the scan is tried again after one
    /// that needed more bytes (see [`ChunkReader::step_lost`]).
    rescan_len: usize,
}

impl Default for ChunkReader {
    fn default() -> ChunkReader {
        ChunkReader::new()
    }
}

impl ChunkStream {
    /// The header fields, without the partial message.
    fn header_copy(&self) -> ChunkStream {
        ChunkStream {
            partial: None,
            ..*self
        }
    }
}

impl ChunkReader {
    pub(crate) fn new() -> ChunkReader {
        ChunkReader {
            buf: Vec::new(),
            base: 0,
            stream_end: 0,
            segments: VecDeque::new(),
            state: State::Handshake {
                left: HANDSHAKE_LEN,
            },
            lost_why: String::new(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            chunk_size_seen: false,
            streams: HashMap::new(),
            partial_bytes: 0,
            finished: false,
            out: VecDeque::new(),
            header_budget: None,
            rescan_len: 0,
        }
    }

    /// The chunk size in force (the client's, §5.4.1).
    pub(crate) fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// Bytes that follow the previous ones; see [`super::RtmpParser::feed`].
    pub(crate) fn feed(&mut self, bytes: &[u8], arrival_ms: Option<i64>, input_offset: u64) {
        if bytes.is_empty() || self.finished {
            return;
        }
        self.segments.push_back(Segment {
            stream_pos: self.stream_end,
            input_offset,
            arrival_ms,
        });
        self.stream_end += bytes.len() as u64;
        self.buf.extend_from_slice(bytes);
        self.run();
    }

    /// The next event, in input order.
    pub(crate) fn next_event(&mut self) -> Option<ChunkEvent> {
        self.out.pop_front()
    }

    /// Input position of a stream position.
    fn position(&self, stream_pos: u64) -> Position {
        let seg = self
            .segments
            .iter()
            .rev()
            .find(|s| s.stream_pos <= stream_pos)
            .or(self.segments.front());
        match seg {
            Some(s) => Position {
                input_offset: s.input_offset + stream_pos.saturating_sub(s.stream_pos),
                arrival_ms: s.arrival_ms,
            },
            None => Position {
                input_offset: stream_pos,
                arrival_ms: None,
            },
        }
    }

    /// Drops `n` consumed bytes from the front of the buffer.
    fn consume(&mut self, n: usize) {
        self.buf.drain(..n);
        self.base += n as u64;
        // Segments wholly before what may still be reported are no longer needed.
        let keep_from = match self.state {
            State::Handshake { .. } => 0,
            State::Lost { since } => since.min(self.base),
            _ => self.base,
        };
        while self.segments.len() > 1 && self.segments[1].stream_pos <= keep_from {
            self.segments.pop_front();
        }
    }

    fn run(&mut self) {
        loop {
            let progressed = match self.state {
                State::Handshake { left } => self.step_handshake(left),
                State::Header => self.step_header(),
                State::Body { csid, left } => self.step_body(csid, left),
                State::Lost { since } => self.step_lost(since),
            };
            if !progressed {
                return;
            }
        }
    }

    fn step_handshake(&mut self, left: u64) -> bool {
        if left == HANDSHAKE_LEN {
            let Some(&c0) = self.buf.first() else {
                return false;
            };
            if c0 != RTMP_VERSION {
                let why = if c0 == 6 {
                    "C0 asks for RTMPE (encrypted RTMP), which cannot be read".to_string()
                } else {
                    format!("C0 is {c0}, not RTMP version 3: no handshake at the start")
                };
                // No handshake: the scan starts at the first byte, which may be a header.
                self.lost_why = why;
                self.state = State::Lost { since: self.base };
                return true;
            }
            if self.buf.len() < resync::CONNECT_PROBE_LEN && !self.finished {
                return false;
            }
            if resync::starts_with_connect(&self.buf) {
                // A dump that begins with the connect command, the handshake left out.
                self.state = State::Header;
                return true;
            }
        }
        let n = (left.min(self.buf.len() as u64)) as usize;
        if n == 0 {
            return false;
        }
        self.consume(n);
        let left = left - n as u64;
        self.state = if left == 0 {
            State::Header
        } else {
            State::Handshake { left }
        };
        true
    }

    fn step_header(&mut self) -> bool {
        if self.buf.is_empty() || self.header_budget == Some(0) {
            return false;
        }
        match parse_header(&self.buf, &self.streams, self.finished) {
            Parse::Need => false,
            Parse::Bad(why) => {
                self.lose_sync(why);
                true
            }
            Parse::Ok(h) => {
                if let Some(n) = self.header_budget.as_mut() {
                    *n -= 1;
                    if !resync::header_plausible(&h, &self.buf, &self.streams) {
                        self.lose_sync(String::new());
                        return false;
                    }
                }
                let at = self.position(self.base);
                self.consume(h.len);
                self.apply(h, at);
                true
            }
        }
    }

    fn step_body(&mut self, csid: u32, left: usize) -> bool {
        if left == 0 {
            self.end_chunk(csid);
            self.state = State::Header;
            return true;
        }
        let n = left.min(self.buf.len());
        if n == 0 {
            return false;
        }
        let over_cap = self.partial_bytes + n > MAX_PARTIAL_BYTES;
        let mut newly_damaged = false;
        if let Some(p) = self.streams.get_mut(&csid).and_then(|s| s.partial.as_mut()) {
            p.received += n;
            if !p.damaged && over_cap {
                newly_damaged = true;
            } else if !p.damaged {
                p.body.extend_from_slice(&self.buf[..n]);
                self.partial_bytes += n;
            }
        }
        if newly_damaged {
            self.damage_partial(
                csid,
                &format!("partial messages would hold over {MAX_PARTIAL_BYTES} bytes"),
            );
        }
        self.consume(n);
        self.state = State::Body {
            csid,
            left: left - n,
        };
        true
    }

    /// Applies a parsed header to its chunk stream and enters the chunk's body.
    fn apply(&mut self, h: Header, at: Position) {
        let st = self.streams.entry(h.csid).or_default();
        if !st.known && h.fmt == 1 && h.csid != 2 && self.header_budget.is_none() {
            self.out.push_back(ChunkEvent::Damage(Damage::Dropped {
                offset: at.input_offset,
                what: format!(
                    "the type-0 header of chunk stream {} was not seen: its timestamps count \
                     from 0 here",
                    h.csid
                ),
            }));
        }
        let st = self.streams.entry(h.csid).or_default();
        let continuation = h.fmt == 3 && st.partial.is_some();
        if !continuation {
            if st.partial.is_some() {
                // A new message header while one is incomplete (§5.3.1.2 forbids it).
                self.damage_partial(h.csid, "a new message header interrupted it");
            }
            let st = self.streams.entry(h.csid).or_default();
            if let Some(p) = st.partial.take() {
                self.partial_bytes -= p.body.len();
            }
            match h.fmt {
                0 => {
                    let t = h.time_field.unwrap_or(0);
                    st.timestamp_ms = t;
                    st.delta_ms = t;
                    st.extended = h.extended;
                }
                1 | 2 => {
                    let d = h.time_field.unwrap_or(0);
                    st.timestamp_ms = st.timestamp_ms.wrapping_add(d);
                    st.delta_ms = d;
                    st.extended = h.extended;
                }
                _ => st.timestamp_ms = st.timestamp_ms.wrapping_add(st.delta_ms),
            }
            st.known = true;
            let unsure = st.unsure && h.fmt == 3;
            st.unsure = false;
            if let Some(l) = h.length {
                st.length = l;
            }
            if let Some(t) = h.type_id {
                st.type_id = t;
            }
            if let Some(s) = h.stream_id {
                st.stream_id = s;
            }
            st.partial = Some(Partial {
                // Grown as chunks arrive, never sized by the length field.
                body: Vec::new(),
                received: 0,
                length: st.length,
                type_id: st.type_id,
                stream_id: st.stream_id,
                timestamp_ms: st.timestamp_ms,
                at,
                damaged: false,
                unsure,
            });
        }
        let st = self.streams.entry(h.csid).or_default();
        let left = st
            .partial
            .as_ref()
            .map_or(0, |p| (p.length - p.received).min(self.chunk_size));
        self.state = State::Body { csid: h.csid, left };
    }

    /// A chunk's body is complete: hands on the message if it is complete too.
    fn end_chunk(&mut self, csid: u32) {
        let Some(st) = self.streams.get_mut(&csid) else {
            return;
        };
        let done = st.partial.as_ref().is_some_and(|p| p.received >= p.length);
        if !done {
            return;
        }
        let Some(p) = st.partial.take() else {
            return;
        };
        if p.damaged {
            return;
        }
        self.partial_bytes -= p.body.len();
        let first = p.body.first().copied();
        let last_first = st.last_first_byte;
        st.last_first_byte = first;
        // After a loss of sync, a type 3 "new message" must start like the stream's last one
        // (same sound byte; same video codec), or it may be the tail of a message lost before.
        let consistent = match (p.type_id, first, last_first) {
            (8, Some(a), Some(b)) => a == b,
            (9, Some(a), Some(b)) => a & 0x0F == b & 0x0F,
            _ => false,
        };
        if p.unsure && !consistent {
            self.out.push_back(ChunkEvent::Damage(Damage::Dropped {
                offset: p.at.input_offset,
                what: format!(
                    "type-{} message on chunk stream {csid} after the resynchronisation: it may \
                     continue a message lost in the damage",
                    p.type_id
                ),
            }));
            return;
        }
        let m = Message {
            csid,
            type_id: p.type_id,
            timestamp_ms: p.timestamp_ms,
            stream_id: p.stream_id,
            body: p.body,
            at: p.at,
        };
        match m.type_id {
            TYPE_SET_CHUNK_SIZE => self.set_chunk_size(&m),
            TYPE_ABORT => self.abort(&m),
            _ => self.out.push_back(ChunkEvent::Message(m)),
        }
    }

    fn set_chunk_size(&mut self, m: &Message) {
        let Some(b) = m.body.first_chunk::<4>() else {
            self.out.push_back(ChunkEvent::Damage(Damage::Dropped {
                offset: m.at.input_offset,
                what: format!("Set Chunk Size of {} bytes, not 4", m.body.len()),
            }));
            return;
        };
        // §5.4.1: the first bit must be zero.
        let size = u32::from_be_bytes(*b) & 0x7FFF_FFFF;
        if size == 0 {
            self.out.push_back(ChunkEvent::Damage(Damage::Dropped {
                offset: m.at.input_offset,
                what: format!(
                    "Set Chunk Size 0 ignored, chunk size stays {}",
                    self.chunk_size
                ),
            }));
            return;
        }
        self.chunk_size = size as usize;
        self.chunk_size_seen = true;
    }

    fn abort(&mut self, m: &Message) {
        let Some(b) = m.body.first_chunk::<4>() else {
            return;
        };
        let csid = u32::from_be_bytes(*b);
        // The sender gave the message up on purpose: nothing to report.
        if let Some(p) = self.streams.get_mut(&csid).and_then(|s| s.partial.take()) {
            self.partial_bytes -= p.body.len();
        }
    }
}

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

mod resync;
#[cfg(test)]
mod tests;

/// C0 (version) + C1 + C2 (§5.2.2–§5.2.4).
pub const HANDSHAKE_LEN: u64 = 1 + 1536 + 1536;
/// C0 for plain RTMP; 6 is RTMPE (encrypted, not readable).
pub const RTMP_VERSION: u8 = 3;
/// Chunk size until the client sends Set Chunk Size (§5.4.1).
pub const DEFAULT_CHUNK_SIZE: usize = 128;
/// Bytes all partial messages together may hold; beyond, messages are dropped and reported.
pub const MAX_PARTIAL_BYTES: usize = 64 * 1024 * 1024;
/// Longest chunk header: 3-byte basic header, 11-byte type 0 header, extended timestamp.
pub const MAX_HEADER_LEN: usize = 3 + 11 + 4;
/// The 24-bit timestamp value that announces an extended timestamp (§5.3.1.3).
const EXTENDED: u32 = 0xFF_FFFF;

/// Protocol control message types handled here (§5.4).
pub const TYPE_SET_CHUNK_SIZE: u8 = 1;
pub const TYPE_ABORT: u8 = 2;

/// One complete message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub csid: u32,
    pub type_id: u8,
    /// Absolute message timestamp, extended timestamps resolved (wrapping 32-bit).
    pub timestamp_ms: u32,
    pub stream_id: u32,
    pub body: Vec<u8>,
    /// Where the message's first chunk header is.
    pub at: Position,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChunkEvent {
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

/// A parsed chunk header, before it is applied to its chunk stream.
#[derive(Clone, Copy, Debug)]
struct Header {
    /// Bytes the header occupies (basic + message header + extended timestamp).
    len: usize,
    fmt: u8,
    csid: u32,
    /// Type 0: timestamp; 1/2: delta; resolved through the extended timestamp.
    time_field: Option<u32>,
    extended: bool,
    length: Option<usize>,
    type_id: Option<u8>,
    stream_id: Option<u32>,
}

enum Parse {
    /// More bytes are needed.
    Need,
    Bad(String),
    Ok(Header),
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
pub struct ChunkReader {
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
    pub fn new() -> ChunkReader {
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
        }
    }

    /// The chunk size in force (the client's, §5.4.1).
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// Bytes that follow the previous ones; see [`super::RtmpParser::feed`].
    pub fn feed(&mut self, bytes: &[u8], arrival_ms: Option<i64>, input_offset: u64) {
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

    /// `lost` bytes are missing at `input_offset`.
    pub fn gap(&mut self, lost: u64, input_offset: u64) {
        if lost == 0 || self.finished {
            return;
        }
        let gap_pos = self.stream_end;
        self.segments.push_back(Segment {
            stream_pos: gap_pos,
            input_offset,
            arrival_ms: None,
        });
        self.stream_end += lost;
        let skipped = |what: &str| {
            ChunkEvent::Damage(Damage::Skipped {
                offset: input_offset,
                len: lost,
                what: what.to_string(),
            })
        };
        match self.state {
            // Handshake bytes are skipped anyway: still in step.
            State::Handshake { left } if lost < left && self.buf.is_empty() => {
                self.state = State::Handshake { left: left - lost };
                self.base = self.stream_end;
                self.out.push_back(skipped(
                    "bytes missing from the stream, inside the handshake",
                ));
            }
            // Inside one chunk body: the chunk boundaries are still known, only this message
            // has a hole.
            State::Body { csid, left }
                if self.buf.is_empty() && usize::try_from(lost).is_ok_and(|l| l < left) =>
            {
                self.state = State::Body {
                    csid,
                    left: left - lost as usize,
                };
                self.base = self.stream_end;
                self.out.push_back(skipped(
                    "bytes missing from the stream, inside a chunk: its message is dropped",
                ));
                self.damage_partial(csid, "bytes of it are missing from the stream");
            }
            _ => {
                let since = match self.state {
                    State::Lost { since } => since,
                    _ => self.base,
                };
                // Out of step: what is buffered before the hole cannot be completed.
                self.base = self.stream_end;
                self.buf.clear();
                if !matches!(self.state, State::Lost { .. }) {
                    self.lost_why = format!("{lost} bytes missing from the stream");
                    self.drop_partials("bytes are missing from the stream");
                    for st in self.streams.values_mut() {
                        st.unsure = true;
                    }
                }
                self.state = State::Lost { since };
            }
        }
    }

    /// End of the connection: reports what is incomplete.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.run();
        match self.state {
            State::Handshake { .. } => {
                let at = self.position(0);
                self.out.push_back(ChunkEvent::Damage(Damage::Truncated {
                    offset: at.input_offset,
                    what: "RTMP handshake".into(),
                }));
            }
            State::Header if !self.buf.is_empty() => {
                let at = self.position(self.base);
                self.out.push_back(ChunkEvent::Damage(Damage::Truncated {
                    offset: at.input_offset,
                    what: format!("chunk header ({} bytes present)", self.buf.len()),
                }));
            }
            State::Lost { since } => self.report_skip(since, self.stream_end, "to the end"),
            _ => {}
        }
        self.buf.clear();
        let mut open: Vec<(u32, Partial)> = self
            .streams
            .iter_mut()
            .filter_map(|(c, s)| s.partial.take().map(|p| (*c, p)))
            .collect();
        open.sort_by_key(|(_, p)| p.at.input_offset);
        for (csid, p) in open {
            if !p.damaged {
                self.out.push_back(ChunkEvent::Damage(Damage::Truncated {
                    offset: p.at.input_offset,
                    what: format!(
                        "type-{} message on chunk stream {csid} ({} of {} bytes)",
                        p.type_id, p.received, p.length
                    ),
                }));
            }
        }
        self.partial_bytes = 0;
    }

    /// The next event, in input order.
    pub fn next_event(&mut self) -> Option<ChunkEvent> {
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

    fn step_lost(&mut self, since: u64) -> bool {
        if self.header_budget.is_some() {
            // A resynchronisation trial that lost sync has failed: no scan inside it.
            return false;
        }
        match self.find_header() {
            resync::Found::At(i, chunk_size) => {
                self.chunk_size = chunk_size;
                self.consume(i);
                self.report_skip(since, self.base, "resynchronised on a chunk header");
                self.state = State::Header;
                true
            }
            resync::Found::NeedFrom(i) => {
                self.consume(i);
                false
            }
        }
    }

    fn report_skip(&mut self, since: u64, until: u64, outcome: &str) {
        let why = std::mem::take(&mut self.lost_why);
        if until == since {
            // A dump that starts at a chunk header without a handshake: nothing was lost.
            return;
        }
        let at = self.position(since);
        self.out.push_back(ChunkEvent::Damage(Damage::Skipped {
            offset: at.input_offset,
            len: until - since,
            what: format!("{why}; {outcome}"),
        }));
    }

    fn lose_sync(&mut self, why: String) {
        self.lost_why = why;
        self.drop_partials("the chunk stream lost sync");
        for st in self.streams.values_mut() {
            st.unsure = true;
        }
        // Scanning starts after the first byte, or a bad header would be found again.
        let since = self.base;
        if !self.buf.is_empty() {
            self.consume(1);
        }
        self.state = State::Lost { since };
    }

    /// Marks a chunk stream's partial message damaged, reporting it once.
    fn damage_partial(&mut self, csid: u32, why: &str) {
        let Some(p) = self.streams.get_mut(&csid).and_then(|s| s.partial.as_mut()) else {
            return;
        };
        if p.damaged {
            return;
        }
        p.damaged = true;
        self.partial_bytes -= p.body.len();
        p.body = Vec::new();
        let what = format!(
            "type-{} message of {} bytes on chunk stream {csid}: {why}",
            p.type_id, p.length
        );
        let offset = p.at.input_offset;
        self.out
            .push_back(ChunkEvent::Damage(Damage::Dropped { offset, what }));
    }

    fn drop_partials(&mut self, why: &str) {
        let mut csids: Vec<(u64, u32)> = self
            .streams
            .iter()
            .filter_map(|(c, s)| s.partial.as_ref().map(|p| (p.at.input_offset, *c)))
            .collect();
        csids.sort_unstable();
        for (_, csid) in csids {
            self.damage_partial(csid, why);
            if let Some(s) = self.streams.get_mut(&csid) {
                s.partial = None;
            }
        }
        self.partial_bytes = 0;
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

/// Parses the chunk header at the start of `b` against the chunk streams' state.
fn parse_header(b: &[u8], streams: &HashMap<u32, ChunkStream>, finished: bool) -> Parse {
    let need = if finished {
        Parse::Bad("the input ends inside a chunk header".into())
    } else {
        Parse::Need
    };
    let Some(&b0) = b.first() else {
        return need;
    };
    let fmt = b0 >> 6;
    // §5.3.1.1: 0 and 1 in the low 6 bits select the 2- and 3-byte forms.
    let (csid, mut i) = match b0 & 0x3F {
        0 => match b.get(1) {
            Some(&x) => (64 + u32::from(x), 2),
            None => return need,
        },
        1 => match (b.get(1), b.get(2)) {
            (Some(&lo), Some(&hi)) => (64 + u32::from(lo) + 256 * u32::from(hi), 3),
            _ => return need,
        },
        n => (u32::from(n), 1),
    };
    let st = streams.get(&csid);
    let known = st.is_some_and(|s| s.known);
    // A type 1 header carries all but the stream id and the timestamp base: librtmp opens
    // chunk stream 2 with one (SRS and FFmpeg accept it), and a capture that starts
    // mid-connection has seen no type 0 header.
    if fmt >= 2 && !known {
        return Parse::Bad(format!(
            "type-{fmt} chunk header on chunk stream {csid}, which no type-0 header opened"
        ));
    }
    let field_len = [11, 7, 3, 0][usize::from(fmt)];
    let Some(f) = b.get(i..i + field_len) else {
        return need;
    };
    i += field_len;
    let mut h = Header {
        len: 0,
        fmt,
        csid,
        time_field: None,
        extended: false,
        length: None,
        type_id: None,
        stream_id: None,
    };
    if fmt <= 2 {
        let t = u32::from_be_bytes([0, f[0], f[1], f[2]]);
        h.extended = t == EXTENDED;
        h.time_field = Some(t);
    }
    if fmt <= 1 {
        h.length = Some(u32::from_be_bytes([0, f[3], f[4], f[5]]) as usize);
        h.type_id = Some(f[6]);
    }
    if fmt == 0 {
        // Message stream ID is little-endian (§5.3.1.2.1).
        h.stream_id = Some(u32::from_le_bytes([f[7], f[8], f[9], f[10]]));
    }
    if h.extended {
        let Some(e) = b.get(i..i + 4) else {
            return need;
        };
        h.time_field = Some(u32::from_be_bytes([e[0], e[1], e[2], e[3]]));
        i += 4;
    } else if let Some(st) = st.filter(|s| fmt == 3 && s.extended) {
        // A type 3 after an extended header may or may not repeat the 4 bytes.
        let Some(e) = b.get(i..i + 4) else {
            return if finished {
                Parse::Ok(Header { len: i, ..h })
            } else {
                Parse::Need
            };
        };
        let v = u32::from_be_bytes([e[0], e[1], e[2], e[3]]);
        let message_ts = match &st.partial {
            Some(p) => p.timestamp_ms,
            None => st.timestamp_ms.wrapping_add(st.delta_ms),
        };
        if v == st.delta_ms || v == message_ts {
            i += 4;
        }
    }
    h.len = i;
    Parse::Ok(h)
}

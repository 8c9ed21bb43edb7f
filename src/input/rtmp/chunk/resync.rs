//! Finding a chunk header again after damage. A candidate is a type 0 or type 1 header whose
//! message type, length and stream id are plausible for a publishing client and whose body starts
//! as that type's body does; it is then tried: the bytes from it are parsed on a copy of the chunk
//! streams' state, and it holds when several headers in a row parse and every message they
//! complete is plausible. A quarter of all bytes look like a type 0/1 basic header, so the trial
//! is what makes a false match unlikely.

use std::collections::HashMap;

use super::{ChunkEvent, ChunkReader, ChunkStream, Parse, State, parse_header};

/// Look-ahead a trial parses at most (beyond, it is cut short rather than buffered for).
pub(super) const MAX_LOOKAHEAD: usize = 256 * 1024;
/// Longest audio, command or data message a resynchronisation believes in.
const MAX_SMALL_MESSAGE: usize = 1024 * 1024;
/// Chunk sizes FFmpeg/OBS (4096), librtmp and Wirecast (1024, 60000, 65536) set.
const COMMON_CHUNK_SIZES: [usize; 4] = [4096, 1024, 60_000, 65_536];
/// Consecutive chunk headers a trial must parse cleanly.
const TRIAL_HEADERS: usize = 4;
/// Bytes needed to recognise a dump that starts with the connect command.
pub(crate) const CONNECT_PROBE_LEN: usize = 12 + 10;

/// Where the scan stopped.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// A header starts at this index; the chunk size the trial found.
    At(usize, usize),
    /// Nothing before this index; what follows needs more bytes to decide.
    NeedFrom(usize),
}

/// Whether `b` starts with a type 0 chunk on chunk stream 3 carrying AMF0 `"connect"`: a dump
/// without its handshake.
pub(crate) fn starts_with_connect(b: &[u8]) -> bool {
    // Basic header 0x03, timestamp (3), length (3), type 20 at 7, stream id (4), body at 12.
    b.first() == Some(&0x03)
        && b.get(7) == Some(&20)
        && b.get(12..CONNECT_PROBE_LEN) == Some(&b"\x02\x00\x07connect"[..])
}

impl ChunkReader {
    /// Scans the buffer for the first plausible chunk header.
    pub(super) fn find_header(&self) -> Found {
        let b = &self.buf;
        for (i, &b0) in b.iter().enumerate() {
            if b0 >> 6 > 1 {
                continue;
            }
            if let Verdict::Need = candidate(&b[i..], &self.streams, self.finished) {
                return Found::NeedFrom(i);
            }
            if !matches!(
                candidate(&b[i..], &self.streams, self.finished),
                Verdict::Yes
            ) {
                continue;
            }
            // Without a Set Chunk Size seen (a capture that starts mid-connection), the sizes
            // encoders use are tried too.
            let sizes: &[usize] = if self.chunk_size_seen {
                &[]
            } else {
                &COMMON_CHUNK_SIZES
            };
            for size in std::iter::once(self.chunk_size).chain(sizes.iter().copied()) {
                match self.trial(&b[i..], size) {
                    Verdict::Yes => return Found::At(i, size),
                    Verdict::No => {}
                    Verdict::Need => return Found::NeedFrom(i),
                }
            }
        }
        Found::NeedFrom(b.len())
    }

    /// Parses the bytes from a candidate header on a copy of the chunk streams' state: the
    /// candidate holds when [`TRIAL_HEADERS`] headers in a row parse and every message they
    /// complete starts as its type's body does.
    fn trial(&self, b: &[u8], chunk_size: usize) -> Verdict {
        let mut t = ChunkReader::new();
        t.state = State::Header;
        t.chunk_size = chunk_size;
        t.header_budget = Some(TRIAL_HEADERS);
        t.streams = self
            .streams
            .iter()
            .map(|(c, s)| (*c, s.header_copy()))
            .collect();
        let limited = b.len() > MAX_LOOKAHEAD;
        t.feed(&b[..b.len().min(MAX_LOOKAHEAD)], None, 0);
        if self.finished && !limited {
            t.finished = true;
            t.run();
        }
        for e in &t.out {
            match e {
                ChunkEvent::Damage(_) => return Verdict::No,
                ChunkEvent::Message(m) => {
                    let plausible = plausible_message(m.csid, m.type_id, m.body.len(), m.stream_id)
                        && body_starts_right(m.type_id, &m.body) == Some(true);
                    if !plausible {
                        return Verdict::No;
                    }
                }
            }
        }
        if matches!(t.state, State::Lost { .. }) {
            return Verdict::No;
        }
        let parsed = TRIAL_HEADERS - t.header_budget.unwrap_or(0);
        // Every chunk of the trial read whole: more bytes cannot change the verdict, so it is the
        // same however the bytes were fed. A full look-ahead decides too (it sees the same bytes
        // however many more are buffered): one clean header whose chunk fills it is believed, or
        // the scan would wait, and buffer, forever.
        let complete = parsed == TRIAL_HEADERS && matches!(t.state, State::Header);
        if complete || (limited && parsed >= 1) || (self.finished && t.buf.is_empty()) {
            Verdict::Yes
        } else if self.finished {
            // The input ends inside the trial: take what parsed cleanly.
            if parsed >= 1 {
                Verdict::Yes
            } else {
                Verdict::No
            }
        } else {
            Verdict::Need
        }
    }
}

enum Verdict {
    Yes,
    No,
    Need,
}

/// During a trial: a header that starts a message must be plausible, as its body's start.
pub(super) fn header_plausible(
    h: &super::Header,
    b: &[u8],
    streams: &HashMap<u32, ChunkStream>,
) -> bool {
    let (Some(type_id), Some(length)) = (h.type_id, h.length) else {
        return true;
    };
    let stream_id = h
        .stream_id
        .or_else(|| streams.get(&h.csid).map(|s| s.stream_id))
        .unwrap_or(0);
    plausible_message(h.csid, type_id, length, stream_id)
        && body_starts_right(type_id, b.get(h.len..).unwrap_or_default()) != Some(false)
}

/// The cheap checks on a candidate header: its fields and the first bytes of its body.
fn candidate(b: &[u8], streams: &HashMap<u32, ChunkStream>, finished: bool) -> Verdict {
    let h = match parse_header(b, streams, finished) {
        Parse::Need => return Verdict::Need,
        Parse::Bad(_) => return Verdict::No,
        Parse::Ok(h) => h,
    };
    let (Some(type_id), Some(length)) = (h.type_id, h.length) else {
        return Verdict::No;
    };
    let stream_id = h
        .stream_id
        .or_else(|| streams.get(&h.csid).map(|s| s.stream_id))
        .unwrap_or(0);
    if !plausible_message(h.csid, type_id, length, stream_id) {
        return Verdict::No;
    }
    let body = &b[h.len..];
    match body_starts_right(type_id, body) {
        Some(true) => {}
        Some(false) => return Verdict::No,
        None if finished => return Verdict::No,
        None => return Verdict::Need,
    }
    Verdict::Yes
}

/// Message types a publishing client sends, with the lengths they can have.
fn plausible_message(csid: u32, type_id: u8, length: usize, stream_id: u32) -> bool {
    let length_ok = match type_id {
        // Set Chunk Size, Abort, Acknowledgement, Window Acknowledgement Size (§5.4).
        1 | 2 | 3 | 5 => length == 4,
        // Set Peer Bandwidth.
        6 => length == 5,
        // User Control: event type and up to 8 bytes of data (§6.2).
        4 => (2..=10).contains(&length),
        // Audio frames, commands and metadata are small; video frames and aggregates are not.
        8 | 15 | 17 | 18 | 20 => (1..=MAX_SMALL_MESSAGE).contains(&length),
        9 | 22 => length >= 1,
        _ => false,
    };
    let control = (1..=6).contains(&type_id);
    // Chunk stream 2 is reserved for protocol control messages on stream 0 (§5.4).
    let csid_ok = if csid == 2 {
        control && stream_id == 0
    } else {
        true
    };
    length_ok && csid_ok && stream_id <= 0xFFFF
}

/// Whether a body starts as its type's does; `None` when too few bytes are present.
fn body_starts_right(type_id: u8, body: &[u8]) -> Option<bool> {
    let first = *body.first()?;
    Some(match type_id {
        9 => {
            if first & 0x80 != 0 {
                // Enhanced RTMP: 3-bit frame type, FourCC follows.
                (1..=5).contains(&((first >> 4) & 7))
            } else {
                (1..=5).contains(&(first >> 4)) && matches!(first & 0x0F, 1..=7 | 12)
            }
        }
        // AMF0 string marker: the command or handler name.
        18 | 20 => first == 0x02,
        // AMF3 messages carry a 0 byte before their AMF0 values.
        15 | 17 => first == 0 && *body.get(1)? == 0x02,
        // Aggregate: the first sub-message's type.
        22 => matches!(first, 8 | 9 | 18),
        _ => true,
    })
}

//! Chunk headers (RTMP Specification 1.0 §5.3.1): basic header (1–3 bytes, chunk stream ids
//! 2–65599), message header of type 0/1/2/3, extended timestamp.

use std::collections::HashMap;

use super::{ChunkStream, EXTENDED};

/// A parsed chunk header, before it is applied to its chunk stream.
#[derive(Clone, Copy, Debug)]
pub(super) struct Header {
    /// Bytes the header occupies (basic + message header + extended timestamp).
    pub(super) len: usize,
    pub(super) fmt: u8,
    pub(super) csid: u32,
    /// Type 0: timestamp; 1/2: delta; resolved through the extended timestamp.
    pub(super) time_field: Option<u32>,
    pub(super) extended: bool,
    pub(super) length: Option<usize>,
    pub(super) type_id: Option<u8>,
    pub(super) stream_id: Option<u32>,
}

pub(super) enum Parse {
    /// More bytes are needed.
    Need,
    Bad(String),
    Ok(Header),
}

/// Parses the chunk header at the start of `b` against the chunk streams' state.
pub(super) fn parse_header(b: &[u8], streams: &HashMap<u32, ChunkStream>, finished: bool) -> Parse {
    let need = if finished {
        Parse::Bad("the input ends inside a chunk header".into())
    } else {
        Parse::Need
    };
    let Some(&b0) = b.first() else {
        return need;
    };
    let fmt = b0 >> 6;
    let Some((csid, mut i)) = chunk_stream_id(b) else {
        return need;
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
    let mut h = message_header(fmt, csid, f);
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

/// The chunk stream id of a basic header (§5.3.1.1: 0 and 1 in the low 6 bits select the 2-
/// and 3-byte forms) and the basic header's length; `None` when its bytes are not all there.
fn chunk_stream_id(b: &[u8]) -> Option<(u32, usize)> {
    Some(match b.first()? & 0x3F {
        0 => (64 + u32::from(*b.get(1)?), 2),
        1 => (64 + u32::from(*b.get(1)?) + 256 * u32::from(*b.get(2)?), 3),
        n => (u32::from(n), 1),
    })
}

/// The message header fields of a type `fmt` header (§5.3.1.2), `f` its bytes.
fn message_header(fmt: u8, csid: u32, f: &[u8]) -> Header {
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
    h
}

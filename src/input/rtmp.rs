//! RTMP input: the client-to-server bytes of a publishing connection, or the server-to-client
//! bytes of a playing one (Adobe "Real-Time Messaging Protocol (RTMP) Specification" 1.0, 2012),
//! from a raw dump or, through `input::pcap`, from a packet capture (README "Inputs", "Played
//! streams").
//!
//! - [`chunk`]: handshake and chunk stream → messages (state per chunk stream id, interleaving,
//!   Set Chunk Size, Abort, extended timestamps in both type 3 conventions, resynchronisation);
//! - [`parser`]: messages → [`RtmpEvent`]s (connect, publish, unpublish, media, metadata,
//!   aggregate messages);
//! - [`publishes`]: events → per-publish facts (stream key, timestamps, counts), the first pass
//!   over an input and what `inspect` prints;
//! - [`dump`]: a raw dump as an input: one push session per publish, each read through the FLV
//!   session logic ([`crate::input::flv::session::TagSession`]), since RTMP media bodies have the
//!   FLV tag body layout.
//!
//! Each `publish` opens a push session of key (`app` from `connect`, the publish name without its
//! query, `vdoid` from `?vdoid=`) that runs until `FCUnpublish` / `deleteStream` / `closeStream`,
//! the next `publish`, or the end of the connection. A server's `onStatus` `NetStream.Play.Start`
//! opens a *played* session the same way (the viewer's copy of the stream), ended by
//! `NetStream.Play.Stop` / `UnpublishNotify`, the next start, or the end.

pub(crate) mod chunk;
pub(crate) mod dump;
pub(crate) mod parser;
pub(crate) mod publishes;

#[cfg(test)]
mod tests;

pub(crate) use dump::{connections_summary, open_path};
pub use parser::RtmpParser;
pub(crate) use publishes::{DumpSummary, PublishSummary, PublishTracker};

use crate::input::flv::{Tag, TagKind};
use crate::media::Damage;

/// Where something was found: the input offset of the first byte of the message (its first
/// chunk header), and the capture time of the packet that carried it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub input_offset: u64,
    /// Unix milliseconds (None for a raw dump).
    pub(crate) arrival_ms: Option<i64>,
}

/// What the parser finds in a connection, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RtmpEvent {
    /// `connect`: the command object's `app` (without a `?query` or trailing `/`) and `tcUrl`.
    Connect {
        app: String,
        tc_url: Option<String>,
        at: Position,
    },
    /// A publish: `name` without its query; `vdoid` from `?vdoid=` in the query.
    Publish {
        name: String,
        query: Option<String>,
        vdoid: Option<String>,
        at: Position,
    },
    /// A media message (type 8 audio / 9 video) or `@setDataFrame`/`onMetaData` data, with its
    /// message timestamp (ms, 32-bit, extended timestamps resolved) and body bytes, which have
    /// exactly the layout of an FLV tag body.
    Media {
        kind: TagKind,
        timestamp_ms: u32,
        body: Vec<u8>,
        at: Position,
    },
    /// `play` (§7.2.2.1), sent by a client asking for a stream: `name` without its query.
    Play {
        name: String,
        query: Option<String>,
        vdoid: Option<String>,
        at: Position,
    },
    /// The server's `onStatus` `NetStream.Play.Start`: the media messages that follow are a
    /// played stream. `name`: the info object's `details`, where the server names the stream.
    PlayStart {
        name: Option<String>,
        at: Position,
    },
    /// FCUnpublish / deleteStream / closeStream from a publisher, or the server's `onStatus`
    /// `NetStream.Play.Stop` / `NetStream.Play.UnpublishNotify` to a player: the push ended.
    Unpublish {
        at: Position,
    },
    Damage(Damage),
}

/// A media event as the FLV tag the session logic consumes (its offset: the message's).
pub(crate) fn media_tag(kind: TagKind, timestamp_ms: u32, body: Vec<u8>, at: Position) -> Tag {
    Tag {
        offset: at.input_offset,
        kind,
        timestamp_ms,
        data: body,
    }
}

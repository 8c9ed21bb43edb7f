//! RTMP messages → [`RtmpEvent`]s (Adobe RTMP Specification 1.0 §7.1 message types, §7.2.1.1
//! `connect`, §7.2.2.6 `publish`, §7.2.2.1 `play`, §7.2.2.3 `deleteStream`; the `releaseStream`
//! / `FCPublish` / `FCUnpublish` commands FFmpeg, OBS and librtmp send around them; the server's
//! `onStatus` `NetStream.Play.*` codes to a player; aggregate messages §7.1.6).
//!
//! The same parser reads either direction of a connection: a client's bytes carry `connect`,
//! `publish` and `play`; a server's carry `onStatus` and, to a player, the media.
//!
//! Commands (type 20 AMF0, type 17 AMF3 whose leading 0 byte switches to AMF0) are decoded with
//! [`crate::amf0`]; a value that fails to decode ends the command's values, and the ones before
//! it are used. Media bodies are handed on unchanged: their layout is the FLV tag body's.

use super::chunk::{ChunkEvent, ChunkReader, Message};
use super::{Position, RtmpEvent};
use crate::amf0::{self, Value};
use crate::input::flv::TagKind;
use crate::media::Damage;

/// Message type ids (§7.1).
mod kind {
    pub(crate) const AUDIO: u8 = 8;
    pub(crate) const VIDEO: u8 = 9;
    pub(crate) const DATA_AMF3: u8 = 15;
    pub(crate) const COMMAND_AMF3: u8 = 17;
    pub(crate) const DATA_AMF0: u8 = 18;
    pub(crate) const COMMAND_AMF0: u8 = 20;
    pub(crate) const AGGREGATE: u8 = 22;
}

/// Aggregate sub-message header: type, size (3), timestamp (3 + 1 extended), stream id (3)
/// (§7.1.6: the FLV tag header layout), and the 4-byte back pointer after each body.
const SUB_HEADER_LEN: usize = 11;
const BACK_POINTER_LEN: usize = 4;

/// Client-to-server bytes of one RTMP connection → events. Push-based, so a TCP reassembler can
/// feed it segment by segment; a raw dump feeds it the whole file in blocks.
#[derive(Debug)]
pub struct RtmpParser {
    chunks: ChunkReader,
    events: Vec<RtmpEvent>,
    /// A publish is running: FCUnpublish, deleteStream and closeStream end it once.
    publishing: bool,
    /// A played stream is running (server side): `NetStream.Play.Stop` ends it once.
    playing: bool,
}

impl Default for RtmpParser {
    fn default() -> RtmpParser {
        RtmpParser::new()
    }
}

/// `onStatus` codes a server sends a player (RTMP 1.0 §7.2.2; the codes as Flash defined them).
mod status {
    pub(crate) const PLAY_START: &str = "NetStream.Play.Start";
    pub(crate) const PLAY_STOP: &str = "NetStream.Play.Stop";
    pub(crate) const PLAY_UNPUBLISH_NOTIFY: &str = "NetStream.Play.UnpublishNotify";
}

impl RtmpParser {
    pub fn new() -> RtmpParser {
        RtmpParser {
            chunks: ChunkReader::new(),
            events: Vec::new(),
            publishing: false,
            playing: false,
        }
    }

    /// Bytes that follow the previous ones. `arrival_ms`: Unix ms of the capture packet that
    /// carried them (None for a raw dump); `input_offset`: the input position of their first
    /// byte — a byte `k` bytes further is reported at `input_offset + k` (exact byte offsets
    /// for a dump, or for a capture that passes the file offset of each TCP payload).
    pub fn feed(&mut self, bytes: &[u8], arrival_ms: Option<i64>, input_offset: u64) {
        self.chunks.feed(bytes, arrival_ms, input_offset);
        self.pump();
    }

    /// `lost` bytes are missing here (a hole in the TCP stream): the damage is reported and the
    /// parser resynchronises on the next chunk header it can recognise (or keeps step, when the
    /// hole lies inside one chunk body, losing only that message).
    pub fn gap(&mut self, lost: u64, input_offset: u64) {
        self.chunks.gap(lost, input_offset);
        self.pump();
    }

    /// End of the connection: incomplete messages are reported.
    pub fn finish(&mut self) {
        self.chunks.finish();
        self.pump();
    }

    /// Events produced so far, in order.
    pub fn drain(&mut self) -> std::vec::Drain<'_, RtmpEvent> {
        self.events.drain(..)
    }

    /// The client's chunk size in force.
    pub fn chunk_size(&self) -> usize {
        self.chunks.chunk_size()
    }

    fn pump(&mut self) {
        while let Some(e) = self.chunks.next_event() {
            match e {
                ChunkEvent::Damage(d) => self.events.push(RtmpEvent::Damage(d)),
                ChunkEvent::Message(m) => self.message(m),
            }
        }
    }

    fn message(&mut self, m: Message) {
        match m.type_id {
            kind::AUDIO => self.media(TagKind::Audio, m.timestamp_ms, m.body, m.at),
            kind::VIDEO => self.media(TagKind::Video, m.timestamp_ms, m.body, m.at),
            kind::DATA_AMF0 => self.data(m.timestamp_ms, m.body, m.at),
            kind::DATA_AMF3 => {
                let body = strip_amf3_switch(m.body);
                self.data(m.timestamp_ms, body, m.at)
            }
            kind::COMMAND_AMF0 => self.command(&m.body, m.at),
            kind::COMMAND_AMF3 => self.command(m.body.get(1..).unwrap_or_default(), m.at),
            kind::AGGREGATE => self.aggregate(&m),
            // Acknowledgements, window sizes, user control, shared objects: nothing to record.
            _ => {}
        }
    }

    fn media(&mut self, kind: TagKind, timestamp_ms: u32, body: Vec<u8>, at: Position) {
        self.events.push(RtmpEvent::Media {
            kind,
            timestamp_ms,
            body,
            at,
        });
    }

    /// Data messages: only `@setDataFrame` / `onMetaData` matter to a recording.
    fn data(&mut self, timestamp_ms: u32, body: Vec<u8>, at: Position) {
        let (values, _) = decode_lenient(&body, 2);
        let mut names = values.iter().map(Value::as_str);
        let first = names.next().flatten();
        let is_metadata = first == Some("onMetaData")
            || (first == Some("@setDataFrame") && names.next().flatten() == Some("onMetaData"));
        if is_metadata {
            self.media(TagKind::Script, timestamp_ms, body, at);
        }
    }

    fn command(&mut self, body: &[u8], at: Position) {
        let (values, error) = decode_lenient(body, usize::MAX);
        let Some(name) = values.first().and_then(Value::as_str) else {
            if let Some(e) = error.filter(|_| values.is_empty()) {
                self.events.push(RtmpEvent::Damage(Damage::Dropped {
                    offset: at.input_offset,
                    what: format!("command message: {e}"),
                }));
            }
            return;
        };
        match name {
            "connect" => {
                let obj = values.get(2);
                let text = |k: &str| obj.and_then(|o| o.get(k)).and_then(Value::as_str);
                let app = text("app").unwrap_or_default();
                // A token some clients append to the app is not part of its name.
                let app = app.split('?').next().unwrap_or_default();
                self.events.push(RtmpEvent::Connect {
                    app: app.trim_end_matches('/').to_string(),
                    tc_url: text("tcUrl").map(str::to_string),
                    at,
                });
            }
            "publish" => {
                if let Some(StreamName { name, query, vdoid }) =
                    self.stream_name(&values, "publish", at)
                {
                    self.publishing = true;
                    self.events.push(RtmpEvent::Publish {
                        name,
                        query,
                        vdoid,
                        at,
                    });
                }
            }
            "FCUnpublish" | "deleteStream" | "closeStream" if self.publishing => {
                self.publishing = false;
                self.events.push(RtmpEvent::Unpublish { at });
            }
            "play" => {
                if let Some(StreamName { name, query, vdoid }) =
                    self.stream_name(&values, "play", at)
                {
                    self.events.push(RtmpEvent::Play {
                        name,
                        query,
                        vdoid,
                        at,
                    });
                }
            }
            "onStatus" => self.on_status(values.get(3), at),
            // releaseStream, FCPublish, createStream, _checkbw, ...: nothing to record.
            _ => {}
        }
    }

    /// The stream name argument of a `publish` or `play` command (its fourth value), split
    /// from its `?query` (with `vdoid` read from it); a command without one is damage.
    fn stream_name(&mut self, values: &[Value], command: &str, at: Position) -> Option<StreamName> {
        let Some(full) = values.get(3).and_then(Value::as_str) else {
            self.events.push(RtmpEvent::Damage(Damage::Dropped {
                offset: at.input_offset,
                what: format!("{command} command without a stream name"),
            }));
            return None;
        };
        let (name, query) = split_query(full);
        Some(StreamName {
            name: name.to_string(),
            vdoid: query
                .and_then(|q| query_value(q, "vdoid"))
                .map(str::to_string),
            query: query.map(str::to_string),
        })
    }

    /// A server's `onStatus` to a player: its info object's `code` starts or stops the played
    /// stream; `details` (where the server sends it) names the stream.
    fn on_status(&mut self, info: Option<&Value>, at: Position) {
        let text = |k: &str| info.and_then(|o| o.get(k)).and_then(Value::as_str);
        match text("code") {
            Some(status::PLAY_START) => {
                self.playing = true;
                let name = text("details").map(|d| split_query(d).0.to_string());
                self.events.push(RtmpEvent::PlayStart {
                    name: name.filter(|n| !n.is_empty()),
                    at,
                });
            }
            Some(status::PLAY_STOP | status::PLAY_UNPUBLISH_NOTIFY) if self.playing => {
                self.playing = false;
                self.events.push(RtmpEvent::Unpublish { at });
            }
            // Play.Reset, Publish.Start, Data.Start, ...: no boundary of a push.
            _ => {}
        }
    }

    /// Aggregate message (§7.1.6): FLV-tag-like sub-messages whose timestamps are relative to
    /// the first one's, placed at the aggregate's own timestamp (as FFmpeg reads them).
    fn aggregate(&mut self, m: &Message) {
        let mut rest = &m.body[..];
        let mut first_sub_ms = None;
        while !rest.is_empty() {
            let Some(h) = rest.first_chunk::<SUB_HEADER_LEN>() else {
                self.aggregate_damage(m, rest.len(), "a sub-message header is cut short");
                return;
            };
            let size = u32::from_be_bytes([0, h[1], h[2], h[3]]) as usize;
            let sub_ms = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
            let Some(body) = rest.get(SUB_HEADER_LEN..SUB_HEADER_LEN + size) else {
                self.aggregate_damage(m, rest.len(), "a sub-message is longer than the rest");
                return;
            };
            let base = *first_sub_ms.get_or_insert(sub_ms);
            let timestamp_ms = m.timestamp_ms.wrapping_add(sub_ms.wrapping_sub(base));
            match h[0] {
                kind::AUDIO => self.media(TagKind::Audio, timestamp_ms, body.to_vec(), m.at),
                kind::VIDEO => self.media(TagKind::Video, timestamp_ms, body.to_vec(), m.at),
                kind::DATA_AMF0 => self.data(timestamp_ms, body.to_vec(), m.at),
                _ => {}
            }
            // The back pointer is advisory; a missing one at the very end is tolerated.
            let used = SUB_HEADER_LEN + size + BACK_POINTER_LEN;
            rest = rest.get(used..).unwrap_or_default();
        }
    }

    fn aggregate_damage(&mut self, m: &Message, left: usize, why: &str) {
        self.events.push(RtmpEvent::Damage(Damage::Dropped {
            offset: m.at.input_offset,
            what: format!("aggregate message: {why}; its last {left} bytes are dropped"),
        }));
    }
}

/// A type 15 body starts with a 0 byte before AMF0 values (as type 17's does).
fn strip_amf3_switch(mut body: Vec<u8>) -> Vec<u8> {
    if body.first() == Some(&0) {
        body.remove(0);
    }
    body
}

/// Decodes up to `max` AMF0 values, stopping at the first that fails; returns the error too.
fn decode_lenient(mut b: &[u8], max: usize) -> (Vec<Value>, Option<amf0::Amf0Error>) {
    let mut values = Vec::new();
    let start = b.len();
    while !b.is_empty() && values.len() < max {
        match amf0::decode(b) {
            Ok((v, used)) => {
                values.push(v);
                b = b.get(used..).unwrap_or_default();
            }
            Err(mut e) => {
                e.offset += start - b.len();
                return (values, Some(e));
            }
        }
    }
    (values, None)
}

/// A `publish` or `play` command's stream name, split from its query.
struct StreamName {
    name: String,
    query: Option<String>,
    vdoid: Option<String>,
}

/// Splits a publish name at its `?`: `stream?vdoid=1&t=2` → (`stream`, `vdoid=1&t=2`).
pub(crate) fn split_query(full: &str) -> (&str, Option<&str>) {
    match full.split_once('?') {
        Some((name, q)) => (name, Some(q)),
        None => (full, None),
    }
}

/// The first value of `key` in an `a=1&b=2` query (not percent-decoded: carried as sent).
pub(crate) fn query_value<'q>(query: &'q str, key: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_names_and_queries() {
        assert_eq!(split_query("cam"), ("cam", None));
        assert_eq!(
            split_query("cam?vdoid=42&token=x"),
            ("cam", Some("vdoid=42&token=x"))
        );
        assert_eq!(query_value("vdoid=42&token=x", "vdoid"), Some("42"));
        assert_eq!(query_value("token=x&vdoid=7", "vdoid"), Some("7"));
        assert_eq!(query_value("token=x", "vdoid"), None);
        assert_eq!(query_value("vdoid=", "vdoid"), None);
        assert_eq!(query_value("vdoid", "vdoid"), None);
    }
}

//! A test-only RTMP client writer: handshake, chunking with header compression as FFmpeg's
//! `ff_rtmp_packet_write` does it (type 0 for a chunk stream's first message, then 1/2/3 by
//! what changed), or type 0 headers only; extended timestamps with or without their repeat in
//! type 3 chunks; interleaving of several chunk streams; the commands of an FFmpeg publish.

use std::collections::HashMap;

use crate::amf0::{self, Value};
use crate::input::flv::{Tag, TagKind, TagReader};
use crate::testutil::testdata;

pub(crate) const CSID_CONTROL: u32 = 2;
pub(crate) const CSID_COMMAND: u32 = 3;
pub(crate) const CSID_AUDIO: u32 = 4;
pub(crate) const CSID_VIDEO: u32 = 6;
pub(crate) const CSID_DATA: u32 = 8;
pub(crate) const STREAM: u32 = 1;

/// One message to chunk.
#[derive(Clone, Debug)]
pub(crate) struct Msg {
    pub(crate) csid: u32,
    pub(crate) type_id: u8,
    pub(crate) timestamp_ms: u32,
    pub(crate) stream_id: u32,
    pub(crate) body: Vec<u8>,
}

#[derive(Clone, Copy, Debug)]
struct Prev {
    timestamp_ms: u32,
    field: u32,
    length: usize,
    type_id: u8,
    stream_id: u32,
}

pub(crate) struct Writer {
    pub(crate) out: Vec<u8>,
    pub(crate) chunk_size: usize,
    /// Every message with a type 0 header (as SRS writes them).
    pub(crate) always_type0: bool,
    /// Type 3 chunks repeat an extended timestamp (FFmpeg, librtmp) or not.
    pub(crate) repeat_ext: bool,
    prev: HashMap<u32, Prev>,
}

impl Writer {
    /// A writer whose output starts with C0, C1 and C2.
    pub(crate) fn new() -> Writer {
        let mut out = vec![3u8];
        // C1: time, zero, random bytes; C2: the echo of S1. Contents are not checked.
        out.extend((0..1536u32).map(|i| (i * 7 + 1) as u8));
        out.extend((0..1536u32).map(|i| (i * 13 + 5) as u8));
        Writer {
            out,
            chunk_size: 128,
            always_type0: false,
            repeat_ext: true,
            prev: HashMap::new(),
        }
    }

    fn basic_header(out: &mut Vec<u8>, fmt: u8, csid: u32) {
        match csid {
            2..=63 => out.push(fmt << 6 | csid as u8),
            64..=319 => out.extend_from_slice(&[fmt << 6, (csid - 64) as u8]),
            _ => {
                let c = (csid - 64) as u16;
                out.extend_from_slice(&[fmt << 6 | 1, c as u8, (c >> 8) as u8]);
            }
        }
    }

    /// The message as chunks (each its header and body), updating the header state.
    pub(crate) fn chunks(&mut self, m: &Msg) -> Vec<Vec<u8>> {
        let prev = self.prev.get(&m.csid).copied();
        let usable = prev.filter(|p| {
            !self.always_type0 && p.stream_id == m.stream_id && m.timestamp_ms >= p.timestamp_ms
        });
        let (fmt, field) = match usable {
            None => (0, m.timestamp_ms),
            Some(p) => {
                let delta = m.timestamp_ms - p.timestamp_ms;
                if p.type_id != m.type_id || p.length != m.body.len() {
                    (1, delta)
                } else if delta != p.field {
                    (2, delta)
                } else {
                    (3, delta)
                }
            }
        };
        self.prev.insert(
            m.csid,
            Prev {
                timestamp_ms: m.timestamp_ms,
                field,
                length: m.body.len(),
                type_id: m.type_id,
                stream_id: m.stream_id,
            },
        );
        let extended = field >= 0xFF_FFFF;
        let mut first = Vec::new();
        Self::basic_header(&mut first, fmt, m.csid);
        if fmt <= 2 {
            let t = field.min(0xFF_FFFF).to_be_bytes();
            first.extend_from_slice(&t[1..]);
        }
        if fmt <= 1 {
            first.extend_from_slice(&(m.body.len() as u32).to_be_bytes()[1..]);
            first.push(m.type_id);
        }
        if fmt == 0 {
            first.extend_from_slice(&m.stream_id.to_le_bytes());
        }
        if extended && (fmt <= 2 || self.repeat_ext) {
            first.extend_from_slice(&field.to_be_bytes());
        }
        let mut chunks = Vec::new();
        let mut parts = m.body.chunks(self.chunk_size);
        first.extend_from_slice(parts.next().unwrap_or_default());
        chunks.push(first);
        for part in parts {
            let mut c = Vec::new();
            Self::basic_header(&mut c, 3, m.csid);
            if extended && self.repeat_ext {
                c.extend_from_slice(&field.to_be_bytes());
            }
            c.extend_from_slice(part);
            chunks.push(c);
        }
        chunks
    }

    pub(crate) fn message(&mut self, m: &Msg) -> &mut Writer {
        for c in self.chunks(m) {
            self.out.extend_from_slice(&c);
        }
        self
    }

    /// Messages on different chunk streams, their chunks sent round-robin.
    pub(crate) fn interleave(&mut self, msgs: &[Msg]) -> &mut Writer {
        let mut lists: Vec<_> = msgs.iter().map(|m| self.chunks(m).into_iter()).collect();
        loop {
            let mut any = false;
            for l in &mut lists {
                if let Some(c) = l.next() {
                    self.out.extend_from_slice(&c);
                    any = true;
                }
            }
            if !any {
                return self;
            }
        }
    }

    pub(crate) fn set_chunk_size(&mut self, size: usize) -> &mut Writer {
        let body = (size as u32).to_be_bytes().to_vec();
        self.message(&Msg {
            csid: CSID_CONTROL,
            type_id: 1,
            timestamp_ms: 0,
            stream_id: 0,
            body,
        });
        self.chunk_size = size;
        self
    }

    pub(crate) fn abort(&mut self, csid: u32) -> &mut Writer {
        self.message(&Msg {
            csid: CSID_CONTROL,
            type_id: 2,
            timestamp_ms: 0,
            stream_id: 0,
            body: csid.to_be_bytes().to_vec(),
        })
    }

    pub(crate) fn command(&mut self, csid: u32, stream_id: u32, values: &[Value]) -> &mut Writer {
        let mut body = Vec::new();
        for v in values {
            amf0::encode(v, &mut body);
        }
        self.message(&Msg {
            csid,
            type_id: 20,
            timestamp_ms: 0,
            stream_id,
            body,
        })
    }

    /// connect, releaseStream, FCPublish, createStream, publish: what FFmpeg sends.
    pub(crate) fn publish_start(&mut self, app: &str, publish_name: &str) -> &mut Writer {
        let s = |t: &str| Value::String(t.to_string());
        let n = Value::Number;
        let obj = Value::Object(vec![
            ("app".into(), s(app)),
            ("type".into(), s("nonprivate")),
            ("flashVer".into(), s("FMLE/3.0 (compatible; Lavf59.27.100)")),
            ("tcUrl".into(), s(&format!("rtmp://127.0.0.1:1935/{app}"))),
        ]);
        self.command(CSID_COMMAND, 0, &[s("connect"), n(1.0), obj]);
        self.command(
            CSID_COMMAND,
            0,
            &[s("releaseStream"), n(2.0), Value::Null, s(publish_name)],
        );
        self.command(
            CSID_COMMAND,
            0,
            &[s("FCPublish"), n(3.0), Value::Null, s(publish_name)],
        );
        self.command(CSID_COMMAND, 0, &[s("createStream"), n(4.0), Value::Null]);
        self.command(
            CSID_DATA,
            STREAM,
            &[
                s("publish"),
                n(5.0),
                Value::Null,
                s(publish_name),
                s("live"),
            ],
        )
    }

    /// FCUnpublish and deleteStream.
    pub(crate) fn publish_end(&mut self, publish_name: &str) -> &mut Writer {
        let s = |t: &str| Value::String(t.to_string());
        self.command(
            CSID_COMMAND,
            0,
            &[
                s("FCUnpublish"),
                Value::Number(6.0),
                Value::Null,
                s(publish_name),
            ],
        );
        self.command(
            CSID_COMMAND,
            0,
            &[
                s("deleteStream"),
                Value::Number(7.0),
                Value::Null,
                Value::Number(1.0),
            ],
        )
    }

    /// An FLV tag as the message FFmpeg sends for it (`@setDataFrame` before `onMetaData`).
    pub(crate) fn tag_message(tag: &Tag, shift_ms: u32) -> Msg {
        let (csid, type_id, body) = match tag.kind {
            TagKind::Audio => (CSID_AUDIO, 8, tag.data.clone()),
            TagKind::Video => (CSID_VIDEO, 9, tag.data.clone()),
            TagKind::Script => {
                let mut b = Vec::new();
                amf0::encode(&Value::String("@setDataFrame".into()), &mut b);
                b.extend_from_slice(&tag.data);
                (CSID_DATA, 18, b)
            }
        };
        Msg {
            csid,
            type_id,
            timestamp_ms: tag.timestamp_ms.wrapping_add(shift_ms),
            stream_id: STREAM,
            body,
        }
    }
}

/// The tags of a committed FLV fixture.
pub(crate) fn fixture_tags(name: &str) -> Vec<Tag> {
    let bytes = std::fs::read(testdata(name)).unwrap();
    let (mut r, _) = TagReader::new(&bytes[..], name).unwrap();
    let mut tags = Vec::new();
    while let Some(e) = r.next_event().unwrap() {
        if let crate::input::flv::TagEvent::Tag(t) = e {
            tags.push(t);
        }
    }
    tags
}

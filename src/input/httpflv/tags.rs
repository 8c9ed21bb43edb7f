//! An FLV body arriving in pieces → tags (Adobe "Video File Format Specification" 10.1, E.2
//! file header, E.3 PreviousTagSize, E.4.1 tag header), each tagged with the position of the
//! piece its header began in (a capture packet's time and record offset, or a file offset).
//!
//! Tag types other than audio, video and script data are read past; a DataSize beyond
//! [`MAX_DATA_SIZE`] cannot be framed and ends the body (reported as damage).

use super::response::HttpEvent;
pub(crate) use crate::container::flv::SIGNATURE;
use crate::container::flv::{FILE_HEADER_LEN, MAX_DATA_SIZE, PREV_SIZE_LEN, TAG_HEADER_LEN};
use crate::input::flv::{Tag, TagKind};
use crate::input::rtmp::Position;
use crate::media::Damage;

#[derive(Debug, PartialEq, Eq)]
enum Want {
    FileHeader,
    TagHeader,
    /// The tag's DataSize, then its PreviousTagSize.
    Data(usize),
    /// Not FLV, or lost its framing: read past.
    Nothing,
}

/// One FLV body.
#[derive(Debug)]
pub(crate) struct FlvTags {
    input: String,
    /// The response said `video/x-flv`: a body without the signature is damage.
    typed: bool,
    want: Want,
    buf: Vec<u8>,
    /// Where the piece holding the current unit's first byte lay.
    start: Option<Position>,
    header: [u8; TAG_HEADER_LEN],
    /// Where the current tag's header began.
    header_at: Option<Position>,
}

impl FlvTags {
    pub(crate) fn new(input: &str, typed: bool) -> FlvTags {
        FlvTags {
            input: input.to_string(),
            typed,
            want: Want::FileHeader,
            buf: Vec::new(),
            start: None,
            header: [0; TAG_HEADER_LEN],
            header_at: None,
        }
    }

    /// Bytes the current unit needs in all.
    fn need(&self) -> usize {
        match self.want {
            Want::FileHeader => FILE_HEADER_LEN,
            Want::TagHeader => TAG_HEADER_LEN,
            Want::Data(n) => n + PREV_SIZE_LEN,
            Want::Nothing => 0,
        }
    }

    pub(crate) fn feed(&mut self, mut bytes: &[u8], at: Position, out: &mut Vec<HttpEvent>) {
        let mut offset = at.input_offset;
        while !bytes.is_empty() && self.want != Want::Nothing {
            let piece = Position {
                input_offset: offset,
                arrival_ms: at.arrival_ms,
            };
            self.start.get_or_insert(piece);
            let n = (self.need() - self.buf.len()).min(bytes.len());
            self.buf.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            offset += n as u64;
            if self.buf.len() == self.need() {
                self.unit(out);
                self.buf.clear();
                self.start = None;
            }
        }
    }

    /// The body ended: a tag cut short is damage.
    pub(crate) fn finish(&mut self, at: Position, out: &mut Vec<HttpEvent>) {
        // An untyped body shorter than an FLV header was never FLV.
        let flv = self.typed || self.want != Want::FileHeader;
        if flv && !self.buf.is_empty() && self.want != Want::Nothing {
            out.push(HttpEvent::Damage(Damage::Truncated {
                offset: self.start.unwrap_or(at).input_offset,
                what: format!(
                    "{}: the FLV body ends inside a tag ({} of {} bytes)",
                    self.input,
                    self.buf.len(),
                    self.need()
                ),
            }));
        }
        self.want = Want::Nothing;
    }

    /// A complete unit is in `buf`.
    fn unit(&mut self, out: &mut Vec<HttpEvent>) {
        let at = self.start.unwrap_or(Position {
            input_offset: 0,
            arrival_ms: None,
        });
        match self.want {
            Want::FileHeader if self.buf.starts_with(SIGNATURE) => self.want = Want::TagHeader,
            Want::FileHeader => {
                if self.typed {
                    out.push(HttpEvent::Damage(Damage::Dropped {
                        offset: at.input_offset,
                        what: format!(
                            "{}: a video/x-flv body without the FLV signature: not read",
                            self.input
                        ),
                    }));
                }
                self.want = Want::Nothing;
            }
            Want::TagHeader => {
                self.header.copy_from_slice(&self.buf);
                self.header_at = Some(at);
                let size = u32::from_be_bytes([0, self.buf[1], self.buf[2], self.buf[3]]);
                // DataSize is a UI24: it cannot exceed MAX_DATA_SIZE, kept as the bound.
                self.want = Want::Data((size as usize).min(MAX_DATA_SIZE));
            }
            Want::Data(n) => {
                let h = &self.header;
                // Timestamp (UI24) and TimestampExtended (UI8, the high byte).
                let timestamp_ms = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
                // TagType is the low 5 bits (E.4.1); the Filter and reserved bits are left out.
                let kind = TagKind::from_type(h[0] & 0x1f);
                let at = self.header_at.take().unwrap_or(at);
                if let Some(kind) = kind {
                    let tag = Tag {
                        offset: at.input_offset,
                        kind,
                        timestamp_ms,
                        data: self.buf[..n].to_vec(),
                    };
                    out.push(HttpEvent::Tag(tag, at));
                }
                self.want = Want::TagHeader;
            }
            Want::Nothing => {}
        }
    }
}

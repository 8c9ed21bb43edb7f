//! FLV framing: the file header and the tag stream (Adobe "Video File Format Specification"
//! version 10.1, Annex E.2 "The FLV header", E.3 "The FLV File Body", E.4.1 "FLV Tag").
//!
//! [`TagReader`] streams over any [`Read`], holding at most one tag (≤ 16 MiB, the 24-bit
//! `DataSize` limit) plus a read chunk, never the whole input. Damage is recovered from, not
//! fatal: a tag header that cannot be right, a `PreviousTagSize` that does not match, garbage or
//! truncation make the reader scan forward for the next plausible tag, report what it skipped
//! with absolute byte offsets, and go on. A candidate tag is plausible when its type is audio,
//! video or script, its reserved and Filter bits are 0, its `StreamID` is 0 and the
//! `PreviousTagSize` after it equals 11 + `DataSize`.

use std::io::{self, Read};

use crate::input::InputError;
use crate::media::Damage;

pub(crate) use crate::container::flv::{HEADER_LEN, TAG_HEADER_LEN};
use crate::container::flv::{PREV_SIZE_LEN, SIGNATURE, TAG_AUDIO, TAG_SCRIPT, TAG_VIDEO};
/// A header extension beyond this is taken for a corrupt `DataOffset`, not skipped.
const MAX_DATA_OFFSET: u32 = 64 * 1024;
/// Bytes asked of the underlying reader at a time.
const READ_CHUNK: usize = 64 * 1024;

/// Tag types (E.4.1 `TagType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagKind {
    /// 8
    Audio,
    /// 9
    Video,
    /// 18: AMF0 script data (`onMetaData`).
    Script,
}

impl TagKind {
    /// The kind of a `TagType` byte (its reserved and Filter bits clear), if it is one.
    pub(crate) fn from_type(t: u8) -> Option<TagKind> {
        match t {
            TAG_AUDIO => Some(TagKind::Audio),
            TAG_VIDEO => Some(TagKind::Video),
            TAG_SCRIPT => Some(TagKind::Script),
            _ => None,
        }
    }
}

/// One tag: where it starts in the input, its type, its 32-bit timestamp and its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    /// Absolute byte offset of the tag header.
    pub offset: u64,
    pub kind: TagKind,
    /// `Timestamp` with `TimestampExtended` as its high byte (E.4.1).
    pub timestamp_ms: u32,
    pub data: Vec<u8>,
}

impl Tag {
    pub(crate) fn as_ref(&self) -> TagRef<'_> {
        TagRef {
            offset: self.offset,
            kind: self.kind,
            timestamp_ms: self.timestamp_ms,
            data: &self.data,
        }
    }
}

/// A tag whose body is borrowed: from the reader's window (no copy per tag) or from a [`Tag`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TagRef<'a> {
    pub(crate) offset: u64,
    pub(crate) kind: TagKind,
    pub(crate) timestamp_ms: u32,
    pub(crate) data: &'a [u8],
}

impl TagRef<'_> {
    pub(crate) fn to_owned(self) -> Tag {
        Tag {
            offset: self.offset,
            kind: self.kind,
            timestamp_ms: self.timestamp_ms,
            data: self.data.to_vec(),
        }
    }
}

/// The FLV header fields (E.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FlvHeader {
    pub(crate) version: u8,
    /// `TypeFlagsAudio` / `TypeFlagsVideo`: advisory only, encoders set them carelessly.
    pub(crate) has_audio: bool,
    pub(crate) has_video: bool,
    pub(crate) data_offset: u32,
}

/// What the reader yields, in input order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TagEvent {
    Tag(Tag),
    Damage(Damage),
}

/// [`TagEvent`] with the tag borrowed from the reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TagEventRef<'a> {
    Tag(TagRef<'a>),
    Damage(Damage),
}

/// What [`TagReader`] found, the tag body still in its window at `body` (window indices).
enum Found {
    Tag {
        offset: u64,
        kind: TagKind,
        timestamp_ms: u32,
        body: std::ops::Range<usize>,
    },
    Damage(Damage),
}

/// A tag header as read, before its body is checked.
#[derive(Clone, Copy, Debug)]
struct TagHeader {
    type_byte: u8,
    data_size: usize,
    timestamp_ms: u32,
    stream_id: u32,
}

impl TagHeader {
    fn parse(b: &[u8]) -> Option<TagHeader> {
        let b: &[u8; TAG_HEADER_LEN] = b.get(..TAG_HEADER_LEN)?.try_into().ok()?;
        Some(TagHeader {
            type_byte: b[0],
            data_size: u32::from_be_bytes([0, b[1], b[2], b[3]]) as usize,
            // Timestamp (UI24) is the low 24 bits, TimestampExtended (UI8) the high byte.
            timestamp_ms: u32::from_be_bytes([b[7], b[4], b[5], b[6]]),
            stream_id: u32::from_be_bytes([0, b[8], b[9], b[10]]),
        })
    }

    /// Reserved (2 bits) and Filter (1 bit) are 0, the type is known, StreamID is 0.
    fn problem(&self) -> Option<String> {
        if self.type_byte & 0xC0 != 0 {
            return Some(format!(
                "reserved bits set in TagType 0x{:02x}",
                self.type_byte
            ));
        }
        if self.type_byte & 0x20 != 0 {
            return Some("Filter bit set (encrypted tags are not supported)".into());
        }
        if TagKind::from_type(self.type_byte).is_none() {
            return Some(format!("unknown TagType {}", self.type_byte));
        }
        if self.stream_id != 0 {
            return Some(format!("StreamID {} is not 0", self.stream_id));
        }
        None
    }

    fn total_len(&self) -> usize {
        TAG_HEADER_LEN + self.data_size + PREV_SIZE_LEN
    }
}

/// A read-ahead window over the input: bytes from the current position on, and their offset.
struct Window<R> {
    inner: R,
    /// Initialised storage; `buf[start..end]` is the input not consumed yet. It grows by
    /// [`READ_CHUNK`] only when less than a chunk of room is left, so a short read (a slow
    /// pipe) costs its own bytes, not a fresh chunk of zeroes.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Absolute input offset of `buf[0]`.
    base: u64,
    eof: bool,
}

impl<R: Read> Window<R> {
    fn pos(&self) -> u64 {
        self.base + self.start as u64
    }

    fn avail(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Reads until `n` bytes are available or the input ends; false if it ended first.
    fn fill(&mut self, n: usize) -> io::Result<bool> {
        while self.end - self.start < n && !self.eof {
            if self.start > 0 && self.start >= self.end / 2 {
                self.buf.copy_within(self.start..self.end, 0);
                self.base += self.start as u64;
                self.end -= self.start;
                self.start = 0;
            }
            // Grow by one chunk at a time, never by the amount asked: a claimed DataSize must
            // not allocate (or zero) more than the input actually delivers.
            if self.buf.len() - self.end < READ_CHUNK {
                self.buf.resize(self.end + READ_CHUNK, 0);
            }
            let got = loop {
                match self.inner.read(&mut self.buf[self.end..]) {
                    Ok(k) => break k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            self.end += got;
            self.eof = got == 0;
        }
        Ok(self.end - self.start >= n)
    }

    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }
}

/// Streams the tags of an FLV input, recovering from damage.
pub struct TagReader<R> {
    w: Window<R>,
    input: String,
    /// The file header as read (only the tests look at it again).
    #[cfg(test)]
    header: FlvHeader,
    /// Damage found together with a tag, reported after it.
    pending: Option<Damage>,
    done: bool,
}

impl<R: Read> TagReader<R> {
    /// Reads the FLV header and `PreviousTagSize0`; `input` names the input in errors.
    pub fn new(inner: R, input: &str) -> Result<(TagReader<R>, Vec<Damage>), InputError> {
        let mut w = Window {
            inner,
            buf: Vec::new(),
            start: 0,
            end: 0,
            base: 0,
            eof: false,
        };
        let io_err = |e| InputError::io(input, Some(0), e);
        if !w.fill(HEADER_LEN).map_err(io_err)? || &w.avail()[..3] != SIGNATURE {
            return Err(InputError::new(
                input,
                Some(0),
                "not an FLV file (no \"FLV\" signature and 9-byte header)",
            ));
        }
        let h = &w.avail()[..HEADER_LEN];
        let header = FlvHeader {
            version: h[3],
            has_audio: h[4] & 0x04 != 0,
            has_video: h[4] & 0x01 != 0,
            data_offset: u32::from_be_bytes([h[5], h[6], h[7], h[8]]),
        };
        let mut damage = Vec::new();
        let mut skip = HEADER_LEN;
        if (HEADER_LEN as u32..=MAX_DATA_OFFSET).contains(&header.data_offset) {
            skip = header.data_offset as usize;
        } else {
            damage.push(Damage::Skipped {
                offset: 5,
                len: 4,
                what: format!(
                    "FLV header DataOffset {} is impossible; reading tags after the 9-byte header",
                    header.data_offset
                ),
            });
        }
        if !w.fill(skip).map_err(io_err)? {
            return Err(InputError::new(
                input,
                Some(w.avail().len() as u64),
                format!("the input ends inside the FLV header (DataOffset {skip})"),
            ));
        }
        w.consume(skip);
        let mut reader = TagReader {
            w,
            input: input.to_string(),
            #[cfg(test)]
            header,
            pending: None,
            done: false,
        };
        reader.skip_previous_tag_size0(&mut damage)?;
        Ok((reader, damage))
    }

    /// `PreviousTagSize0` is always 0 (E.3); a tag found in its place means it was left out.
    fn skip_previous_tag_size0(&mut self, damage: &mut Vec<Damage>) -> Result<(), InputError> {
        let at = self.w.pos();
        self.fill(PREV_SIZE_LEN + TAG_HEADER_LEN)?;
        let b = self.w.avail();
        if b.len() >= PREV_SIZE_LEN && b[..PREV_SIZE_LEN] == [0; 4] {
            self.w.consume(PREV_SIZE_LEN);
            return Ok(());
        }
        if TagHeader::parse(b).is_some_and(|h| h.problem().is_none()) {
            return Ok(());
        }
        if b.len() >= PREV_SIZE_LEN {
            let v = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            damage.push(Damage::Skipped {
                offset: at,
                len: PREV_SIZE_LEN as u64,
                what: format!("PreviousTagSize0 is {v}, expected 0"),
            });
            self.w.consume(PREV_SIZE_LEN);
        }
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn header(&self) -> FlvHeader {
        self.header
    }

    /// Absolute offset of the next byte to read.
    pub fn position(&self) -> u64 {
        self.w.pos()
    }

    fn fill(&mut self, n: usize) -> Result<bool, InputError> {
        let at = self.w.pos();
        self.w
            .fill(n)
            .map_err(|e| InputError::io(&self.input, Some(at), e))
    }

    /// The next tag or damage report; `None` at the end of the input.
    pub fn next_event(&mut self) -> Result<Option<TagEvent>, InputError> {
        Ok(self.next_event_ref()?.map(|e| match e {
            TagEventRef::Tag(t) => TagEvent::Tag(t.to_owned()),
            TagEventRef::Damage(d) => TagEvent::Damage(d),
        }))
    }

    /// Like [`TagReader::next_event`], the tag body borrowed from the reader (valid until the
    /// next call).
    pub(crate) fn next_event_ref(&mut self) -> Result<Option<TagEventRef<'_>>, InputError> {
        Ok(self.next_found()?.map(|f| match f {
            Found::Tag {
                offset,
                kind,
                timestamp_ms,
                body,
            } => TagEventRef::Tag(TagRef {
                offset,
                kind,
                timestamp_ms,
                // `consume` only moves the window's start: the body stays until the next fill.
                data: self.w.buf.get(body).unwrap_or_default(),
            }),
            Found::Damage(d) => TagEventRef::Damage(d),
        }))
    }

    fn next_found(&mut self) -> Result<Option<Found>, InputError> {
        if let Some(d) = self.pending.take() {
            return Ok(Some(Found::Damage(d)));
        }
        if self.done {
            return Ok(None);
        }
        let at = self.w.pos();
        self.fill(TAG_HEADER_LEN)?;
        let avail = self.w.avail().len();
        if avail == 0 {
            self.done = true;
            return Ok(None);
        }
        let Some(h) = TagHeader::parse(self.w.avail()) else {
            // Fewer than a header's bytes after a full fill: the input ends here.
            self.w.consume(avail);
            self.done = true;
            return Ok(Some(Found::Damage(Damage::Truncated {
                offset: at,
                what: format!(
                    "tag header ({avail} of its {TAG_HEADER_LEN} bytes before the input ends)"
                ),
            })));
        };
        if let Some(problem) = h.problem() {
            return self.resync(at, problem);
        }
        let body_end = TAG_HEADER_LEN + h.data_size;
        if !self.fill(h.total_len())? {
            return self.cut_short(at, &h);
        }
        let b = self.w.avail();
        let prev = u32::from_be_bytes([
            b[body_end],
            b[body_end + 1],
            b[body_end + 2],
            b[body_end + 3],
        ]);
        if prev as usize == TAG_HEADER_LEN + h.data_size {
            let tag = self.take_tag(at, &h);
            self.w.consume(PREV_SIZE_LEN);
            return Ok(Some(tag));
        }
        self.wrong_prev_size(at, &h, prev)
    }

    /// A tag the input ends inside: whole but for its PreviousTagSize, or to be resynced past.
    fn cut_short(&mut self, at: u64, h: &TagHeader) -> Result<Option<Found>, InputError> {
        if self.w.avail().len() >= TAG_HEADER_LEN + h.data_size {
            // The body is whole; only the final PreviousTagSize is cut short.
            let tag = self.take_tag(at, h);
            self.pending = Some(Damage::Truncated {
                offset: self.w.pos(),
                what: "the PreviousTagSize after the last tag".into(),
            });
            self.w.consume(PREV_SIZE_LEN);
            self.done = true;
            return Ok(Some(tag));
        }
        self.resync(
            at,
            format!(
                "tag of type {} with DataSize {} runs past the end of the input",
                h.type_byte, h.data_size
            ),
        )
    }

    /// A wrong PreviousTagSize after a tag whose successor is where DataSize says: only that
    /// field is damaged. Otherwise DataSize itself is wrong and the tag cannot be trusted.
    fn wrong_prev_size(
        &mut self,
        at: u64,
        h: &TagHeader,
        prev: u32,
    ) -> Result<Option<Found>, InputError> {
        if self.plausible_at(h.total_len(), false)? {
            let tag = self.take_tag(at, h);
            let field_at = self.w.pos();
            self.w.consume(PREV_SIZE_LEN);
            self.pending = Some(Damage::Skipped {
                offset: field_at,
                len: PREV_SIZE_LEN as u64,
                what: format!(
                    "PreviousTagSize {prev} does not match the tag before it ({} bytes)",
                    TAG_HEADER_LEN + h.data_size
                ),
            });
            return Ok(Some(tag));
        }
        self.resync(
            at,
            format!(
                "tag of type {} with DataSize {} is followed by PreviousTagSize {prev}",
                h.type_byte, h.data_size
            ),
        )
    }

    /// Consumes the tag whose header `h` sits at the window start; its body stays in the window.
    fn take_tag(&mut self, at: u64, h: &TagHeader) -> Found {
        let start = self.w.start + TAG_HEADER_LEN;
        self.w.consume(TAG_HEADER_LEN + h.data_size);
        Found::Tag {
            offset: at,
            // problem() returned None, so the type is known.
            kind: TagKind::from_type(h.type_byte).unwrap_or(TagKind::Script),
            timestamp_ms: h.timestamp_ms,
            body: start..start + h.data_size,
        }
    }

    /// Whether a tag can start `rel` bytes ahead: its header is plausible (and with `verify`, its
    /// PreviousTagSize matches), or, without `verify`, the input ends exactly there.
    fn plausible_at(&mut self, rel: usize, verify: bool) -> Result<bool, InputError> {
        if !self.fill(rel + TAG_HEADER_LEN)? {
            return Ok(!verify && self.w.avail().len() == rel);
        }
        let Some(h) = TagHeader::parse(&self.w.avail()[rel..]) else {
            return Ok(false);
        };
        if h.problem().is_some() {
            return Ok(false);
        }
        if !verify {
            return Ok(true);
        }
        if !self.fill(rel + h.total_len())? {
            return Ok(false);
        }
        let end = rel + TAG_HEADER_LEN + h.data_size;
        let b = &self.w.avail()[end..end + PREV_SIZE_LEN];
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize == TAG_HEADER_LEN + h.data_size)
    }

    /// Skips forward from the damaged bytes at `at` to the next plausible tag and reports what
    /// was skipped, or reports the truncation when no tag follows.
    fn resync(&mut self, at: u64, what: String) -> Result<Option<Found>, InputError> {
        self.w.consume(1);
        loop {
            if !self.fill(TAG_HEADER_LEN)? {
                let lost = self.w.pos() + self.w.avail().len() as u64 - at;
                self.w.consume(self.w.avail().len());
                self.done = true;
                return Ok(Some(Found::Damage(Damage::Truncated {
                    offset: at,
                    what: format!("{what}; no valid tag in the last {lost} bytes"),
                })));
            }
            // Only a byte holding a known TagType can start a tag: skip to the next one.
            let b = self.w.avail();
            let scan = b.len() - (TAG_HEADER_LEN - 1);
            match b[..scan].iter().position(|&t| matches!(t, 8 | 9 | 18)) {
                None => self.w.consume(scan),
                Some(i) => {
                    self.w.consume(i);
                    if self.plausible_at(0, true)? {
                        return Ok(Some(Found::Damage(Damage::Skipped {
                            offset: at,
                            len: self.w.pos() - at,
                            what,
                        })));
                    }
                    self.w.consume(1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;

//! FLV tags → one push session: sequence headers become the codec configuration (source bytes,
//! or a record built from Annex B / in-band parameter sets when the source sent none, see
//! [`super::paramsets`]), media tags become packets on a repaired timeline, and everything odd
//! is reported.
//!
//! The starting configuration is settled over a bounded prelude: tags are read and their events
//! held until both tracks' sequence headers have been seen (or those `onMetaData` announces), a
//! configuration changes, or the prelude's budget ([`crate::input::prelude`]) is spent. A
//! header arriving a few tags late is therefore part of the start, not a change. After the prelude a different sequence header is an
//! [`Event::Config`]; an identical repeat is ignored.

mod audio;
mod video;

use std::collections::{HashSet, VecDeque};
use std::io::Read;
use std::sync::Arc;

use super::body::{self, MediaTag};
use super::paramsets;
use super::tags::{Tag, TagEventRef, TagKind, TagReader, TagRef};
use crate::amf0::{self, Value};
use crate::input::prelude::Budget;
use crate::input::timeline::Timeline;
use crate::input::{InputError, SessionReader};
use crate::media::{CodecConfig, Damage, Event, NotRecorded, Packet, Track, ms_to_90k};

/// What `onMetaData` said, when a script tag carried it. Advisory: never required.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FlvMetadata {
    /// `duration`, seconds in the source, here milliseconds.
    pub(crate) duration_ms: Option<i64>,
    pub(crate) video_codec_id: Option<f64>,
    pub(crate) audio_codec_id: Option<f64>,
    /// The whole ECMA array or object, keys in source order.
    pub(crate) value: Value,
}

impl FlvMetadata {
    /// Reads a script tag body: `onMetaData` (or `@setDataFrame`, `onMetaData`) then its values.
    pub(crate) fn from_script(data: &[u8]) -> Result<Option<FlvMetadata>, amf0::Amf0Error> {
        let values = amf0::decode_all(data)?;
        let mut it = values
            .into_iter()
            .skip_while(|v| v.as_str() == Some("@setDataFrame"));
        if it
            .next()
            .and_then(|v| v.as_str().map(|s| s == "onMetaData"))
            != Some(true)
        {
            return Ok(None);
        }
        let Some(value) = it.next().filter(|v| v.properties().is_some()) else {
            return Ok(None);
        };
        let num = |k: &str| {
            value
                .get(k)
                .and_then(Value::as_f64)
                .filter(|n| n.is_finite())
        };
        Ok(Some(FlvMetadata {
            duration_ms: num("duration")
                .filter(|d| *d >= 0.0 && *d < 1e12)
                .map(|d| (d * 1000.0).round() as i64),
            video_codec_id: num("videocodecid"),
            audio_codec_id: num("audiocodecid"),
            value,
        }))
    }
}

/// Tags → one push session's events: the part of the FLV logic that does not depend on where the
/// tags come from, so an FLV file ([`FlvSession`]) and RTMP media messages (`input::rtmp`) share
/// it. Tags go in with [`TagSession::push_tag`]; events come out with [`TagSession::pop_event`]
/// once the prelude has settled the starting configuration.
#[derive(Debug)]
pub struct TagSession {
    timeline: Timeline,
    /// The configuration at the session's start (settled by the prelude).
    start: Arc<CodecConfig>,
    /// The configuration in force.
    current: CodecConfig,
    queue: VecDeque<Event>,
    in_prelude: bool,
    prelude: Budget,
    metadata: Option<FlvMetadata>,
    /// Kinds of loss already reported: unsupported codecs and undecodable frames are reported
    /// once each, not once per tag.
    reported: HashSet<String>,
    /// The Enhanced RTMP ids of audio tracks 1, 2, … (see `audio`).
    audio_ids: TrackIds,
    /// The Enhanced RTMP ids of video tracks 1, 2, … (see `video`).
    video_ids: TrackIds,
    /// The ModEx TimestampOffsetNano of the media tag being read, given to its packets.
    offset_ns: u32,
}

impl Default for TagSession {
    fn default() -> TagSession {
        TagSession::new()
    }
}

impl TagSession {
    pub(crate) fn new() -> TagSession {
        TagSession {
            timeline: Timeline::new(),
            start: Arc::default(),
            current: CodecConfig::default(),
            queue: VecDeque::new(),
            in_prelude: true,
            prelude: Budget::default(),
            metadata: None,
            reported: HashSet::new(),
            audio_ids: TrackIds::default(),
            video_ids: TrackIds::default(),
            offset_ns: 0,
        }
    }

    /// Consumes one tag (an FLV tag, or an RTMP media/data message laid out as one).
    pub(crate) fn push_tag(&mut self, tag: &Tag) {
        self.push_tag_ref(tag.as_ref());
    }

    /// [`TagSession::push_tag`] for a borrowed tag.
    pub(crate) fn push_tag_ref(&mut self, tag: TagRef<'_>) {
        if self.in_prelude {
            self.prelude.item();
        }
        self.handle(tag);
        if self.in_prelude && self.prelude_complete() {
            self.end_prelude();
        }
    }

    /// Queues damage found by the framing layer, in input order with the tags.
    pub(crate) fn push_damage(&mut self, damage: Damage) {
        self.queue.push_back(Event::Damage(damage));
    }

    /// Whether the starting configuration is settled (events can be popped).
    pub(crate) fn settled(&self) -> bool {
        !self.in_prelude
    }

    /// Settles the starting configuration now (the input ended during the prelude).
    pub(crate) fn settle(&mut self) {
        if self.in_prelude {
            self.end_prelude();
        }
    }

    /// The configuration at the session's start; final once [`TagSession::settled`].
    pub(crate) fn start_config(&self) -> &Arc<CodecConfig> {
        &self.start
    }

    /// The next event; `None` while the prelude holds events back, or when none is queued.
    pub(crate) fn pop_event(&mut self) -> Option<Event> {
        if self.in_prelude {
            return None;
        }
        self.queue.pop_front()
    }

    /// `onMetaData`, if the stream carried one so far.
    #[cfg(test)]
    pub(crate) fn metadata(&self) -> Option<&FlvMetadata> {
        self.metadata.as_ref()
    }

    fn prelude_complete(&self) -> bool {
        let announced = self
            .metadata
            .as_ref()
            .filter(|m| m.video_codec_id.is_some() || m.audio_codec_id.is_some());
        let have_all = match announced {
            Some(m) => {
                (m.video_codec_id.is_none() || self.video_sized())
                    && (m.audio_codec_id.is_none() || self.current.audio.is_some())
            }
            None => self.video_sized() && self.current.audio.is_some(),
        };
        // Sequence headers come before the first frame; an Enhanced RTMP multitrack push sends
        // those of its further tracks after the first tracks' ones, so the start waits for a
        // frame.
        have_all && self.prelude.framed() || self.prelude.spent()
    }

    fn end_prelude(&mut self) {
        self.in_prelude = false;
        self.start = Arc::new(self.current.clone());
    }

    fn report_once(&mut self, key: String, offset: u64) {
        if self.reported.insert(key.clone()) {
            self.queue.push_back(Event::Damage(Damage::Dropped {
                offset,
                what: format!("{key} (later ones are dropped without another report)"),
            }));
        }
    }

    /// A codec or kind of tag kls-rec does not read: not damage, reported once.
    fn not_recorded(&mut self, what: String, offset: u64) {
        if self.reported.insert(what.clone()) {
            self.queue
                .push_back(Event::NotRecorded(NotRecorded { offset, what }));
        }
    }

    fn handle(&mut self, tag: TagRef<'_>) {
        match tag.kind {
            TagKind::Script => self.handle_script(tag),
            TagKind::Video => {
                let parsed = body::parse_video_tag(tag.data);
                self.each_body(tag, "video", parsed, Self::video_body);
            }
            TagKind::Audio => {
                let parsed = body::parse_audio(tag.data);
                self.each_body(tag, "audio", parsed, Self::audio_body);
            }
        }
    }

    /// Hands each track's body of a media tag to `handle`; a tag that does not parse is dropped.
    fn each_body<'a, B>(
        &mut self,
        tag: TagRef<'a>,
        kind: &str,
        parsed: Result<MediaTag<B>, String>,
        mut handle: impl FnMut(&mut Self, TagRef<'a>, Slot, B),
    ) {
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(what) => return self.dropped(tag, format!("{kind} tag: {what}")),
        };
        self.offset_ns = parsed.offset_ns;
        for (id, body) in parsed.tracks {
            handle(self, tag, Slot { id }, body);
        }
    }

    fn dropped(&mut self, tag: TagRef<'_>, what: String) {
        self.queue.push_back(Event::Damage(Damage::Dropped {
            offset: tag.offset,
            what,
        }));
    }

    fn handle_script(&mut self, tag: TagRef<'_>) {
        match FlvMetadata::from_script(tag.data) {
            // The first onMetaData describes the push; later ones (encoder restarts) do not
            // change what the prelude decided.
            Ok(Some(m)) if self.metadata.is_none() => self.metadata = Some(m),
            Ok(_) => {}
            Err(e) => self.queue.push_back(Event::Damage(Damage::Dropped {
                offset: tag.offset,
                what: format!("script tag: {e}"),
            })),
        }
    }

    fn install(&mut self, first: bool, set: impl FnOnce(&mut CodecConfig)) {
        if self.in_prelude && first {
            set(&mut self.current);
            return;
        }
        if self.in_prelude {
            // A real change: what came before it is the start.
            self.end_prelude();
        }
        set(&mut self.current);
        self.queue
            .push_back(Event::Config(Arc::new(self.current.clone())));
    }

    fn packet(&mut self, tag: TagRef<'_>, track: Track, keyframe: bool, cts_ms: i32, data: &[u8]) {
        // ffmpeg skips empty media tags too: they carry nothing to decode.
        if data.is_empty() {
            return;
        }
        let stamp = self.timeline.repair(track, tag.timestamp_ms, tag.offset);
        if let Some(d) = stamp.damage {
            self.queue.push_back(Event::Damage(d));
        }
        if self.in_prelude {
            self.prelude.media(ms_to_90k(stamp.dts_ms), data.len());
        }
        self.queue.push_back(Event::Packet(Packet {
            track,
            dts_90k: ms_to_90k(stamp.dts_ms),
            // |cts| < 2^23 ms, so × 90 fits in i32.
            cts_90k: cts_ms * 90,
            keyframe,
            data: data.to_vec(),
            offset_ns: self.offset_ns,
        }));
    }
}

/// Which track of the push a tag's body belongs to: its Enhanced RTMP multitrack id, or `None`
/// for a plain tag.
#[derive(Clone, Copy)]
struct Slot {
    id: Option<u8>,
}

impl Slot {
    /// Plain tags and track id 0 are a kind's first track.
    fn is_first(self) -> bool {
        matches!(self.id, None | Some(0))
    }
}

/// The Enhanced RTMP ids of one kind's tracks 1, 2, …, in the order their first configuration
/// came: plain tags and track id 0 are track 0, every other id the track after the last known.
#[derive(Debug, Default)]
struct TrackIds(Vec<u8>);

impl TrackIds {
    /// The track index of a slot whose id is known.
    fn index(&self, slot: Slot) -> Option<u8> {
        match slot.id {
            None | Some(0) => Some(0),
            Some(id) => {
                let i = self.0.iter().position(|&known| known == id)?;
                u8::try_from(i + 1).ok()
            }
        }
    }

    /// The track index of a slot, numbering an id not seen before; `None` past 255 tracks.
    fn assign(&mut self, slot: Slot) -> Option<u8> {
        if let Some(index) = self.index(slot) {
            return Some(index);
        }
        let index = u8::try_from(self.0.len() + 1).ok()?;
        self.0.extend(slot.id);
        Some(index)
    }
}

/// A source of tags for a [`TagSession`]: an FLV stream ([`FlvTags`]), an RTMP dump, a
/// capture's push, a saved HTTP-FLV response. A [`TagSessionReader`] reads a session from it.
pub trait TagSource {
    /// Feeds `session` one more unit (a tag, a message, a capture packet); false at the end.
    fn feed(&mut self, session: &mut TagSession) -> Result<bool, InputError>;

    /// Bytes of the input consumed so far.
    fn consumed(&self) -> u64;
}

/// One push session read from a [`TagSource`]: the [`SessionReader`] of every tag input.
pub struct TagSessionReader<S> {
    source: S,
    session: TagSession,
}

impl<S: TagSource> TagSessionReader<S> {
    /// Feeds `session` (perhaps already holding damage found in opening) from `source` until
    /// the prelude has settled the starting configuration.
    pub(crate) fn settle(mut source: S, mut session: TagSession) -> Result<Self, InputError> {
        while !session.settled() {
            if !source.feed(&mut session)? {
                session.settle();
            }
        }
        Ok(TagSessionReader { source, session })
    }

    /// `onMetaData`, if the stream carried one before the current position.
    #[cfg(test)]
    pub(crate) fn metadata(&self) -> Option<&FlvMetadata> {
        self.session.metadata()
    }
}

impl<S: TagSource + Send> SessionReader for TagSessionReader<S> {
    fn config(&self) -> &Arc<CodecConfig> {
        self.session.start_config()
    }

    /// What is queued, else feed until something is, and at the end settle the session, whose
    /// input may have ended during the prelude.
    fn next_event(&mut self) -> Result<Option<Event>, InputError> {
        loop {
            if let Some(e) = self.session.pop_event() {
                return Ok(Some(e));
            }
            if !self.source.feed(&mut self.session)? {
                self.session.settle();
                return Ok(self.session.pop_event());
            }
        }
    }

    fn position(&self) -> u64 {
        self.source.consumed()
    }
}

/// The tags of an FLV stream, read by a [`TagReader`]: the source of an [`FlvSession`].
pub struct FlvTags<R> {
    tags: TagReader<R>,
    eof: bool,
}

impl<R: Read> TagSource for FlvTags<R> {
    /// Reads one tag (or damage report) into the session; false at the end of the input.
    fn feed(&mut self, session: &mut TagSession) -> Result<bool, InputError> {
        if self.eof {
            return Ok(false);
        }
        match self.tags.next_event_ref()? {
            None => {
                self.eof = true;
                return Ok(false);
            }
            Some(TagEventRef::Damage(d)) => session.push_damage(d),
            Some(TagEventRef::Tag(tag)) => session.push_tag_ref(tag),
        }
        Ok(true)
    }

    fn consumed(&self) -> u64 {
        self.tags.position()
    }
}

/// Reads one push session from an FLV stream.
pub type FlvSession<R> = TagSessionReader<FlvTags<R>>;

impl<R: Read> FlvSession<R> {
    /// Reads the FLV header and the prelude; `input` names the input in errors.
    pub fn new(inner: R, input: &str) -> Result<FlvSession<R>, InputError> {
        let (tags, damage) = TagReader::new(inner, input)?;
        let mut session = TagSession::new();
        for d in damage {
            session.push_damage(d);
        }
        TagSessionReader::settle(FlvTags { tags, eof: false }, session)
    }
}

#[cfg(test)]
mod tests;

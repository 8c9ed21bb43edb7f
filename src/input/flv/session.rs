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

use std::collections::{HashSet, VecDeque};
use std::io::Read;
use std::sync::Arc;

use super::body::{self, VideoBody};
use super::paramsets;
use super::tags::{Tag, TagEventRef, TagKind, TagReader, TagRef};
use crate::amf0::{self, Value};
use crate::codec::{av1, flash, vp9};
use crate::input::prelude::Budget;
use crate::input::timeline::Timeline;
use crate::input::{InputError, SessionReader};
use crate::media::{
    BuiltRecord, CodecConfig, Damage, Event, FlvVideo, FlvVideoSignal, NotRecorded, Packet, Track,
    VideoCodec, VideoConfig, ms_to_90k,
};

/// What `onMetaData` said, when a script tag carried it. Advisory: never required.
#[derive(Clone, Debug, PartialEq)]
pub struct FlvMetadata {
    /// `duration`, seconds in the source, here milliseconds.
    pub duration_ms: Option<i64>,
    pub video_codec_id: Option<f64>,
    pub audio_codec_id: Option<f64>,
    /// The whole ECMA array or object, keys in source order.
    pub value: Value,
}

impl FlvMetadata {
    /// Reads a script tag body: `onMetaData` (or `@setDataFrame`, `onMetaData`) then its values.
    pub fn from_script(data: &[u8]) -> Result<Option<FlvMetadata>, amf0::Amf0Error> {
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
    audio_ids: Vec<u8>,
}

impl Default for TagSession {
    fn default() -> TagSession {
        TagSession::new()
    }
}

impl TagSession {
    pub fn new() -> TagSession {
        TagSession {
            timeline: Timeline::new(),
            start: Arc::default(),
            current: CodecConfig::default(),
            queue: VecDeque::new(),
            in_prelude: true,
            prelude: Budget::default(),
            metadata: None,
            reported: HashSet::new(),
            audio_ids: Vec::new(),
        }
    }

    /// Consumes one tag (an FLV tag, or an RTMP media/data message laid out as one).
    pub fn push_tag(&mut self, tag: &Tag) {
        self.push_tag_ref(tag.as_ref());
    }

    /// [`TagSession::push_tag`] for a borrowed tag.
    pub fn push_tag_ref(&mut self, tag: TagRef<'_>) {
        if self.in_prelude {
            self.prelude.item();
        }
        self.handle(tag);
        if self.in_prelude && self.prelude_complete() {
            self.end_prelude();
        }
    }

    /// Queues damage found by the framing layer, in input order with the tags.
    pub fn push_damage(&mut self, damage: Damage) {
        self.queue.push_back(Event::Damage(damage));
    }

    /// Whether the starting configuration is settled (events can be popped).
    pub fn settled(&self) -> bool {
        !self.in_prelude
    }

    /// Settles the starting configuration now (the input ended during the prelude).
    pub fn settle(&mut self) {
        if self.in_prelude {
            self.end_prelude();
        }
    }

    /// The configuration at the session's start; final once [`TagSession::settled`].
    pub fn start_config(&self) -> &Arc<CodecConfig> {
        &self.start
    }

    /// The next event; `None` while the prelude holds events back, or when none is queued.
    pub fn pop_event(&mut self) -> Option<Event> {
        if self.in_prelude {
            return None;
        }
        self.queue.pop_front()
    }

    /// `onMetaData`, if the stream carried one so far.
    pub fn metadata(&self) -> Option<&FlvMetadata> {
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

    /// The video track is configured and, unless its codec only says so in a frame, sized.
    fn video_sized(&self) -> bool {
        self.current
            .video
            .as_ref()
            .is_some_and(|v| v.width != 0 || v.codec.size_in_config())
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

    /// Reports the tracks of a multitrack video tag other than track 0; returns its body.
    fn video_tracks<'a>(&mut self, tag: body::VideoTag<'a>, offset: u64) -> VideoBody<'a> {
        for id in &tag.other_tracks {
            self.not_recorded(
                format!("video track {id} (Enhanced RTMP multitrack; kls-rec records track 0)"),
                offset,
            );
        }
        tag.body
    }

    fn handle(&mut self, tag: TagRef<'_>) {
        match tag.kind {
            TagKind::Script => self.handle_script(tag),
            TagKind::Video => {
                match body::parse_video_tag(tag.data).map(|t| self.video_tracks(t, tag.offset)) {
                    Err(what) => self.queue.push_back(Event::Damage(Damage::Dropped {
                        offset: tag.offset,
                        what: format!("video tag: {what}"),
                    })),
                    Ok(VideoBody::Config {
                        codec,
                        signal,
                        record,
                    }) => self.video_header(codec, signal, record),
                    Ok(VideoBody::Frame {
                        codec,
                        keyframe,
                        cts_ms,
                        data,
                    }) => match &self.current.video {
                        None if keyframe => self.in_band_config(tag, codec, cts_ms, data),
                        None => self.report_once(
                            "video frames before the first video sequence header".into(),
                            tag.offset,
                        ),
                        Some(v) if v.codec != codec => self.report_once(
                            format!("{} frames in a {} stream", codec.name(), v.codec.name()),
                            tag.offset,
                        ),
                        Some(_) => {
                            if keyframe {
                                self.size_from_keyframe(data);
                            }
                            self.packet(tag, Track::VIDEO, keyframe, cts_ms, data)
                        }
                    },
                    Ok(VideoBody::FlvOnly {
                        codec,
                        keyframe,
                        tag: body,
                    }) => self.flv_only_video(tag, codec, keyframe, body),
                    Ok(VideoBody::EndOfSequence | VideoBody::NotMedia) => {}
                    Ok(VideoBody::Unsupported(what)) => self.not_recorded(what, tag.offset),
                }
            }
            TagKind::Audio => self.handle_audio(tag),
        }
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

    /// A video sequence header: a decoder configuration record, or Annex B parameter sets from
    /// which one is built ([`paramsets`]). Annex B from which none can be built is carried as
    /// received, like any record that does not parse; the writers that need one say why.
    fn video_header(&mut self, codec: VideoCodec, signal: FlvVideoSignal, body: &[u8]) {
        let (record, built) =
            match paramsets::is_annex_b(body).then(|| paramsets::from_annex_b(codec, body)) {
                Some(Ok(record)) => (record, Some(BuiltRecord::AnnexB(body.to_vec()))),
                Some(Err(_)) | None => (body.to_vec(), None),
            };
        self.configure_video(video_config(codec, signal, record), built);
    }

    /// A frame of a codec only FLV carries, which has no sequence header: the first frame
    /// configures the track, sized by its picture header when it states one (a keyframe sizes
    /// it later otherwise), and the whole tag body is the packet.
    fn flv_only_video(&mut self, tag: TagRef<'_>, legacy: FlvVideo, keyframe: bool, body: &[u8]) {
        let codec = VideoCodec::FlvOnly(legacy);
        if self
            .current
            .video
            .as_ref()
            .is_some_and(|v| v.codec == codec)
        {
            if keyframe {
                self.size_from_keyframe(body);
            }
        } else {
            let mut cfg = video_config(codec, FlvVideoSignal::CodecId, Vec::new());
            if let Ok(Some((width, height))) = flash::picture_size(legacy, body) {
                (cfg.width, cfg.height) = (width, height);
            }
            self.configure_video(cfg, None);
        }
        self.packet(tag, Track::VIDEO, keyframe, 0, body);
    }

    /// A track whose record does not give the picture size (VP9, or an AV1 record without its
    /// sequence header) takes it from its first keyframe, silently while the start is settling.
    fn size_from_keyframe(&mut self, data: &[u8]) {
        let Some(v) = self.current.video.as_mut().filter(|v| v.width == 0) else {
            return;
        };
        if !self.in_prelude {
            return;
        }
        let size = match v.codec {
            VideoCodec::Vp9 => vp9::parse_keyframe_header(data)
                .ok()
                .flatten()
                .map(|h| (h.width, h.height)),
            VideoCodec::Av1 => av1::find_sequence_header(data)
                .ok()
                .flatten()
                .map(|s| (s.width, s.height)),
            VideoCodec::FlvOnly(legacy) => flash::picture_size(legacy, data).ok().flatten(),
            VideoCodec::H264 | VideoCodec::Hevc => None,
        };
        if let Some((width, height)) = size {
            (v.width, v.height) = (width, height);
        }
    }

    /// A keyframe before any video sequence header: when it carries its parameter sets in-band,
    /// they configure the track (a record is built) and the frame is the track's first packet.
    fn in_band_config(&mut self, tag: TagRef<'_>, codec: VideoCodec, cts_ms: i32, data: &[u8]) {
        match paramsets::from_in_band(codec, data) {
            Some(Ok(record)) => {
                let signal = body::video_signal(tag.data[0]);
                let cfg = video_config(codec, signal, record);
                self.configure_video(cfg, Some(BuiltRecord::InBand));
                self.packet(tag, Track::VIDEO, true, cts_ms, data);
            }
            Some(Err(why)) => self.report_once(
                format!(
                    "video frames before the first video sequence header (the in-band \
                     parameter sets are incomplete: {why})"
                ),
                tag.offset,
            ),
            None => self.report_once(
                "video frames before the first video sequence header".into(),
                tag.offset,
            ),
        }
    }

    /// Installs the video configuration (whose record may have been built): silently at the
    /// start, as an event afterwards.
    fn configure_video(&mut self, new: VideoConfig, built: Option<BuiltRecord>) {
        if self.current.video.as_ref() == Some(&new) && self.current.video_built == built {
            return;
        }
        let first = self.current.video.is_none();
        self.install(first, move |c| {
            c.video = Some(new);
            c.video_built = built;
        });
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
        }));
    }
}

fn video_config(codec: VideoCodec, flv_signal: FlvVideoSignal, record: Vec<u8>) -> VideoConfig {
    let (width, height) = crate::codec::coded_size(codec, &record).unwrap_or((0, 0));
    VideoConfig {
        codec,
        record,
        width,
        height,
        flv_signal,
    }
}

/// Reads one push session from an FLV stream: a [`TagReader`] feeding a [`TagSession`].
pub struct FlvSession<R> {
    tags: TagReader<R>,
    session: TagSession,
    eof: bool,
}

impl<R: Read> FlvSession<R> {
    /// Reads the FLV header and the prelude; `input` names the input in errors.
    pub fn new(inner: R, input: &str) -> Result<FlvSession<R>, InputError> {
        let (tags, damage) = TagReader::new(inner, input)?;
        let mut s = FlvSession {
            tags,
            session: TagSession::new(),
            eof: false,
        };
        for d in damage {
            s.session.push_damage(d);
        }
        while !s.session.settled() {
            if !s.read_one()? {
                s.session.settle();
            }
        }
        Ok(s)
    }

    /// `onMetaData`, if the stream carried one before the current position.
    pub fn metadata(&self) -> Option<&FlvMetadata> {
        self.session.metadata()
    }

    /// Reads one tag (or damage report) into the session; false at the end of the input.
    fn read_one(&mut self) -> Result<bool, InputError> {
        if self.eof {
            return Ok(false);
        }
        match self.tags.next_event_ref()? {
            None => {
                self.eof = true;
                return Ok(false);
            }
            Some(TagEventRef::Damage(d)) => self.session.push_damage(d),
            Some(TagEventRef::Tag(tag)) => self.session.push_tag_ref(tag),
        }
        Ok(true)
    }
}

/// A source of tags for a [`TagSession`]: the FLV file reader, the RTMP dump, capture and saved
/// HTTP-FLV response readers. Each is a [`SessionReader`] through it.
pub trait TagFeed: Send {
    fn session(&self) -> &TagSession;

    fn session_mut(&mut self) -> &mut TagSession;

    /// Feeds the session one more unit (a tag, a message, a capture packet); false at the end.
    fn feed(&mut self) -> Result<bool, InputError>;

    /// Bytes of the input consumed so far.
    fn consumed(&self) -> u64;
}

impl<T: TagFeed> SessionReader for T {
    fn config(&self) -> &Arc<CodecConfig> {
        self.session().start_config()
    }

    /// What is queued, else feed until something is, and at the end settle the session, whose
    /// input may have ended during the prelude.
    fn next_event(&mut self) -> Result<Option<Event>, InputError> {
        loop {
            if let Some(e) = self.session_mut().pop_event() {
                return Ok(Some(e));
            }
            if !self.feed()? {
                self.session_mut().settle();
                return Ok(self.session_mut().pop_event());
            }
        }
    }

    fn position(&self) -> u64 {
        self.consumed()
    }
}

impl<R: Read + Send> TagFeed for FlvSession<R> {
    fn session(&self) -> &TagSession {
        &self.session
    }

    fn session_mut(&mut self) -> &mut TagSession {
        &mut self.session
    }

    fn feed(&mut self) -> Result<bool, InputError> {
        self.read_one()
    }

    fn consumed(&self) -> u64 {
        self.tags.position()
    }
}

#[cfg(test)]
mod tests;

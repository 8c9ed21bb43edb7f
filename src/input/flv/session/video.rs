//! Video tags → the video tracks: legacy H.264 and HEVC (CodecID 7, 12, and 13 for AV1), the
//! Enhanced RTMP FourCCs (`avc1`, `hvc1`, `av01`, `vp09`), and the codecs only FLV carries
//! (Sorenson H.263, Screen video, VP6), whose whole tag bodies are the packets.
//!
//! E-RTMP v2 multitrack tags carry several video tracks: each is a track of the session, numbered
//! as audio tracks are (see `audio`), with its id kept so the FLV writer signals it the same way.
//! The first track's sequence header may be Annex B, or missing with the parameter sets in-band,
//! and then a record is built ([`super::paramsets`]); a further track needs its record.

use super::{Slot, TagSession, body, paramsets};
use crate::codec::{av1, flash, vp9};
use crate::input::flv::body::VideoBody;
use crate::input::flv::tags::TagRef;
use crate::media::{BuiltRecord, FlvVideo, FlvVideoSignal, Track, VideoCodec, VideoConfig};

impl TagSession {
    pub(super) fn video_body(&mut self, tag: TagRef<'_>, slot: Slot, body: VideoBody<'_>) {
        match body {
            VideoBody::Config {
                codec,
                signal,
                record,
            } => self.video_header(slot, codec, signal, record),
            VideoBody::Frame {
                codec,
                keyframe,
                cts_ms,
                data,
            } => match self.video_codec(slot) {
                None if keyframe && slot.is_first() => {
                    self.in_band_config(tag, slot, codec, cts_ms, data)
                }
                None => self.report_once(
                    "video frames before the first video sequence header".into(),
                    tag.offset,
                ),
                Some((_, known)) if known != codec => self.report_once(
                    format!("{} frames in a {} stream", codec.name(), known.name()),
                    tag.offset,
                ),
                Some((track, _)) => {
                    if keyframe {
                        self.size_from_keyframe(track, data);
                    }
                    self.packet(tag, track, keyframe, cts_ms, data)
                }
            },
            VideoBody::FlvOnly {
                codec,
                keyframe,
                tag: body,
            } => self.flv_only_video(tag, slot, codec, keyframe, body),
            VideoBody::EndOfSequence | VideoBody::NotMedia => {}
            VideoBody::Unsupported(what) => self.not_recorded(what, tag.offset),
        }
    }

    /// A frame of a codec only FLV carries, which has no sequence header (and no multitrack
    /// form: it is always the first track): the first frame configures the track, sized by its
    /// picture header when it states one (a keyframe sizes it later otherwise), and the whole
    /// tag body is the packet.
    fn flv_only_video(
        &mut self,
        tag: TagRef<'_>,
        slot: Slot,
        legacy: FlvVideo,
        keyframe: bool,
        body: &[u8],
    ) {
        let codec: VideoCodec = legacy.into();
        match self.video_codec(slot) {
            Some((track, known)) if known == codec => {
                if keyframe {
                    self.size_from_keyframe(track, body);
                }
            }
            Some(_) | None => {
                let mut cfg = video_config(codec, FlvVideoSignal::CodecId, Vec::new(), slot);
                if let Ok(Some((width, height))) = flash::picture_size(legacy, body) {
                    (cfg.width, cfg.height) = (width, height);
                }
                self.configure_video(slot, cfg, None);
            }
        }
        if let Some((track, _)) = self.video_codec(slot) {
            self.packet(tag, track, keyframe, 0, body);
        }
    }

    /// The session track of a tag's video track and its codec, once its first configuration
    /// has come.
    fn video_codec(&self, slot: Slot) -> Option<(Track, VideoCodec)> {
        let track = Track::video(self.video_ids.index(slot)?);
        Some((track, self.current.video_track(track.index)?.codec))
    }

    /// Every video track is configured and, unless its codec only says so in a keyframe, sized.
    pub(super) fn video_sized(&self) -> bool {
        self.current.video.is_some()
            && self
                .current
                .video_tracks()
                .all(|(_, v)| v.width != 0 || v.codec.size_in_config())
    }

    /// A video sequence header: a decoder configuration record, or for the first track Annex B
    /// parameter sets from which one is built ([`paramsets`]). Annex B from which none can be
    /// built is carried as received, like any record that does not parse; the writers that need
    /// one say why.
    fn video_header(&mut self, slot: Slot, codec: VideoCodec, signal: FlvVideoSignal, body: &[u8]) {
        let built = (slot.is_first() && paramsets::is_annex_b(body))
            .then(|| paramsets::from_annex_b(codec, body));
        let (record, built) = match built {
            Some(Ok(record)) => (record, Some(BuiltRecord::AnnexB(body.to_vec()))),
            Some(Err(_)) | None => (body.to_vec(), None),
        };
        self.configure_video(slot, video_config(codec, signal, record, slot), built);
    }

    /// A track whose record does not give the picture size (VP9, or an AV1 record without its
    /// sequence header) takes it from its first keyframe, silently while the start is settling.
    fn size_from_keyframe(&mut self, track: Track, data: &[u8]) {
        if !self.in_prelude {
            return;
        }
        let Some(v) = self
            .current
            .video_track_mut(track.index)
            .filter(|v| v.width == 0)
        else {
            return;
        };
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

    /// A keyframe of the first track before any video sequence header: when it carries its
    /// parameter sets in-band, they configure the track (a record is built) and the frame is the
    /// track's first packet.
    fn in_band_config(
        &mut self,
        tag: TagRef<'_>,
        slot: Slot,
        codec: VideoCodec,
        cts_ms: i32,
        data: &[u8],
    ) {
        match paramsets::from_in_band(codec, data) {
            Some(Ok(record)) => {
                let signal = body::video_signal(tag.data[0]);
                let cfg = video_config(codec, signal, record, slot);
                self.configure_video(slot, cfg, Some(BuiltRecord::InBand));
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

    /// Installs a video track's configuration (the first track's record may have been built),
    /// numbering a new multitrack id: silently at the start, as an event afterwards.
    fn configure_video(&mut self, slot: Slot, new: VideoConfig, built: Option<BuiltRecord>) {
        let Some(index) = self.video_ids.assign(slot) else {
            return;
        };
        let old = self.current.video_track(index);
        let same_form = index != 0 || self.current.video_built == built;
        if old == Some(&new) && same_form {
            return;
        }
        let first = old.is_none();
        self.install(first, move |c| {
            c.set_video_track(index, new);
            if index == 0 {
                c.video_built = built;
            }
        });
    }
}

fn video_config(
    codec: VideoCodec,
    flv_signal: FlvVideoSignal,
    record: Vec<u8>,
    slot: Slot,
) -> VideoConfig {
    let (width, height) = crate::codec::coded_size(codec, &record).unwrap_or((0, 0));
    VideoConfig {
        codec,
        record,
        width,
        height,
        flv_signal,
        flv_track: slot.id,
    }
}

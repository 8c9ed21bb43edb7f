//! The `onMetaData` script tag (FLV v10.1 Annex E.5, "onMetaData"), with the yamdi/flvmeta
//! `keyframes` index (`times`, `filepositions`) that ffmpeg's FLV demuxer reads as its seek index.
//!
//! Every number is an AMF0 double (9 bytes whatever its value), so the tag's size depends only on
//! which fields are present and how many index entries there are: the writer encodes it once with
//! zero offsets to learn its size, then again with the final file size and tag positions.
//!
//! How ffmpeg reads it (libavformat/flvdec.c): `duration` becomes the format duration;
//! `videodatarate` and `audiodatarate` (kbit/s, 1 kbit = 1024 bit) become each stream's
//! `bit_rate` as `(int64) (value * 1024)`; `framerate` becomes the video stream's
//! `avg_frame_rate`. These well-known keys (`filesize` too) are kept out of ffprobe's format tags.
//! The index is used only with at least two entries, the first at or after the end of the script
//! tag; ffmpeg attaches it to the first stream created after the script tag (here the video).

use crate::amf0::{self, Value};
use crate::container::flv;
use crate::media::{AudioConfig, CodecConfig, Track, VideoConfig};

/// Per-track counts gathered while writing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TrackStats {
    pub(crate) packets: u64,
    /// Sum of the codec payloads (what ffprobe reports as packet sizes).
    pub(crate) payload_bytes: u64,
    first_dts_ms: i64,
    last_dts_ms: i64,
    /// DTS step before the last packet: the last packet's assumed duration.
    last_step_ms: i64,
    last_pts_ms: i64,
    /// Latest presentation end seen so far (PTS + the packet's duration).
    end_ms: i64,
}

impl TrackStats {
    pub(crate) fn add(&mut self, dts_ms: i64, pts_ms: i64, payload_len: usize) {
        if self.packets == 0 {
            self.first_dts_ms = dts_ms;
        } else {
            // A packet lasts until the next DTS of its track.
            self.last_step_ms = dts_ms - self.last_dts_ms;
            self.end_ms = self.end_ms.max(self.last_pts_ms + self.last_step_ms);
        }
        self.packets += 1;
        self.payload_bytes += payload_len as u64;
        self.last_dts_ms = dts_ms;
        self.last_pts_ms = pts_ms;
    }

    pub(crate) fn last_dts_ms(&self) -> i64 {
        self.last_dts_ms
    }

    /// Presentation end of the track: the last packet lasts as long as the step before it.
    pub(crate) fn end_ms(&self) -> i64 {
        if self.packets == 0 {
            return 0;
        }
        self.end_ms.max(self.last_pts_ms + self.last_step_ms)
    }

    /// Frames per second over the DTS span, when there are at least two packets.
    fn rate(&self) -> Option<f64> {
        let span_ms = self.last_dts_ms - self.first_dts_ms;
        (self.packets >= 2 && span_ms > 0)
            .then(|| (self.packets - 1) as f64 * 1000.0 / span_ms as f64)
    }
}

/// One `keyframes` entry: the tag's timestamp and where its tag header starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    pub(crate) time_ms: u32,
    /// Offset in the spooled body; the file position adds the header and script tag lengths.
    pub(crate) body_offset: u64,
}

/// What the script tag says, gathered over the whole file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Summary<'a> {
    pub(crate) config: &'a CodecConfig,
    pub(crate) video: &'a TrackStats,
    /// The video tracks after the first, together.
    pub(crate) other_video: &'a TrackStats,
    pub(crate) audio: &'a TrackStats,
    /// The audio tracks after the first, together.
    pub(crate) other_audio: &'a TrackStats,
    pub(crate) index: &'a [IndexEntry],
}

impl Summary<'_> {
    /// File duration in milliseconds: from 0 to the latest presentation end of any track, as
    /// ffmpeg's FLV muxer computes it.
    pub(crate) fn duration_ms(&self) -> i64 {
        let audio_end = self.audio.end_ms().max(self.other_audio.end_ms());
        let video_end = self.video.end_ms().max(self.other_video.end_ms());
        video_end.max(audio_end).max(0)
    }

    /// Bit rate of a track over the file duration, rounded to whole bits per second, so that
    /// ffprobe's `bit_rate` (the data rate × 1024) is exactly this integer.
    pub(crate) fn bit_rate(&self, track: &TrackStats) -> Option<u64> {
        if track.packets == 0 {
            return None;
        }
        super::bit_rate(track.payload_bytes, self.duration_ms())
    }

    /// The script tag's data: the string `onMetaData` and the ECMA array, with file positions
    /// offset by `body_start` (where the spooled body begins in the file) and the given file size.
    pub(crate) fn encode(&self, body_start: u64, file_size: u64) -> Vec<u8> {
        let mut out = Vec::new();
        amf0::encode(&Value::String("onMetaData".into()), &mut out);
        amf0::encode(
            &Value::EcmaArray(self.properties(body_start, file_size)),
            &mut out,
        );
        out
    }

    fn properties(&self, body_start: u64, file_size: u64) -> Vec<(String, Value)> {
        let mut p: Vec<(String, Value)> = Vec::new();
        let mut num = |k: &str, v: f64| p.push((k.to_string(), Value::Number(v)));
        num("duration", self.duration_ms() as f64 / 1000.0);
        if let Some(v) = &self.config.video {
            if v.width > 0 && v.height > 0 {
                num("width", f64::from(v.width));
                num("height", f64::from(v.height));
            }
            if let Some(bps) = self.bit_rate(self.video) {
                num("videodatarate", bps as f64 / 1024.0);
            }
            if let Some(fps) = self.video.rate() {
                num("framerate", fps);
            }
            num("videocodecid", video_codec_id(v));
        }
        if let Some(a) = &self.config.audio {
            if let Some(bps) = self.bit_rate(self.audio) {
                num("audiodatarate", bps as f64 / 1024.0);
            }
            num("audiosamplerate", f64::from(a.sample_rate));
            // SoundSize bit of the sound byte: 1 = 16-bit samples; Enhanced RTMP audio has
            // no such bit, and FFmpeg writes 16.
            num(
                "audiosamplesize",
                if a.flv_sound_byte & flv::SOUND_SIZE_16_BIT != 0 || super::enhanced_audio(a) {
                    16.0
                } else {
                    8.0
                },
            );
            p.push(("stereo".into(), Value::Boolean(a.channels >= 2)));
            p.push(("audiocodecid".into(), Value::Number(audio_codec_id(a))));
        }
        p.push(("filesize".into(), Value::Number(file_size as f64)));
        if self.index.len() >= 2 {
            let times = self
                .index
                .iter()
                .map(|e| Value::Number(f64::from(e.time_ms) / 1000.0));
            let positions = self
                .index
                .iter()
                .map(|e| Value::Number((body_start + e.body_offset) as f64));
            p.push((
                "keyframes".into(),
                Value::Object(vec![
                    ("times".into(), Value::StrictArray(times.collect())),
                    (
                        "filepositions".into(),
                        Value::StrictArray(positions.collect()),
                    ),
                ]),
            ));
        }
        p
    }
}

/// `videocodecid`: the legacy CodecID, or for Enhanced RTMP the FourCC as a number, as the
/// Enhanced RTMP spec's onMetaData section says.
fn video_codec_id(v: &VideoConfig) -> f64 {
    match super::video_form(Track::VIDEO, v) {
        super::VideoForm::Legacy(id) => f64::from(id),
        super::VideoForm::Enhanced | super::VideoForm::Multitrack(_) => {
            fourcc_number(v.codec.ids().fourcc)
        }
    }
}

/// `audiocodecid`: the legacy SoundFormat, or for an Enhanced RTMP audio codec its FourCC as a
/// number.
fn audio_codec_id(a: &AudioConfig) -> f64 {
    match a.codec.ids().flv_sound_format {
        Some(format) if !super::enhanced_audio(a) => f64::from(format),
        Some(_) | None => fourcc_number(a.codec.ids().fourcc),
    }
}

/// A FourCC as the number onMetaData gives it; every codec written without a legacy id has one.
fn fourcc_number(fourcc: Option<[u8; 4]>) -> f64 {
    f64::from(u32::from_be_bytes(fourcc.unwrap_or_default()))
}

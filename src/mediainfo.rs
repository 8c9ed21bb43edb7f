//! ffprobe-style media information: the `outMediainfo` of MP4 and FLV callbacks (README
//! "Callbacks"), computed from what kls-rec wrote, never by running ffprobe, with the names and
//! values `ffprobe -show_format -show_streams` (FFmpeg 5.1) prints for the same file.
//!
//! Streams are listed video first (index 0), then each audio track in order; in FLV, where
//! ffprobe numbers the streams in the order their first tags come, a video track with no
//! sequence header (a codec only FLV carries) comes where its first packet does. The rules below are FFmpeg's
//! (`libavformat/flvdec.c`, `mov.c`, `demux.c`), checked against ffprobe 5.1 on remuxes of the
//! fixtures. *Packet duration* means the DTS distance to the track's next packet; the last packet
//! of a track lasts as long as the one before it. *Presentation end* is the largest PTS +
//! duration of a track; *media duration* is last DTS − first DTS + last duration (the sum of an
//! MP4 `stts`).
//!
//! **MP4** (`format_name` `mov,mp4,m4a,3gp,3g2,mj2`):
//! - `duration` is the `mvhd` duration: the latest presentation end of any track minus the
//!   earliest PTS of any track, so the MP4 writer must write exactly that (edit lists that start
//!   each track at its first PTS, with an empty edit for a track that starts later). The value
//!   here is exact in µs; an `mvhd` timescale of 1000 rounds it to the millisecond.
//! - stream `bit_rate` = ⌊track bytes × 8 × timescale / `mdhd` duration⌋: the media duration,
//!   so sample durations in `stts` must follow the rule above.
//! - `r_frame_rate`: when the `stts` has one entry (or two, the second of one sample),
//!   timescale / sample delta; otherwise FFmpeg's guess from the first 20 DTS deltas (below).
//!
//! **FLV** (`format_name` `flv`): ffprobe trusts `onMetaData`.
//! - `duration` is the `duration` property (without it, the last tag's timestamp: an H.264
//!   end-of-sequence tag makes that the last video DTS, shorter than the media). The FLV writer
//!   must write [`flv_metadata`]'s `duration_s`: the latest presentation end relative to the
//!   first tag's timestamp, in seconds (what FFmpeg's `flvenc` writes).
//! - stream `bit_rate` is `videodatarate` / `audiodatarate` × 1024 (for AC-3 and E-AC-3 the
//!   syncframe header's nominal rate, which FFmpeg's parser puts in its place); without them
//!   ffprobe prints none. [`flv_metadata`]'s values are the writer's (`crate::mux::flv::bit_rate`: a track's
//!   payload bits over the *file* duration, rounded, / 1024, exact in a double), not MP4's rule
//!   (over the track's own media duration), which differs where a track starts late or ends
//!   early. The properties are 8-byte AMF0 numbers, so they can be rewritten in place once the
//!   file's packets are known.
//! - `r_frame_rate`: FFmpeg's guess from the first 40 DTS deltas in milliseconds.
//!
//! **Both**: format `bit_rate` = ⌊size × 8 / duration⌋, computed as FFmpeg does, in doubles
//! over the duration in whole µs. `duration` prints with 6 decimals.
//! `width`/`height` come from the SPS (after cropping / the conformance window),
//! `sample_rate`/`channels` from the AudioSpecificConfig as a decoder outputs them (HE-AAC:
//! the SBR rate; HE-AACv2: 2 channels), or from the MP3 frame header.
//!
//! FFmpeg's frame-rate guess (`ff_rfps_add_frame` / `ff_rfps_calculate`) for H.264 and HEVC:
//! over the first deltas of the video DTS (40 when the time base is coarser than 0.5 ms, else
//! 20; fewer when the file ends), if more than 15 deltas were seen and the GCD of the deltas
//! after the 4th exceeds max(1, time-base denominator / 500), the rate is 1 / (GCD × time base).
//! Otherwise each of 399 standard rates (n/12 fps for n ≤ 360, 31–60, 80, 120 and 240 fps, and
//! 24, 30, 60, 12, 15, 48 × 1000/1001) is scored by the variance of the DTS' distance to that
//! rate's frame grid; the lowest under 0.01 wins. Without a winner: the SPS timing, else
//! 1 / time base. In MP4 the analysis stops after 5 s of DTS, in FLV after 90 s; a probe limit
//! of 5 MB (reached only above ~30 Mbit/s within 40 frames) is not modelled.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::codec::{aac, ac3, h264, hevc};
use crate::format::Format;
use crate::media::{self, AudioCodec, CodecConfig, Packet, Track, TrackKind, VideoCodec};

/// The first video DTS values kept for the frame-rate guess (40 deltas + 1).
const RFPS_MAX_DTS: usize = 41;

/// Per-track counters, updated per packet.
#[derive(Clone, Debug, Default)]
pub(crate) struct TrackStats {
    pub(crate) packets: u64,
    pub(crate) bytes: u64,
    pub(crate) keyframes: u64,
    pub(crate) first_dts_90k: Option<i64>,
    pub(crate) last_dts_90k: i64,
    pub(crate) min_pts_90k: i64,
    pub(crate) max_pts_90k: i64,
    /// DTS distance between the last two packets: the last packet's duration.
    pub(crate) last_duration_90k: i64,
    /// Largest PTS + duration among packets whose duration is known (all but the last).
    max_end_before_last_90k: i64,
    last_pts_90k: i64,
    /// Runs of equal DTS deltas, capped at 3, and the length of the current run (the shape of
    /// an MP4 `stts` that ffprobe inspects).
    delta_runs: u8,
    last_run_len: u64,
    /// The first DTS values, for the frame-rate guess.
    first_dts: Vec<i64>,
    /// Where the track's first packet is among the file's packets (0 for the file's first).
    pub(crate) first_packet: Option<u64>,
}

impl TrackStats {
    fn add(&mut self, p: &Packet) {
        let pts = p.pts_90k();
        self.packets += 1;
        self.bytes += p.data.len() as u64;
        self.keyframes += u64::from(p.keyframe);
        if self.first_dts.len() < RFPS_MAX_DTS {
            self.first_dts.push(p.dts_90k);
        }
        if self.first_dts_90k.is_none() {
            self.first_dts_90k = Some(p.dts_90k);
            self.min_pts_90k = pts;
            self.max_pts_90k = pts;
            self.max_end_before_last_90k = i64::MIN;
        } else {
            let delta = p.dts_90k.saturating_sub(self.last_dts_90k);
            self.max_end_before_last_90k = self
                .max_end_before_last_90k
                .max(self.last_pts_90k.saturating_add(delta));
            if self.packets == 2 || delta != self.last_duration_90k {
                self.delta_runs = self.delta_runs.saturating_add(1).min(3);
                self.last_run_len = 1;
            } else {
                self.last_run_len += 1;
            }
            self.last_duration_90k = delta;
            self.min_pts_90k = self.min_pts_90k.min(pts);
            self.max_pts_90k = self.max_pts_90k.max(pts);
        }
        self.last_dts_90k = p.dts_90k;
        self.last_pts_90k = pts;
    }

    /// Largest PTS + duration (the presentation end).
    pub(crate) fn presentation_end_90k(&self) -> i64 {
        self.max_end_before_last_90k
            .max(self.last_pts_90k.saturating_add(self.last_duration_90k))
    }

    /// Last DTS − first DTS + last duration: the sum of the sample durations.
    pub(crate) fn media_duration_90k(&self) -> i64 {
        media::media_duration_90k(
            self.first_dts_90k,
            self.last_dts_90k,
            self.last_duration_90k,
        )
    }

    /// ⌊bytes × 8 / media duration⌋ in bit/s; `None` when the duration is zero.
    pub(crate) fn bit_rate(&self) -> Option<u64> {
        media::bit_rate(self.bytes, self.media_duration_90k())
    }

    /// True when every DTS delta is the same, or all but a last single one: an MP4 `stts` of
    /// one entry, or two with the second of one sample.
    fn constant_delta(&self) -> bool {
        self.delta_runs == 1 || (self.delta_runs == 2 && self.last_run_len == 1)
    }

    /// The first DTS delta, for a constant-rate track.
    fn first_delta_90k(&self) -> Option<i64> {
        match self.first_dts.as_slice() {
            [a, b, ..] => Some(b.saturating_sub(*a)),
            _ => None,
        }
    }
}

/// What [`describe`] needs of a file's packets. Cheap: it runs per packet.
#[derive(Clone, Debug, Default)]
pub(crate) struct FileStats {
    /// The first video track.
    pub(crate) video: TrackStats,
    /// Video tracks 1, 2, …
    pub(crate) more_video: Vec<TrackStats>,
    /// The first audio track.
    pub(crate) audio: TrackStats,
    /// Audio tracks 1, 2, …
    pub(crate) more_audio: Vec<TrackStats>,
    /// Packets added, of every track.
    packets: u64,
}

impl FileStats {
    /// The statistics of a file whose only track is a video track with these counters.
    pub(crate) fn first_video(video: TrackStats) -> FileStats {
        FileStats {
            video,
            ..FileStats::default()
        }
    }

    pub(crate) fn add(&mut self, p: &Packet) {
        let packets = self.packets;
        let track = self.track_mut(p.track);
        track.first_packet.get_or_insert(packets);
        track.add(p);
        self.packets += 1;
    }

    /// A track's counters to set, empty ones added up to it.
    pub(crate) fn track_mut(&mut self, track: Track) -> &mut TrackStats {
        let (first, more) = match track.kind {
            TrackKind::Video => (&mut self.video, &mut self.more_video),
            TrackKind::Audio => (&mut self.audio, &mut self.more_audio),
        };
        crate::media::counters_mut(first, more, track.index)
    }

    /// A track's counters (empty ones for a track with no packet).
    pub(crate) fn track(&self, track: Track) -> Option<&TrackStats> {
        let (first, more) = match track.kind {
            TrackKind::Video => (&self.video, &self.more_video),
            TrackKind::Audio => (&self.audio, &self.more_audio),
        };
        crate::media::counters(first, more, track.index)
    }

    fn tracks(&self) -> impl Iterator<Item = &TrackStats> {
        let video = std::iter::once(&self.video).chain(&self.more_video);
        video
            .chain(std::iter::once(&self.audio))
            .chain(&self.more_audio)
            .filter(|t| t.first_dts_90k.is_some())
    }
}

/// The `outMediainfo` object; serialises with ffprobe's names, in the README's "Callbacks" order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct MediaInfo {
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) format: FormatInfo,
    pub(crate) streams: Vec<StreamInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct FormatInfo {
    pub(crate) format_name: String,
    pub(crate) size: u64,
    /// Seconds with 6 decimals, as ffprobe prints them.
    pub(crate) duration: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) bit_rate: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct StreamInfo {
    /// The track the stream is (not part of ffprobe's description).
    #[serde(skip)]
    pub(crate) track: Track,
    pub(crate) index: u32,
    pub(crate) codec_type: String,
    pub(crate) codec_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) bit_rate: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) height: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) r_frame_rate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) channels: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sample_rate: Option<u32>,
}

impl StreamInfo {
    /// The `index`-th stream, of `track`, with no kind's fields set.
    fn common(track: Track, index: usize, codec_type: &str, codec_name: &str) -> StreamInfo {
        StreamInfo {
            track,
            // Streams are a file's tracks, a handful.
            index: index as u32,
            codec_type: codec_type.into(),
            codec_name: codec_name.into(),
            bit_rate: None,
            width: None,
            height: None,
            r_frame_rate: None,
            channels: None,
            sample_rate: None,
        }
    }
}

/// The numbers the FLV writer puts in `onMetaData` so that ffprobe reports what [`describe`]
/// says.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FlvMetaNumbers {
    /// `duration`, seconds.
    pub(crate) duration_s: f64,
    /// `videodatarate`, in FFmpeg's kbit/s of 1024 bit/s; `None` without video packets.
    pub(crate) videodatarate: Option<f64>,
    /// `audiodatarate`, likewise.
    pub(crate) audiodatarate: Option<f64>,
}

/// The `onMetaData` numbers for a file of these packets (see the module doc).
pub(crate) fn flv_metadata(stats: &FileStats) -> FlvMetaNumbers {
    let origin = stats
        .tracks()
        .filter_map(|t| t.first_dts_90k)
        .min()
        .unwrap_or(0);
    let end = stats
        .tracks()
        .map(TrackStats::presentation_end_90k)
        .max()
        .unwrap_or(origin);
    // Whole milliseconds, as FLV timestamps are.
    let duration_ms = crate::media::to_ms(end.saturating_sub(origin)).max(0);
    // The FLV writer's rule: the track's payload over the file duration, not the track's own.
    let rate = |t: &TrackStats| {
        (t.packets > 0)
            .then(|| crate::mux::flv::bit_rate(t.bytes, duration_ms))
            .flatten()
            .map(|b| b as f64 / 1024.0)
    };
    FlvMetaNumbers {
        duration_s: duration_ms as f64 / 1000.0,
        videodatarate: rate(&stats.video),
        audiodatarate: rate(&stats.audio),
    }
}

/// FFmpeg's `codec_name` of a video codec.
pub(crate) fn video_codec_name(c: VideoCodec) -> &'static str {
    c.name()
}

/// FFmpeg's `codec_name` of an audio codec.
pub(crate) fn audio_codec_name(c: AudioCodec) -> &'static str {
    c.name()
}

/// What ffprobe reports for a `format` file of `file_size` bytes holding these packets.
/// HLS is described like MP4 (its callbacks carry no `outMediainfo`).
pub(crate) fn describe(
    format: Format,
    file_size: u64,
    config: &CodecConfig,
    stats: &FileStats,
) -> MediaInfo {
    let (format_name, duration_us) = format_duration(format, stats);
    let bit_rate = (duration_us > 0)
        .then(|| (file_size as f64 * 8.0 * 1_000_000.0 / duration_us as f64) as u64);
    let mut streams = Vec::new();
    for (track, v) in config.video_tracks() {
        let (width, height, timing) = video_geometry(v);
        let none = TrackStats::default();
        let r = frame_rate(format, stats.track(track).unwrap_or(&none), timing);
        let common = StreamInfo::common(track, streams.len(), "video", video_codec_name(v.codec));
        streams.push(StreamInfo {
            bit_rate: stream_bit_rate(format, config, stats, track),
            width: Some(width),
            height: Some(height),
            r_frame_rate: Some(format!("{}/{}", r.0, r.1)),
            ..common
        });
    }
    for (track, a) in config.audio_tracks() {
        let (sample_rate, channels) = match a.codec {
            AudioCodec::Aac => match aac::parse_asc(&a.specific) {
                Ok(asc) => (asc.sample_rate, asc.channels),
                Err(_) => (a.sample_rate, a.channels),
            },
            AudioCodec::Mp3
            | AudioCodec::Opus
            | AudioCodec::Flac
            | AudioCodec::Ac3
            | AudioCodec::Eac3
            | AudioCodec::FlvOnly(_) => (a.sample_rate, a.channels),
        };
        let common = StreamInfo::common(track, streams.len(), "audio", audio_codec_name(a.codec));
        streams.push(StreamInfo {
            bit_rate: stream_bit_rate(format, config, stats, track),
            channels: Some(u32::from(channels)),
            sample_rate: Some(sample_rate),
            ..common
        });
    }
    if format == Format::Flv {
        flv_stream_order(&mut streams, config, stats);
    }
    MediaInfo {
        metadata: BTreeMap::new(),
        format: FormatInfo {
            format_name: format_name.into(),
            size: file_size,
            duration: format!("{:.6}", duration_us as f64 / 1_000_000.0),
            bit_rate,
        },
        streams,
    }
}

/// ffprobe's `format_name` of a format and the file's duration as it computes it, in µs.
fn format_duration(format: Format, stats: &FileStats) -> (&'static str, i64) {
    match format {
        Format::Flv => {
            // FFmpeg: s->duration = num_val * AV_TIME_BASE, truncated to int64.
            let secs = flv_metadata(stats).duration_s;
            ("flv", (secs * 1_000_000.0) as i64)
        }
        Format::Mp4 | Format::Hls => {
            let start = stats.tracks().map(|t| t.min_pts_90k).min().unwrap_or(0);
            let end = stats
                .tracks()
                .map(TrackStats::presentation_end_90k)
                .max()
                .unwrap_or(start);
            let span_90k = end.saturating_sub(start).max(0);
            (
                "mov,mp4,m4a,3gp,3g2,mj2",
                span_90k.saturating_mul(100).saturating_add(4) / 9,
            )
        }
    }
}

/// A stream's bit rate as ffprobe reads it. FLV: `videodatarate` / `audiodatarate` × 1024
/// (exact: the writer's integer bit rate / 1024 is exact in a double); `onMetaData` speaks of
/// the first video and audio tracks only, so FFmpeg gives the others no bit rate.
fn stream_bit_rate(
    format: Format,
    config: &CodecConfig,
    stats: &FileStats,
    track: Track,
) -> Option<u64> {
    match format {
        Format::Flv if track.index > 0 => None,
        Format::Flv if track == Track::AUDIO && nominal_bit_rate(config).is_some() => {
            nominal_bit_rate(config)
        }
        Format::Flv => {
            let meta = flv_metadata(stats);
            let rate = match track.kind {
                TrackKind::Video => meta.videodatarate,
                TrackKind::Audio => meta.audiodatarate,
            };
            rate.map(|r| (r * 1024.0) as u64)
        }
        Format::Mp4 | Format::Hls => stats.track(track).and_then(TrackStats::bit_rate),
    }
}

/// Puts an FLV file's streams (video, then each audio track) in the order of their first tags,
/// as FFmpeg's FLV reader numbers them: the sequence headers at the head of the file first
/// (video, then audio in track order), then the tracks that have none, by their first packet.
fn flv_stream_order(streams: &mut [StreamInfo], config: &CodecConfig, stats: &FileStats) {
    let first_tag = |track: Track| {
        let header = match track.kind {
            TrackKind::Video => config
                .video_track(track.index)
                .is_some_and(crate::mux::flv::has_sequence_header_video),
            TrackKind::Audio => config
                .audio_track(track.index)
                .is_some_and(crate::mux::flv::has_sequence_header_audio),
        };
        let first_packet = stats.track(track).and_then(|t| t.first_packet);
        // Sequence headers: every video track's, then every audio track's, in track order.
        match (header, track.kind) {
            (true, TrackKind::Video) => (0, u64::from(track.index)),
            (true, TrackKind::Audio) => (0, 256 + u64::from(track.index)),
            (false, _) => (1, first_packet.unwrap_or(u64::MAX)),
        }
    };
    // Stable: tracks with no packet keep their order.
    streams.sort_by_key(|s| first_tag(s.track));
    for (index, stream) in streams.iter_mut().enumerate() {
        stream.index = index as u32;
    }
}

/// The bit rate an AC-3 or E-AC-3 syncframe header states, which FFmpeg's parser reports for
/// the stream of an FLV file in place of `audiodatarate` (its MP4 reader keeps the measured
/// one). `None` for the other codecs.
fn nominal_bit_rate(config: &CodecConfig) -> Option<u64> {
    let a = config.audio.as_ref()?;
    let info = match a.codec {
        AudioCodec::Ac3 => ac3::parse_dac3(&a.specific).ok()?,
        AudioCodec::Eac3 => ac3::parse_dec3(&a.specific).ok()?,
        AudioCodec::Aac
        | AudioCodec::Mp3
        | AudioCodec::Opus
        | AudioCodec::Flac
        | AudioCodec::FlvOnly(_) => return None,
    };
    Some(u64::from(info.bit_rate_kbps) * 1000)
}

/// Width, height and the decoder's frame rate (num, den) from the first SPS, falling back to
/// the configuration's size.
fn video_geometry(v: &crate::media::VideoConfig) -> (u32, u32, Option<(u32, u32)>) {
    let parsed = match v.codec {
        VideoCodec::H264 => h264::parse_avcc(&v.record).ok().and_then(|c| {
            let s = h264::parse_sps(c.sps.first()?).ok()?;
            // H.264 timing counts fields: a frame is two ticks.
            let fps = s.timing.map(|(n, t)| (t, n.saturating_mul(2)));
            Some((s.width, s.height, fps))
        }),
        VideoCodec::Hevc => hevc::parse_hvcc(&v.record).ok().and_then(|c| {
            let s = hevc::parse_sps(c.nal_units_of(hevc::NAL_SPS).next()?).ok()?;
            Some((s.width, s.height, s.timing.map(|(n, t)| (t, n))))
        }),
        // No frame rate in their configuration: the size is the configuration's.
        VideoCodec::Av1 | VideoCodec::Vp9 | VideoCodec::FlvOnly(_) => None,
    };
    parsed.unwrap_or((v.width, v.height, None))
}

/// ffprobe's `r_frame_rate` for the video track.
fn frame_rate(format: Format, track: &TrackStats, codec_rate: Option<(u32, u32)>) -> (i64, i64) {
    // The stream time base ffprobe sees: milliseconds in FLV, our 90 kHz in MP4.
    let (tb_den, max_deltas, limit_s) = match format {
        Format::Flv => (1000, 40, 90.0),
        Format::Mp4 | Format::Hls => (90_000, 20, 5.0),
    };
    if format != Format::Flv
        && track.packets > 1
        && track.constant_delta()
        && let Some(d) = track.first_delta_90k().filter(|&d| d > 0)
    {
        return reduce(90_000, d);
    }
    let dts: Vec<i64> = track
        .first_dts
        .iter()
        .map(|&d| {
            if tb_den == 1000 {
                crate::media::to_ms(d)
            } else {
                d
            }
        })
        .collect();
    if let Some(r) = rfps::guess(&dts, tb_den, max_deltas, limit_s) {
        return r;
    }
    match codec_rate {
        Some((num, den)) if num > 0 && den > 0 && i64::from(num) <= tb_den * i64::from(den) => {
            reduce(i64::from(num), i64::from(den))
        }
        _ => (tb_den, 1),
    }
}

fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}

/// num/den in lowest terms.
fn reduce(num: i64, den: i64) -> (i64, i64) {
    let g = gcd(num, den).max(1);
    (num / g, den / g)
}

mod rfps;

#[cfg(test)]
mod tests;

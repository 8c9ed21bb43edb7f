//! The media model every input produces and every muxer consumes.
//!
//! A *push session* is one uninterrupted publish of one stream key: its wall-clock start, its codec
//! configuration, and its packets in order. Inputs (FLV, RTMP, pcap, logs) turn bytes into
//! sessions; the rules decide which file each packet goes to; muxers write packets unchanged.
//!
//! Media times are in a 90 kHz clock (`*_90k`): FLV/RTMP milliseconds convert exactly (× 90), and
//! MPEG-TS timestamps are already 90 kHz, so no input loses precision — but for an Enhanced RTMP
//! ModEx TimestampOffsetNano, which a packet carries beside its time ([`Packet::offset_ns`]) for
//! the FLV writer alone. Wall-clock times are Unix milliseconds (`wall_*_ms`).

use std::fmt;
use std::sync::Arc;

mod differences;

/// Milliseconds to the 90 kHz media clock.
pub(crate) const fn ms_to_90k(ms: i64) -> i64 {
    ms * 90
}

/// 90 kHz media clock to milliseconds, rounding toward negative infinity.
pub const fn to_ms(t_90k: i64) -> i64 {
    t_90k.div_euclid(90)
}

/// `a × b / c` rounded to nearest, halves up (FFmpeg's `av_rescale` on non-negative values);
/// 0 when `c` is 0, saturating at `u64::MAX`.
pub(crate) fn rescale(a: u64, b: u64, c: u64) -> u64 {
    if c == 0 {
        return 0;
    }
    let v = (u128::from(a) * u128::from(b) + u128::from(c) / 2) / u128::from(c);
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// Last DTS − first DTS + the last packet's duration (the step before it): the sum of a
/// track's packet durations; 0 without packets.
pub(crate) fn media_duration_90k(
    first_dts_90k: Option<i64>,
    last_dts_90k: i64,
    last_step_90k: i64,
) -> i64 {
    first_dts_90k.map_or(0, |first| {
        last_dts_90k
            .saturating_sub(first)
            .saturating_add(last_step_90k)
    })
}

/// ⌊bytes × 8 / duration⌋ in bit/s; `None` when the duration is not positive.
pub(crate) fn bit_rate(bytes: u64, duration_90k: i64) -> Option<u64> {
    let d = u128::try_from(duration_90k).ok().filter(|&d| d > 0)?;
    u64::try_from(u128::from(bytes) * 8 * 90_000 / d).ok()
}

/// The kind of an elementary stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TrackKind {
    Video,
    Audio,
}

impl fmt::Display for TrackKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrackKind::Video => "video",
            TrackKind::Audio => "audio",
        })
    }
}

/// Which elementary stream a packet belongs to: its kind and its place among the session's
/// tracks of that kind, numbered in the order they first appear; track 0 of each kind is the
/// default one (an Enhanced RTMP push's plain or track-id-0 tags).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Track {
    pub kind: TrackKind,
    pub index: u8,
}

impl Track {
    /// The first (default) video track.
    pub const VIDEO: Track = Track::video(0);
    /// The first (default) audio track.
    pub const AUDIO: Track = Track::audio(0);

    pub(crate) const fn video(index: u8) -> Track {
        Track {
            kind: TrackKind::Video,
            index,
        }
    }

    pub const fn audio(index: u8) -> Track {
        Track {
            kind: TrackKind::Audio,
            index,
        }
    }
}

impl fmt::Display for Track {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            0 => write!(f, "{}", self.kind),
            n => write!(f, "{} track {n}", self.kind),
        }
    }
}

/// The identity recordings are grouped by (README "Inputs").
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct StreamKey {
    pub(crate) app: String,
    pub(crate) stream: String,
    /// From `?vdoid=` on the publish name; `None` is reported as `""` in callbacks.
    pub(crate) vdoid: Option<String>,
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.app, self.stream)?;
        if let Some(v) = &self.vdoid {
            write!(f, "?vdoid={v}")?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VideoCodec {
    H264,
    Hevc,
    /// AV1 (AV1-ISOBMFF: `av01` / `av1C`).
    Av1,
    /// VP9 (VP-codec ISOBMFF: `vp09` / `vpcC`).
    Vp9,
    /// A codec only FLV carries (README "Played streams"): recorded to FLV as received, not
    /// recordable in MP4 or HLS.
    FlvOnly(FlvVideo),
}

/// The video codecs only legacy FLV signals (Adobe FLV v10.1 E.4.3.1 `CodecID` 2 to 6). Their
/// tags have no sequence header: each packet is the whole tag body, its FrameType/CodecID byte
/// included, which the FLV writer writes back unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlvVideo {
    /// CodecID 2, Sorenson H.263 ("Sorenson Spark"), Flash Player's camera codec.
    SorensonH263,
    /// CodecID 3, Screen video.
    ScreenVideo,
    /// CodecID 4, On2 VP6.
    Vp6,
    /// CodecID 5, On2 VP6 with alpha channel.
    Vp6Alpha,
    /// CodecID 6, Screen video version 2.
    ScreenVideo2,
}

/// How an FLV/RTMP source signalled HEVC; the FLV writer signals it the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FlvVideoSignal {
    /// Legacy `CodecID` field: 7 for AVC, 12 for HEVC (the convention of Chinese CDNs).
    #[default]
    CodecId,
    /// Enhanced RTMP: `IsExHeader` bit and a FourCC (`avc1`, `hvc1`).
    Enhanced,
}

/// Video codec configuration: the decoder configuration record exactly as the source carried it
/// (or, where [`CodecConfig::video_built`] says so, as kls-rec built it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoConfig {
    pub codec: VideoCodec,
    /// AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3) or HEVCDecoderConfigurationRecord
    /// (§8.3.3): the source bytes, never rebuilt — except when an FLV/RTMP source sent no record
    /// (Annex B parameter sets in its sequence header, or none but in-band ones), which
    /// [`CodecConfig::video_built`] records.
    pub record: Vec<u8>,
    /// Coded picture size from the first SPS (after cropping); 0 when it could not be parsed.
    pub width: u32,
    pub height: u32,
    pub flv_signal: FlvVideoSignal,
    /// The Enhanced RTMP track id when the source sent this track in Multitrack tags (E-RTMP
    /// v2), so the FLV writer signals it the same way; `None` for plain tags.
    pub flv_track: Option<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AudioCodec {
    Aac,
    Mp3,
    /// Opus (Opus-in-ISOBMFF: `Opus` / `dOps`).
    Opus,
    /// FLAC (FLAC-in-ISOBMFF: `fLaC` / `dfLa`).
    Flac,
    /// AC-3 (ETSI TS 102 366 Annex F: `ac-3` / `dac3`).
    Ac3,
    /// E-AC-3 (ETSI TS 102 366 Annex F: `ec-3` / `dec3`).
    Eac3,
    /// A codec only FLV carries: recorded to FLV as received, not recordable in MP4 or HLS.
    FlvOnly(FlvAudio),
}

/// The audio codecs only legacy FLV signals (E.4.2.1 `SoundFormat`), named as ffprobe names
/// them: linear PCM is `pcm_u8` or `pcm_s16le` by its SoundSize. Each packet is the whole tag
/// body, its sound byte included, which the FLV writer writes back unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlvAudio {
    /// SoundFormat 0, linear PCM in the platform's byte order, 8-bit.
    PcmPlatformU8,
    /// SoundFormat 0, 16-bit (little endian, as ffmpeg reads it).
    PcmPlatformS16,
    /// SoundFormat 1, ADPCM (Shockwave Flash).
    Adpcm,
    /// SoundFormat 3, linear PCM little endian, 8-bit.
    PcmU8,
    /// SoundFormat 3, 16-bit.
    PcmS16,
    /// SoundFormat 4, Nellymoser 16 kHz mono.
    Nellymoser16k,
    /// SoundFormat 5, Nellymoser 8 kHz mono.
    Nellymoser8k,
    /// SoundFormat 6, Nellymoser at the sound byte's rate.
    Nellymoser,
    /// SoundFormat 7, G.711 A-law.
    Alaw,
    /// SoundFormat 8, G.711 µ-law.
    Mulaw,
    /// SoundFormat 11, Speex (16 kHz, as Flash Player's microphone sends it).
    Speex,
}

impl AudioCodec {
    /// Samples in one usual frame: AAC 1024, MP3 1152 (MPEG-1 Layer III), Opus 960 (20 ms at
    /// 48 kHz), FLAC 4096 (FFmpeg's default block size), AC-3/E-AC-3 1536 (six blocks). The
    /// length given to a lone frame whose duration no next frame tells.
    pub(crate) fn frame_samples(self) -> u32 {
        match self {
            AudioCodec::Aac => 1024,
            AudioCodec::Mp3 => 1152,
            AudioCodec::Opus => 960,
            AudioCodec::Flac => 4096,
            AudioCodec::Ac3 | AudioCodec::Eac3 => 1536,
            AudioCodec::FlvOnly(a) => a.frame_samples(),
        }
    }
}

impl FlvAudio {
    /// Samples in one usual packet: a Nellymoser block 256, a Speex frame 320 (20 ms at
    /// 16 kHz), an SWF ADPCM block 4096; linear PCM and G.711 packets have no fixed size,
    /// 1024 stands in.
    pub(crate) fn frame_samples(self) -> u32 {
        match self {
            FlvAudio::Nellymoser16k | FlvAudio::Nellymoser8k | FlvAudio::Nellymoser => 256,
            FlvAudio::Speex => 320,
            FlvAudio::Adpcm => 4096,
            FlvAudio::PcmPlatformU8
            | FlvAudio::PcmPlatformS16
            | FlvAudio::PcmU8
            | FlvAudio::PcmS16
            | FlvAudio::Alaw
            | FlvAudio::Mulaw => 1024,
        }
    }
}

/// Audio codec configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioConfig {
    pub codec: AudioCodec,
    /// AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1) source bytes for AAC; empty for MP3.
    pub specific: Vec<u8>,
    pub sample_rate: u32,
    pub channels: u8,
    /// The FLV AUDIODATA first byte (SoundFormat, SoundRate, SoundSize, SoundType) as received,
    /// so the FLV writer reproduces it.
    pub flv_sound_byte: u8,
    /// The Enhanced RTMP track id when the source sent this track in Multitrack tags (E-RTMP
    /// v2), so the FLV writer signals it the same way; `None` for plain tags.
    pub flv_track: Option<u8>,
}

/// Why [`VideoConfig::record`] was built by kls-rec rather than received: the one place where
/// configuration bytes are rebuilt. MP4 and MPEG-TS use the built record; the FLV writer writes
/// what the source sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuiltRecord {
    /// The sequence header's body was Annex B parameter sets (start codes, SPS/PPS[/VPS]) as some
    /// cameras and small encoders send: these bytes, as received, which the FLV writer keeps.
    AnnexB(Vec<u8>),
    /// No sequence header came before the first keyframe, which carried its parameter sets
    /// in-band; the FLV writer writes the built record as the sequence header the source lacked.
    InBand,
}

impl BuiltRecord {
    /// The finding in words, for `inspect` and `--explain`, e.g. `sequence header: Annex B (SPS,
    /// PPS) — avcC built for MP4/HLS`.
    pub(crate) fn describe(&self, codec: VideoCodec) -> String {
        let sets = match codec {
            VideoCodec::H264 => "SPS, PPS",
            VideoCodec::Hevc => "VPS, SPS, PPS",
            // Never built (no parameter sets): named for completeness.
            VideoCodec::Av1 => "sequence header OBU",
            VideoCodec::Vp9 => "frame header",
            VideoCodec::FlvOnly(_) => "picture header",
        };
        let record = match codec {
            VideoCodec::H264 => "avcC",
            VideoCodec::Hevc => "hvcC",
            VideoCodec::Av1 => "av1C",
            VideoCodec::Vp9 => "vpcC",
            VideoCodec::FlvOnly(_) => "no record",
        };
        match self {
            BuiltRecord::AnnexB(_) => {
                format!("sequence header: Annex B ({sets}) — {record} built for MP4/HLS")
            }
            BuiltRecord::InBand => format!(
                "sequence header: none, {sets} in-band in the first keyframe — {record} built for \
                 MP4/HLS/FLV"
            ),
        }
    }
}

/// The codec configuration of a session or a file. Two sessions can share a file only when their
/// configurations are equal (README "The rules" rule 2); equality is on the source bytes.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CodecConfig {
    /// The first (default) video track.
    pub video: Option<VideoConfig>,
    /// The video tracks after the first (track 1, 2, …), in the order they first appeared.
    pub more_video: Vec<VideoConfig>,
    /// The first (default) audio track.
    pub audio: Option<AudioConfig>,
    /// The audio tracks after the first (track 1, 2, …), in the order they first appeared.
    pub more_audio: Vec<AudioConfig>,
    /// `Some` when `video.record` (the first video track's) was built from parameter sets
    /// instead of received.
    pub video_built: Option<BuiltRecord>,
}

impl CodecConfig {
    /// Names the fields that differ between two configurations, for reports and errors.
    pub(crate) fn differences(&self, other: &CodecConfig) -> Vec<String> {
        let mut out = Vec::new();
        differences::tracks(
            (self.video.as_ref(), &self.more_video),
            (other.video.as_ref(), &other.more_video),
            &mut out,
        );
        if self.video_built != other.video_built {
            out.push("video sequence header form".to_string());
        }
        differences::tracks(
            (self.audio.as_ref(), &self.more_audio),
            (other.audio.as_ref(), &other.more_audio),
            &mut out,
        );
        out
    }
}

impl CodecConfig {
    /// The configuration of video track `index` (0 the first).
    pub(crate) fn video_track(&self, index: u8) -> Option<&VideoConfig> {
        nth(&self.video, &self.more_video, index)
    }

    /// The configuration of audio track `index` (0 the first).
    pub(crate) fn audio_track(&self, index: u8) -> Option<&AudioConfig> {
        nth(&self.audio, &self.more_audio, index)
    }

    /// The configuration of video track `index`, to complete it (a size found in a keyframe).
    pub(crate) fn video_track_mut(&mut self, index: u8) -> Option<&mut VideoConfig> {
        match index {
            0 => self.video.as_mut(),
            n => self.more_video.get_mut(usize::from(n) - 1),
        }
    }

    /// Every video track's configuration with its track, first track first.
    pub(crate) fn video_tracks(&self) -> impl Iterator<Item = (Track, &VideoConfig)> {
        numbered(&self.video, &self.more_video, Track::video)
    }

    /// Every audio track's configuration with its track, first track first.
    pub(crate) fn audio_tracks(&self) -> impl Iterator<Item = (Track, &AudioConfig)> {
        numbered(&self.audio, &self.more_audio, Track::audio)
    }

    /// Every track, the video tracks first, each kind's first track first.
    pub(crate) fn tracks(&self) -> impl Iterator<Item = Track> {
        let video = self.video_tracks().map(|(t, _)| t);
        video.chain(self.audio_tracks().map(|(t, _)| t))
    }

    /// Sets video track `index`; a track after the last known one is appended.
    pub(crate) fn set_video_track(&mut self, index: u8, config: VideoConfig) {
        set_nth(&mut self.video, &mut self.more_video, index, config);
    }

    /// Sets audio track `index`; a track after the last known one is appended.
    pub(crate) fn set_audio_track(&mut self, index: u8, config: AudioConfig) {
        set_nth(&mut self.audio, &mut self.more_audio, index, config);
    }

    /// Whether the configuration has this track.
    pub(crate) fn has_track(&self, track: Track) -> bool {
        match track.kind {
            TrackKind::Video => self.video_track(track.index).is_some(),
            TrackKind::Audio => self.audio_track(track.index).is_some(),
        }
    }
}

/// Track `index` of a kind whose first track is `first` and the others `more`.
fn nth<'a, T>(first: &'a Option<T>, more: &'a [T], index: u8) -> Option<&'a T> {
    match index {
        0 => first.as_ref(),
        n => more.get(usize::from(n) - 1),
    }
}

/// Track `index`'s counters among a kind's whose first track's are always kept (`first`) and
/// the others' in `more`; `None` past the last.
pub(crate) fn counters<'a, T>(first: &'a T, more: &'a [T], index: u8) -> Option<&'a T> {
    match index {
        0 => Some(first),
        n => more.get(usize::from(n) - 1),
    }
}

/// [`counters`] to update, `more` grown with empty counters up to track `index`.
pub(crate) fn counters_mut<'a, T: Default>(
    first: &'a mut T,
    more: &'a mut Vec<T>,
    index: u8,
) -> &'a mut T {
    match usize::from(index).checked_sub(1) {
        None => first,
        Some(i) => {
            if more.len() <= i {
                more.resize_with(i + 1, T::default);
            }
            &mut more[i]
        }
    }
}

/// Sets track `index` of a kind; a track after the last known one is appended.
fn set_nth<T>(first: &mut Option<T>, more: &mut Vec<T>, index: u8, config: T) {
    match index {
        0 => *first = Some(config),
        n => match more.get_mut(usize::from(n) - 1) {
            Some(slot) => *slot = config,
            None => more.push(config),
        },
    }
}

/// A kind's tracks with their [`Track`]s, first track first.
fn numbered<'a, T>(
    first: &'a Option<T>,
    more: &'a [T],
    track: fn(u8) -> Track,
) -> impl Iterator<Item = (Track, &'a T)> {
    let first = first.iter().map(move |c| (track(0), c));
    first.chain((1u8..).zip(more).map(move |(i, c)| (track(i), c)))
}

/// One coded frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub track: Track,
    /// Decode time. Per track non-decreasing within a session (inputs repair discontinuities).
    pub dts_90k: i64,
    /// Composition offset: PTS − DTS (signed; FLV CompositionTime is signed 24-bit).
    pub cts_90k: i32,
    /// Video: a random access point (IDR / IRAP). Audio: always true.
    pub keyframe: bool,
    /// The codec payload: length-prefixed NAL units for H.264/HEVC (as in FLV and MP4), one raw
    /// AAC access unit, or one MP3 frame. Never altered by kls-rec.
    pub data: Vec<u8>,
    /// An Enhanced RTMP ModEx TimestampOffsetNano the source sent with the packet: nanoseconds
    /// (under 1 ms) after its millisecond tag time, which the FLV writer writes back and the
    /// other formats, timed in milliseconds or 90 kHz, leave out; 0 for every other source.
    pub offset_ns: u32,
}

impl Packet {
    pub(crate) fn pts_90k(&self) -> i64 {
        self.dts_90k + i64::from(self.cts_90k)
    }
}

/// Something an input found that the user should hear about. Never silently dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Damage {
    /// Bytes skipped to resynchronise, with the byte offset where the damage began.
    Skipped { offset: u64, len: u64, what: String },
    /// The input ended inside a unit (tag, message); what was valid before is kept.
    Truncated { offset: u64, what: String },
    /// A timestamp jump that was repaired to keep the timeline monotonic.
    Discontinuity {
        track: Track,
        offset: u64,
        from_dts_90k: i64,
        to_dts_90k: i64,
    },
    /// A packet dropped because it cannot be decoded (e.g. video before the first keyframe).
    Dropped { offset: u64, what: String },
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Damage::Skipped { offset, len, what } => {
                write!(f, "at byte {offset}: skipped {len} bytes ({what})")
            }
            Damage::Truncated { offset, what } => write!(f, "at byte {offset}: truncated {what}"),
            Damage::Discontinuity {
                track,
                offset,
                from_dts_90k,
                to_dts_90k,
            } => write!(
                f,
                "at byte {offset}: {track} timestamp discontinuity {} ms -> {} ms, timeline kept monotonic",
                to_ms(*from_dts_90k),
                to_ms(*to_dts_90k)
            ),
            Damage::Dropped { offset, what } => write!(f, "at byte {offset}: dropped {what}"),
        }
    }
}

/// A stream or a kind of message the input carries that kls-rec does not record: a data PID
/// (SCTE-35, timed ID3, KLV, subtitles), a codec it does not read, a second video or audio
/// stream. Not damage: the media kls-rec records is complete. Reported once per stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotRecorded {
    /// Where it was first seen (the PMT, the tag).
    pub offset: u64,
    /// What it is, e.g. `PID 0x0103 timed ID3 (stream_type 0x15)`.
    pub(crate) what: String,
}

impl fmt::Display for NotRecorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not recorded: {}; first seen at byte {}",
            self.what, self.offset
        )
    }
}

/// What a session reader yields, in input order.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Packet(Packet),
    /// The codec configuration changed inside the session (a new, different sequence header).
    /// Packets after it use the new configuration.
    Config(Arc<CodecConfig>),
    /// Damage found and recovered from.
    Damage(Damage),
    /// A stream kls-rec does not record (not damage).
    NotRecorded(NotRecorded),
}

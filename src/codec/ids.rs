//! One descriptor per codec: the identifiers each container and tool gives it, defined once and
//! shared by readers and writers (FLV legacy `CodecID` / `SoundFormat` from Adobe's "Video File
//! Format Specification" 10.1 E.4.2.1 and E.4.3.1, with Tencent's FLV extension for AV1; the
//! Enhanced RTMP FourCC from Veovera "Enhanced RTMP" v1 and v2; the MPEG-TS stream_type, PES
//! stream_id and registration of ISO/IEC 13818-1 Table 2-34 and ATSC A/52 Annex G; the ISOBMFF
//! sample entry, configuration box and `esds` objectTypeIndication of ISO/IEC 14496-12, -14,
//! -15 and 14496-1 Table 5; the codec name FFmpeg's ffprobe reports as `codec_name`). Readers
//! look a codec up by an identifier with the `*_by_*` functions at the end of this file;
//! writers read a codec's identifiers from [`VideoCodec::ids`] and [`AudioCodec::ids`].
//!
//! Only identifiers live here; the configuration parsers are the codec's own module.

use crate::container::flv::SOUND_SIZE_16_BIT;
use crate::container::ts::{
    STREAM_ID_AUDIO, STREAM_ID_PRIVATE_1, STREAM_ID_VIDEO, STREAM_TYPE_AAC, STREAM_TYPE_AC3,
    STREAM_TYPE_EAC3, STREAM_TYPE_H264, STREAM_TYPE_HEVC, STREAM_TYPE_MPEG1_AUDIO,
    STREAM_TYPE_MPEG2_AUDIO, STREAM_TYPE_PRIVATE_DATA,
};
use crate::media::{AudioCodec, FlvAudio, FlvVideo, VideoCodec};

/// The identifiers of one video codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct VideoIds {
    /// ffprobe's `codec_name`.
    pub(crate) name: &'static str,
    /// Legacy FLV `CodecID` (4 bits), `None` where FLV has none (the codec needs E-RTMP).
    pub(crate) flv_codec_id: Option<u8>,
    /// Enhanced RTMP `VideoFourCc`; `None` for the codecs only legacy FLV signals.
    pub(crate) fourcc: Option<[u8; 4]>,
    /// Whether an Enhanced RTMP CodedFrames tag carries an SI24 CompositionTime: only avc1 and
    /// hvc1 do (E-RTMP v1 `ExVideoTagBody`); AV1 and VP9 frames follow the FourCC directly.
    pub(crate) ex_composition_time: bool,
    /// ISOBMFF sample entry and the configuration box inside it that carries the decoder
    /// configuration record as the source sent it; `None` for a codec MP4 (and so HLS) cannot
    /// carry, which is recorded to FLV only.
    pub(crate) mp4: Option<Mp4Ids>,
    /// How MPEG-TS carries the codec, or why kls-rec's MPEG-TS segments do not.
    pub(crate) ts: Result<TsIds, TsGap>,
}

/// A codec's ISOBMFF sample entry and its configuration box.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mp4Ids {
    /// The sample entry written, and read.
    pub(crate) entry: [u8; 4],
    pub(crate) config: [u8; 4],
    /// Other sample entries read as the codec, never written: `avc3`, `hev1` (parameter sets
    /// in band), QuickTime's MP3 entries.
    pub(crate) also_read: &'static [&'static [u8; 4]],
    /// The `esds` objectTypeIndication (ISO/IEC 14496-1 Table 5) of an MPEG-4 audio codec;
    /// `None` for a codec with a configuration box of its own.
    pub(crate) object_type: Option<RateId>,
}

/// How MPEG-TS carries a codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TsIds {
    /// The PMT's stream_type.
    pub(crate) stream_type: RateId,
    /// The format identifier that names the codec in a private-data PES (stream_type 0x06):
    /// a registration_descriptor's, or DVB's AC-3 / enhanced AC-3 descriptor read as one.
    pub(crate) private_format: Option<[u8; 4]>,
    /// The PES stream_id.
    pub(crate) stream_id: u8,
}

/// Why kls-rec's MPEG-TS segments do not carry a codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TsGap {
    /// ISO/IEC 13818-1 has no stream type for it (AV1, VP9).
    NoStreamType,
    /// A mapping exists, but HLS players read the codec in fMP4 segments only (Opus, FLAC).
    Fmp4Only,
    /// A codec only FLV carries.
    FlvOnly,
}

/// An identifier a container gives an audio codec, and the other value MPEG-2 audio's lower
/// sampling frequencies take (ISO/IEC 13818-3; see [`low_sampling_frequency`]): MP3's
/// stream_type and objectTypeIndication. Values in `also_read` are read as the codec too,
/// never written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RateId {
    pub(crate) id: u8,
    pub(crate) low_rate: u8,
    pub(crate) also_read: &'static [u8],
}

impl AudioPath {
    /// A codec none of these facts holds for.
    pub(crate) const NONE: AudioPath = AudioPath {
        flv_aac_packet_type: false,
        flv_flags_describe: false,
        mp4_config_from_frames: false,
        decoder_bit_rate: false,
    };
}

impl RateId {
    /// An identifier that is the same at every sample rate.
    pub(crate) const fn one(id: u8) -> RateId {
        RateId {
            id,
            low_rate: id,
            also_read: &[],
        }
    }

    /// The value written for a stream of this sample rate.
    pub(crate) const fn written(&self, sample_rate: u32) -> u8 {
        if low_sampling_frequency(sample_rate) {
            self.low_rate
        } else {
            self.id
        }
    }

    /// Whether a value read names the codec.
    pub(crate) fn reads(&self, value: u8) -> bool {
        value == self.id || value == self.low_rate || self.also_read.contains(&value)
    }
}

/// Whether a sample rate is one of MPEG-2 audio's lower sampling frequencies (16, 22.05 and
/// 24 kHz, and MPEG-2.5's below them), where ffmpeg writes MP3 as MPEG-2 audio; an unknown
/// rate (0) is not.
pub(crate) const fn low_sampling_frequency(sample_rate: u32) -> bool {
    sample_rate > 0 && sample_rate < 32_000
}

/// The identifiers of one audio codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AudioIds {
    /// ffprobe's `codec_name`.
    pub(crate) name: &'static str,
    /// Legacy FLV `SoundFormat` (4 bits), `None` where FLV has none (the codec needs the E-RTMP
    /// v2 `ExHeader`, SoundFormat 9).
    pub(crate) flv_sound_format: Option<u8>,
    /// The `SoundSize` (8 or 16 bits) that tells two codecs of one SoundFormat apart (linear
    /// PCM: `pcm_u8`, `pcm_s16le`); `None` where the SoundFormat alone names the codec.
    pub(crate) flv_sample_bits: Option<u8>,
    /// Enhanced RTMP v2 `AudioFourCc`; `None` for the codecs only legacy FLV signals.
    pub(crate) fourcc: Option<[u8; 4]>,
    /// ISOBMFF sample entry and its configuration box (`esds` for the MPEG-4 audio codecs);
    /// `None` for a codec MP4 (and so HLS) cannot carry, which is recorded to FLV only.
    pub(crate) mp4: Option<Mp4Ids>,
    /// How MPEG-TS carries the codec, or why kls-rec's MPEG-TS segments do not.
    pub(crate) ts: Result<TsIds, TsGap>,
    /// The facts that decide a reader's or writer's path.
    pub(crate) path: AudioPath,
}

/// The audio codec facts that decide a reader's or writer's path, beyond its identifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AudioPath {
    /// A legacy FLV audio tag carries an AACPacketType byte after its flags (Adobe FLV
    /// E.4.2.1): AAC only.
    pub(crate) flv_aac_packet_type: bool,
    /// The legacy FLV sound flags (rate, size, channels) describe the stream, so a change in
    /// them is a configuration change: MP3. AAC's are fixed (the AudioSpecificConfig describes
    /// it); the Enhanced RTMP codecs have none; the Flash-era codecs' whole tags carry their
    /// own flags, and a change of the rate or channels they give is compared as such.
    pub(crate) flv_flags_describe: bool,
    /// The MP4 sample entry carries no configuration of its own, so the first frame's header
    /// stands in for it: MP3 (its `esds` has no decoder-specific info).
    pub(crate) mp4_config_from_frames: bool,
    /// FFmpeg's decoder reports a stream bit rate of its own, which ffprobe shows where no
    /// parser ran (its HLS demuxer): MP3's, from the frame headers.
    pub(crate) decoder_bit_rate: bool,
}

/// An ISOBMFF sample entry with a configuration box of the codec's own.
const fn mp4(
    entry: &[u8; 4],
    config: &[u8; 4],
    also_read: &'static [&'static [u8; 4]],
) -> Option<Mp4Ids> {
    Some(Mp4Ids {
        entry: *entry,
        config: *config,
        also_read,
        object_type: None,
    })
}

/// An MPEG-4 audio sample entry (`mp4a`) with its objectTypeIndication in `esds`.
const fn esds(object_type: RateId, also_read: &'static [&'static [u8; 4]]) -> Option<Mp4Ids> {
    Some(Mp4Ids {
        entry: *b"mp4a",
        config: *b"esds",
        also_read,
        object_type: Some(object_type),
    })
}

/// A video PES of one stream_type.
const fn ts_video(stream_type: u8) -> Result<TsIds, TsGap> {
    Ok(TsIds {
        stream_type: RateId::one(stream_type),
        private_format: None,
        stream_id: STREAM_ID_VIDEO,
    })
}

/// Video descriptors, one row per codec.
const H264: VideoIds = VideoIds {
    name: "h264",
    flv_codec_id: Some(7),
    fourcc: Some(*b"avc1"),
    ex_composition_time: true,
    mp4: mp4(b"avc1", b"avcC", &[b"avc3"]),
    ts: ts_video(STREAM_TYPE_H264),
};
/// CodecID 12 is the HEVC extension of Chinese CDNs.
const HEVC: VideoIds = VideoIds {
    name: "hevc",
    flv_codec_id: Some(12),
    fourcc: Some(*b"hvc1"),
    ex_composition_time: true,
    mp4: mp4(b"hvc1", b"hvcC", &[b"hev1"]),
    ts: ts_video(STREAM_TYPE_HEVC),
};
/// CodecID 13 is Tencent's FLV extension for AV1.
const AV1: VideoIds = VideoIds {
    name: "av1",
    flv_codec_id: Some(13),
    fourcc: Some(*b"av01"),
    ex_composition_time: false,
    mp4: mp4(b"av01", b"av1C", &[]),
    ts: Err(TsGap::NoStreamType),
};
const VP9: VideoIds = VideoIds {
    name: "vp9",
    flv_codec_id: None,
    fourcc: Some(*b"vp09"),
    ex_composition_time: false,
    mp4: mp4(b"vp09", b"vpcC", &[]),
    ts: Err(TsGap::NoStreamType),
};

/// An audio PES: stream_type, the registration that names it as private data, stream_id.
const fn ts_audio(
    stream_type: RateId,
    private_format: Option<[u8; 4]>,
    stream_id: u8,
) -> Result<TsIds, TsGap> {
    Ok(TsIds {
        stream_type,
        private_format,
        stream_id,
    })
}

/// Audio descriptors, one row per codec.
const AAC: AudioIds = AudioIds {
    name: "aac",
    flv_sound_format: Some(10),
    flv_sample_bits: None,
    fourcc: Some(*b"mp4a"),
    // ISO/IEC 14496-3, and 13818-7's Main, LC and SSR profiles read as AAC too.
    mp4: esds(
        RateId {
            id: 0x40,
            low_rate: 0x40,
            also_read: &[0x66, 0x67, 0x68],
        },
        &[],
    ),
    ts: ts_audio(RateId::one(STREAM_TYPE_AAC), None, STREAM_ID_AUDIO),
    path: AudioPath {
        flv_aac_packet_type: true,
        flv_flags_describe: false,
        mp4_config_from_frames: false,
        decoder_bit_rate: false,
    },
};
/// SoundFormat 14 ("MP3 8 kHz") is MP3 too; see [`SOUND_FORMAT_MP3_8K`]. ISO/IEC 11172-3
/// (MPEG-1 audio) at 32 kHz and up, 13818-3 (MPEG-2 audio) below.
const MP3: AudioIds = AudioIds {
    name: "mp3",
    flv_sound_format: Some(SOUND_FORMAT_MP3),
    flv_sample_bits: None,
    fourcc: Some(*b".mp3"),
    mp4: esds(
        RateId {
            id: 0x6B,
            low_rate: 0x69,
            also_read: &[],
        },
        &[b".mp3", b"mp3 "],
    ),
    ts: ts_audio(
        RateId {
            id: STREAM_TYPE_MPEG1_AUDIO,
            low_rate: STREAM_TYPE_MPEG2_AUDIO,
            also_read: &[],
        },
        None,
        STREAM_ID_AUDIO,
    ),
    path: AudioPath {
        flv_aac_packet_type: false,
        flv_flags_describe: true,
        mp4_config_from_frames: true,
        decoder_bit_rate: true,
    },
};
const OPUS: AudioIds = AudioIds {
    name: "opus",
    flv_sound_format: None,
    flv_sample_bits: None,
    fourcc: Some(*b"Opus"),
    mp4: mp4(b"Opus", b"dOps", &[]),
    ts: Err(TsGap::Fmp4Only),
    path: AudioPath::NONE,
};
const FLAC: AudioIds = AudioIds {
    name: "flac",
    flv_sound_format: None,
    flv_sample_bits: None,
    fourcc: Some(*b"fLaC"),
    mp4: mp4(b"fLaC", b"dfLa", &[]),
    ts: Err(TsGap::Fmp4Only),
    path: AudioPath::NONE,
};
/// AC-3 and E-AC-3 by stream_type (ATSC A/52 Annex G, and ffmpeg's default), or as private
/// data with DVB's descriptor; in private_stream_1 PES either way.
const AC3: AudioIds = AudioIds {
    name: "ac3",
    flv_sound_format: None,
    flv_sample_bits: None,
    fourcc: Some(*b"ac-3"),
    mp4: mp4(b"ac-3", b"dac3", &[]),
    ts: ts_audio(
        RateId::one(STREAM_TYPE_AC3),
        Some(*b"AC-3"),
        STREAM_ID_PRIVATE_1,
    ),
    path: AudioPath::NONE,
};
const EAC3: AudioIds = AudioIds {
    name: "eac3",
    flv_sound_format: None,
    flv_sample_bits: None,
    fourcc: Some(*b"ec-3"),
    mp4: mp4(b"ec-3", b"dec3", &[]),
    ts: ts_audio(
        RateId::one(STREAM_TYPE_EAC3),
        Some(*b"EAC3"),
        STREAM_ID_PRIVATE_1,
    ),
    path: AudioPath::NONE,
};

/// A video codec only legacy FLV carries: its ffprobe name and CodecID, no FourCC, no MP4
/// sample entry (and no MPEG-TS stream type).
const fn flv_only_video(name: &'static str, codec_id: u8) -> VideoIds {
    VideoIds {
        name,
        flv_codec_id: Some(codec_id),
        fourcc: None,
        ex_composition_time: false,
        mp4: None,
        ts: Err(TsGap::FlvOnly),
    }
}
const SORENSON_H263: VideoIds = flv_only_video("flv1", 2);
const SCREEN_VIDEO: VideoIds = flv_only_video("flashsv", 3);
const VP6: VideoIds = flv_only_video("vp6f", 4);
const VP6_ALPHA: VideoIds = flv_only_video("vp6a", 5);
const SCREEN_VIDEO_2: VideoIds = flv_only_video("flashsv2", 6);

/// An audio codec only legacy FLV carries: its ffprobe name, SoundFormat and (for linear PCM)
/// SoundSize, no FourCC, no MP4 sample entry.
const fn flv_only_audio(name: &'static str, format: u8, bits: Option<u8>) -> AudioIds {
    AudioIds {
        name,
        flv_sound_format: Some(format),
        flv_sample_bits: bits,
        fourcc: None,
        mp4: None,
        ts: Err(TsGap::FlvOnly),
        path: AudioPath::NONE,
    }
}
/// SoundFormat 0 is "platform endian"; ffmpeg reads 16-bit samples as little endian.
const PCM_PLATFORM_U8: AudioIds = flv_only_audio("pcm_u8", 0, Some(8));
const PCM_PLATFORM_S16: AudioIds = flv_only_audio("pcm_s16le", 0, Some(16));
const ADPCM_SWF: AudioIds = flv_only_audio("adpcm_swf", 1, None);
const PCM_U8: AudioIds = flv_only_audio("pcm_u8", 3, Some(8));
const PCM_S16LE: AudioIds = flv_only_audio("pcm_s16le", 3, Some(16));
const NELLYMOSER_16K: AudioIds = flv_only_audio("nellymoser", 4, None);
const NELLYMOSER_8K: AudioIds = flv_only_audio("nellymoser", 5, None);
const NELLYMOSER: AudioIds = flv_only_audio("nellymoser", 6, None);
const PCM_ALAW: AudioIds = flv_only_audio("pcm_alaw", 7, None);
const PCM_MULAW: AudioIds = flv_only_audio("pcm_mulaw", 8, None);
const SPEEX: AudioIds = flv_only_audio("speex", 11, None);

/// MP3's legacy SoundFormat, and its second one (E.4.2.1: "MP3 8 kHz").
pub(crate) const SOUND_FORMAT_MP3: u8 = 2;
pub(crate) const SOUND_FORMAT_MP3_8K: u8 = 14;
/// SoundFormat 9: the E-RTMP v2 `ExAudioTagHeader` follows (the FourCC names the codec).
pub(crate) const SOUND_FORMAT_EX_HEADER: u8 = 9;

/// Every video codec, for lookups by identifier.
pub(crate) const VIDEO_CODECS: [VideoCodec; 9] = [
    VideoCodec::H264,
    VideoCodec::Hevc,
    VideoCodec::Av1,
    VideoCodec::Vp9,
    VideoCodec::FlvOnly(FlvVideo::SorensonH263),
    VideoCodec::FlvOnly(FlvVideo::ScreenVideo),
    VideoCodec::FlvOnly(FlvVideo::Vp6),
    VideoCodec::FlvOnly(FlvVideo::Vp6Alpha),
    VideoCodec::FlvOnly(FlvVideo::ScreenVideo2),
];
/// Every audio codec, for lookups by identifier.
pub(crate) const AUDIO_CODECS: [AudioCodec; 17] = [
    AudioCodec::Aac,
    AudioCodec::Mp3,
    AudioCodec::Opus,
    AudioCodec::Flac,
    AudioCodec::Ac3,
    AudioCodec::Eac3,
    AudioCodec::FlvOnly(FlvAudio::PcmPlatformU8),
    AudioCodec::FlvOnly(FlvAudio::PcmPlatformS16),
    AudioCodec::FlvOnly(FlvAudio::Adpcm),
    AudioCodec::FlvOnly(FlvAudio::PcmU8),
    AudioCodec::FlvOnly(FlvAudio::PcmS16),
    AudioCodec::FlvOnly(FlvAudio::Nellymoser16k),
    AudioCodec::FlvOnly(FlvAudio::Nellymoser8k),
    AudioCodec::FlvOnly(FlvAudio::Nellymoser),
    AudioCodec::FlvOnly(FlvAudio::Alaw),
    AudioCodec::FlvOnly(FlvAudio::Mulaw),
    AudioCodec::FlvOnly(FlvAudio::Speex),
];

impl VideoCodec {
    pub(crate) const fn ids(self) -> &'static VideoIds {
        match self {
            VideoCodec::H264 => &H264,
            VideoCodec::Hevc => &HEVC,
            VideoCodec::Av1 => &AV1,
            VideoCodec::Vp9 => &VP9,
            VideoCodec::FlvOnly(v) => match v {
                FlvVideo::SorensonH263 => &SORENSON_H263,
                FlvVideo::ScreenVideo => &SCREEN_VIDEO,
                FlvVideo::Vp6 => &VP6,
                FlvVideo::Vp6Alpha => &VP6_ALPHA,
                FlvVideo::ScreenVideo2 => &SCREEN_VIDEO_2,
            },
        }
    }

    /// ffprobe's `codec_name`.
    pub(crate) const fn name(self) -> &'static str {
        self.ids().name
    }

    /// Whether MP4 (and so HLS, in either segment format) can carry the codec.
    pub(crate) const fn mp4_carries(self) -> bool {
        self.ids().mp4.is_some()
    }
}

impl From<FlvVideo> for VideoCodec {
    fn from(legacy: FlvVideo) -> VideoCodec {
        VideoCodec::FlvOnly(legacy)
    }
}

impl From<FlvAudio> for AudioCodec {
    fn from(legacy: FlvAudio) -> AudioCodec {
        AudioCodec::FlvOnly(legacy)
    }
}

impl AudioCodec {
    pub(crate) const fn ids(self) -> &'static AudioIds {
        match self {
            AudioCodec::Aac => &AAC,
            AudioCodec::Mp3 => &MP3,
            AudioCodec::Opus => &OPUS,
            AudioCodec::Flac => &FLAC,
            AudioCodec::Ac3 => &AC3,
            AudioCodec::Eac3 => &EAC3,
            AudioCodec::FlvOnly(a) => match a {
                FlvAudio::PcmPlatformU8 => &PCM_PLATFORM_U8,
                FlvAudio::PcmPlatformS16 => &PCM_PLATFORM_S16,
                FlvAudio::Adpcm => &ADPCM_SWF,
                FlvAudio::PcmU8 => &PCM_U8,
                FlvAudio::PcmS16 => &PCM_S16LE,
                FlvAudio::Nellymoser16k => &NELLYMOSER_16K,
                FlvAudio::Nellymoser8k => &NELLYMOSER_8K,
                FlvAudio::Nellymoser => &NELLYMOSER,
                FlvAudio::Alaw => &PCM_ALAW,
                FlvAudio::Mulaw => &PCM_MULAW,
                FlvAudio::Speex => &SPEEX,
            },
        }
    }

    /// ffprobe's `codec_name`.
    pub(crate) const fn name(self) -> &'static str {
        self.ids().name
    }

    /// Whether MP4 (and so HLS, in either segment format) can carry the codec.
    pub(crate) const fn mp4_carries(self) -> bool {
        self.ids().mp4.is_some()
    }
}

/// The video codec of an Enhanced RTMP FourCC.
pub(crate) fn video_by_fourcc(fourcc: &[u8]) -> Option<VideoCodec> {
    video_where(|ids| ids.fourcc.is_some_and(|f| f.as_slice() == fourcc))
}

/// The video codec of a legacy FLV `CodecID`.
pub(crate) fn video_by_flv_codec_id(id: u8) -> Option<VideoCodec> {
    video_where(|ids| ids.flv_codec_id == Some(id))
}

/// The video codec of an ISOBMFF sample entry.
pub(crate) fn video_by_mp4_entry(entry: &[u8; 4]) -> Option<VideoCodec> {
    video_where(|ids| ids.mp4.is_some_and(|m| m.entry == *entry))
        .or_else(|| video_where(|ids| ids.mp4.is_some_and(|m| m.also_read.contains(&entry))))
}

/// The video codec of an MPEG-TS elementary stream: its stream_type, and the format
/// identifier its descriptors name, if any.
pub(crate) fn video_by_ts(stream_type: u8, format: Option<&[u8; 4]>) -> Option<VideoCodec> {
    video_where(|ids| ids.ts.is_ok_and(|ts| ts_names(&ts, stream_type, format)))
}

/// The audio codec of an Enhanced RTMP v2 FourCC.
pub(crate) fn audio_by_fourcc(fourcc: &[u8]) -> Option<AudioCodec> {
    audio_where(|ids| ids.fourcc.is_some_and(|f| f.as_slice() == fourcc))
}

/// The audio codec of a legacy FLV sound byte: its `SoundFormat` (both MP3 values included),
/// and for linear PCM its `SoundSize`.
pub(crate) fn audio_by_flv_sound_byte(sound_byte: u8) -> Option<AudioCodec> {
    let format = sound_byte >> 4;
    let format = if format == SOUND_FORMAT_MP3_8K {
        MP3.flv_sound_format
    } else {
        Some(format)
    };
    let bits = if sound_byte & SOUND_SIZE_16_BIT != 0 {
        16
    } else {
        8
    };
    audio_where(|ids| {
        ids.flv_sound_format == format && ids.flv_sample_bits.is_none_or(|b| b == bits)
    })
}

/// The audio codec of an ISOBMFF sample entry. `mp4a` is every MPEG-4 audio codec's entry and
/// is looked up as the first of them, AAC: its `esds` names the codec
/// ([`audio_by_object_type`]).
pub(crate) fn audio_by_mp4_entry(entry: &[u8; 4]) -> Option<AudioCodec> {
    audio_where(|ids| ids.mp4.is_some_and(|m| m.entry == *entry))
        .or_else(|| audio_where(|ids| ids.mp4.is_some_and(|m| m.also_read.contains(&entry))))
}

/// The audio codec of an `esds` objectTypeIndication.
pub(crate) fn audio_by_object_type(object_type: u8) -> Option<AudioCodec> {
    audio_where(|ids| {
        ids.mp4
            .and_then(|m| m.object_type)
            .is_some_and(|o| o.reads(object_type))
    })
}

/// The audio codec of an MPEG-TS elementary stream: its stream_type, and the format
/// identifier its descriptors name, if any.
pub(crate) fn audio_by_ts(stream_type: u8, format: Option<&[u8; 4]>) -> Option<AudioCodec> {
    audio_where(|ids| ids.ts.is_ok_and(|ts| ts_names(&ts, stream_type, format)))
}

/// Whether a PMT entry is a codec's: by stream_type, or as private data by registration.
fn ts_names(ts: &TsIds, stream_type: u8, format: Option<&[u8; 4]>) -> bool {
    ts.stream_type.reads(stream_type)
        || (stream_type == STREAM_TYPE_PRIVATE_DATA
            && format.is_some()
            && ts.private_format.as_ref() == format)
}

fn video_where(found: impl Fn(&VideoIds) -> bool) -> Option<VideoCodec> {
    VIDEO_CODECS.into_iter().find(|c| found(c.ids()))
}

fn audio_where(found: impl Fn(&AudioIds) -> bool) -> Option<AudioCodec> {
    AUDIO_CODECS.into_iter().find(|c| found(c.ids()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_unique_and_round_trip() {
        for c in VIDEO_CODECS {
            if let Some(f) = c.ids().fourcc {
                assert_eq!(video_by_fourcc(&f), Some(c));
            }
            if let Some(id) = c.ids().flv_codec_id {
                assert_eq!(video_by_flv_codec_id(id), Some(c));
            }
        }
        for c in AUDIO_CODECS {
            if let Some(f) = c.ids().fourcc {
                assert_eq!(audio_by_fourcc(&f), Some(c));
            }
            if let Some(f) = c.ids().flv_sound_format {
                let size = c
                    .ids()
                    .flv_sample_bits
                    .map_or(0x02, |b| u8::from(b == 16) << 1);
                assert_eq!(audio_by_flv_sound_byte(f << 4 | size), Some(c));
            }
        }
        assert_eq!(video_by_flv_codec_id(13), Some(VideoCodec::Av1));
        assert_eq!(audio_by_flv_sound_byte(0xE2), Some(AudioCodec::Mp3));
        assert_eq!(audio_by_flv_sound_byte(SOUND_FORMAT_EX_HEADER << 4), None);
        let pcm = |b| audio_by_flv_sound_byte(b).map(AudioCodec::name);
        assert_eq!(pcm(0x3E), Some("pcm_s16le"));
        assert_eq!(pcm(0x3C), Some("pcm_u8"));
        assert_eq!(pcm(0x0E), Some("pcm_s16le"));
        assert_eq!(pcm(0xB2), Some("speex"));
        assert_eq!(audio_by_flv_sound_byte(0xC0), None);
        assert_eq!(video_by_flv_codec_id(2).map(VideoCodec::name), Some("flv1"));
        assert!(!video_by_flv_codec_id(4).unwrap().mp4_carries());
        assert_eq!(video_by_fourcc(b"vp08"), None);
    }

    #[test]
    fn mp4_and_ts_identifiers_round_trip() {
        for c in VIDEO_CODECS {
            if let Some(m) = c.ids().mp4 {
                assert_eq!(video_by_mp4_entry(&m.entry), Some(c));
                for e in m.also_read {
                    assert_eq!(video_by_mp4_entry(e), Some(c));
                }
            }
            if let Ok(ts) = c.ids().ts {
                assert_eq!(video_by_ts(ts.stream_type.id, None), Some(c));
            }
        }
        for c in AUDIO_CODECS {
            if let Some(o) = c.ids().mp4.and_then(|m| m.object_type) {
                assert_eq!(audio_by_object_type(o.written(44_100)), Some(c));
                assert_eq!(audio_by_object_type(o.written(22_050)), Some(c));
            }
            if let Ok(ts) = c.ids().ts {
                for rate in [0, 16_000, 48_000] {
                    let t = ts.stream_type.written(rate);
                    assert_eq!(audio_by_ts(t, None), Some(c), "{} at {rate}", c.name());
                }
                if let Some(f) = ts.private_format {
                    assert_eq!(audio_by_ts(STREAM_TYPE_PRIVATE_DATA, Some(&f)), Some(c));
                }
            }
        }
        // `mp4a` stands for the MPEG-4 audio codecs; the esds tells which.
        assert_eq!(audio_by_mp4_entry(b"mp4a"), Some(AudioCodec::Aac));
        assert_eq!(audio_by_mp4_entry(b".mp3"), Some(AudioCodec::Mp3));
        assert_eq!(video_by_mp4_entry(b"hev1"), Some(VideoCodec::Hevc));
        assert_eq!(audio_by_object_type(0x67), Some(AudioCodec::Aac));
        assert_eq!(audio_by_object_type(0x69), Some(AudioCodec::Mp3));
        assert_eq!(audio_by_object_type(0xA5), None);
        assert_eq!(MP3.ts.map(|t| t.stream_type.written(24_000)), Ok(0x04));
        assert_eq!(MP3.ts.map(|t| t.stream_type.written(0)), Ok(0x03));
        // Opus has a registration, but kls-rec reads Opus in MPEG-TS as not recorded.
        assert_eq!(audio_by_ts(STREAM_TYPE_PRIVATE_DATA, Some(b"Opus")), None);
        assert_eq!(audio_by_ts(STREAM_TYPE_PRIVATE_DATA, None), None);
        assert_eq!(video_by_ts(0x02, None), None);
    }
}

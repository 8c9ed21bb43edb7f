//! One descriptor per codec: the identifiers each container and tool gives it, defined once and
//! shared by readers and writers (FLV legacy `CodecID` / `SoundFormat` from Adobe's "Video File
//! Format Specification" 10.1 E.4.2.1 and E.4.3.1, with Tencent's FLV extension for AV1; the
//! Enhanced RTMP FourCC from Veovera "Enhanced RTMP" v1 and v2; the codec name FFmpeg's ffprobe
//! reports as `codec_name`).
//!
//! Only identifiers live here; the configuration parsers are the codec's own module.

use crate::container::flv::SOUND_SIZE_16_BIT;
use crate::media::{AudioCodec, FlvAudio, FlvVideo, VideoCodec};

/// The identifiers of one video codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VideoIds {
    /// ffprobe's `codec_name`.
    pub name: &'static str,
    /// Legacy FLV `CodecID` (4 bits), `None` where FLV has none (the codec needs E-RTMP).
    pub flv_codec_id: Option<u8>,
    /// Enhanced RTMP `VideoFourCc`; `None` for the codecs only legacy FLV signals.
    pub fourcc: Option<[u8; 4]>,
    /// Whether an Enhanced RTMP CodedFrames tag carries an SI24 CompositionTime: only avc1 and
    /// hvc1 do (E-RTMP v1 `ExVideoTagBody`); AV1 and VP9 frames follow the FourCC directly.
    pub ex_composition_time: bool,
    /// ISOBMFF sample entry and the configuration box inside it that carries the decoder
    /// configuration record as the source sent it; `None` for a codec MP4 (and so HLS) cannot
    /// carry, which is recorded to FLV only.
    pub mp4: Option<Mp4Ids>,
}

/// A codec's ISOBMFF sample entry and its configuration box.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mp4Ids {
    pub entry: [u8; 4],
    pub config: [u8; 4],
}

/// The identifiers of one audio codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AudioIds {
    /// ffprobe's `codec_name`.
    pub name: &'static str,
    /// Legacy FLV `SoundFormat` (4 bits), `None` where FLV has none (the codec needs the E-RTMP
    /// v2 `ExHeader`, SoundFormat 9).
    pub flv_sound_format: Option<u8>,
    /// The `SoundSize` (8 or 16 bits) that tells two codecs of one SoundFormat apart (linear
    /// PCM: `pcm_u8`, `pcm_s16le`); `None` where the SoundFormat alone names the codec.
    pub flv_sample_bits: Option<u8>,
    /// Enhanced RTMP v2 `AudioFourCc`; `None` for the codecs only legacy FLV signals.
    pub fourcc: Option<[u8; 4]>,
    /// ISOBMFF sample entry and its configuration box (`esds` for the MPEG-4 audio codecs);
    /// `None` for a codec MP4 (and so HLS) cannot carry, which is recorded to FLV only.
    pub mp4: Option<Mp4Ids>,
}

/// Video descriptors, one row per codec.
const H264: VideoIds = VideoIds {
    name: "h264",
    flv_codec_id: Some(7),
    fourcc: Some(*b"avc1"),
    ex_composition_time: true,
    mp4: Some(Mp4Ids {
        entry: *b"avc1",
        config: *b"avcC",
    }),
};
/// CodecID 12 is the HEVC extension of Chinese CDNs.
const HEVC: VideoIds = VideoIds {
    name: "hevc",
    flv_codec_id: Some(12),
    fourcc: Some(*b"hvc1"),
    ex_composition_time: true,
    mp4: Some(Mp4Ids {
        entry: *b"hvc1",
        config: *b"hvcC",
    }),
};
/// CodecID 13 is Tencent's FLV extension for AV1.
const AV1: VideoIds = VideoIds {
    name: "av1",
    flv_codec_id: Some(13),
    fourcc: Some(*b"av01"),
    ex_composition_time: false,
    mp4: Some(Mp4Ids {
        entry: *b"av01",
        config: *b"av1C",
    }),
};
const VP9: VideoIds = VideoIds {
    name: "vp9",
    flv_codec_id: None,
    fourcc: Some(*b"vp09"),
    ex_composition_time: false,
    mp4: Some(Mp4Ids {
        entry: *b"vp09",
        config: *b"vpcC",
    }),
};

/// Audio descriptors, one row per codec.
const AAC: AudioIds = AudioIds {
    name: "aac",
    flv_sound_format: Some(10),
    flv_sample_bits: None,
    fourcc: Some(*b"mp4a"),
    mp4: Some(Mp4Ids {
        entry: *b"mp4a",
        config: *b"esds",
    }),
};
/// SoundFormat 14 ("MP3 8 kHz") is MP3 too; see [`SOUND_FORMAT_MP3_8K`].
const MP3: AudioIds = AudioIds {
    name: "mp3",
    flv_sound_format: Some(2),
    flv_sample_bits: None,
    fourcc: Some(*b".mp3"),
    mp4: Some(Mp4Ids {
        entry: *b"mp4a",
        config: *b"esds",
    }),
};
const OPUS: AudioIds = AudioIds {
    name: "opus",
    flv_sound_format: None,
    flv_sample_bits: None,
    fourcc: Some(*b"Opus"),
    mp4: Some(Mp4Ids {
        entry: *b"Opus",
        config: *b"dOps",
    }),
};
const FLAC: AudioIds = AudioIds {
    name: "flac",
    flv_sound_format: None,
    flv_sample_bits: None,
    fourcc: Some(*b"fLaC"),
    mp4: Some(Mp4Ids {
        entry: *b"fLaC",
        config: *b"dfLa",
    }),
};
const AC3: AudioIds = AudioIds {
    name: "ac3",
    flv_sound_format: None,
    flv_sample_bits: None,
    fourcc: Some(*b"ac-3"),
    mp4: Some(Mp4Ids {
        entry: *b"ac-3",
        config: *b"dac3",
    }),
};
const EAC3: AudioIds = AudioIds {
    name: "eac3",
    flv_sound_format: None,
    flv_sample_bits: None,
    fourcc: Some(*b"ec-3"),
    mp4: Some(Mp4Ids {
        entry: *b"ec-3",
        config: *b"dec3",
    }),
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

/// The second legacy SoundFormat of MP3 (E.4.2.1: "MP3 8 kHz").
pub const SOUND_FORMAT_MP3_8K: u8 = 14;
/// SoundFormat 9: the E-RTMP v2 `ExAudioTagHeader` follows (the FourCC names the codec).
pub const SOUND_FORMAT_EX_HEADER: u8 = 9;

/// Every video codec, for lookups by identifier.
pub const VIDEO_CODECS: [VideoCodec; 9] = [
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
pub const AUDIO_CODECS: [AudioCodec; 17] = [
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
    pub const fn ids(self) -> &'static VideoIds {
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
    pub const fn name(self) -> &'static str {
        self.ids().name
    }

    /// The codec of an Enhanced RTMP video FourCC.
    pub fn from_fourcc(fourcc: &[u8]) -> Option<VideoCodec> {
        VIDEO_CODECS
            .into_iter()
            .find(|c| c.ids().fourcc.is_some_and(|f| f.as_slice() == fourcc))
    }

    /// Whether MP4 (and so HLS, in either segment format) can carry the codec.
    pub const fn mp4_carries(self) -> bool {
        self.ids().mp4.is_some()
    }

    /// The codec of a legacy FLV `CodecID`.
    pub fn from_flv_codec_id(id: u8) -> Option<VideoCodec> {
        VIDEO_CODECS
            .into_iter()
            .find(|c| c.ids().flv_codec_id == Some(id))
    }
}

impl AudioCodec {
    pub const fn ids(self) -> &'static AudioIds {
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
    pub const fn name(self) -> &'static str {
        self.ids().name
    }

    /// The codec of an Enhanced RTMP v2 audio FourCC.
    pub fn from_fourcc(fourcc: &[u8]) -> Option<AudioCodec> {
        AUDIO_CODECS
            .into_iter()
            .find(|c| c.ids().fourcc.is_some_and(|f| f.as_slice() == fourcc))
    }

    /// The codec of a legacy FLV sound byte: its `SoundFormat` (both MP3 values included), and
    /// for linear PCM its `SoundSize`.
    pub fn from_flv_sound_byte(sound_byte: u8) -> Option<AudioCodec> {
        let format = sound_byte >> 4;
        if format == SOUND_FORMAT_MP3_8K {
            return Some(AudioCodec::Mp3);
        }
        let bits = if sound_byte & SOUND_SIZE_16_BIT != 0 {
            16
        } else {
            8
        };
        AUDIO_CODECS.into_iter().find(|c| {
            let ids = c.ids();
            ids.flv_sound_format == Some(format) && ids.flv_sample_bits.is_none_or(|b| b == bits)
        })
    }

    /// Whether MP4 (and so HLS, in either segment format) can carry the codec.
    pub const fn mp4_carries(self) -> bool {
        self.ids().mp4.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_unique_and_round_trip() {
        for c in VIDEO_CODECS {
            if let Some(f) = c.ids().fourcc {
                assert_eq!(VideoCodec::from_fourcc(&f), Some(c));
            }
            if let Some(id) = c.ids().flv_codec_id {
                assert_eq!(VideoCodec::from_flv_codec_id(id), Some(c));
            }
        }
        for c in AUDIO_CODECS {
            if let Some(f) = c.ids().fourcc {
                assert_eq!(AudioCodec::from_fourcc(&f), Some(c));
            }
            if let Some(f) = c.ids().flv_sound_format {
                let size = c
                    .ids()
                    .flv_sample_bits
                    .map_or(0x02, |b| u8::from(b == 16) << 1);
                assert_eq!(AudioCodec::from_flv_sound_byte(f << 4 | size), Some(c));
            }
        }
        assert_eq!(VideoCodec::from_flv_codec_id(13), Some(VideoCodec::Av1));
        assert_eq!(AudioCodec::from_flv_sound_byte(0xE2), Some(AudioCodec::Mp3));
        assert_eq!(
            AudioCodec::from_flv_sound_byte(SOUND_FORMAT_EX_HEADER << 4),
            None
        );
        let pcm = |b| AudioCodec::from_flv_sound_byte(b).map(AudioCodec::name);
        assert_eq!(pcm(0x3E), Some("pcm_s16le"));
        assert_eq!(pcm(0x3C), Some("pcm_u8"));
        assert_eq!(pcm(0x0E), Some("pcm_s16le"));
        assert_eq!(pcm(0xB2), Some("speex"));
        assert_eq!(AudioCodec::from_flv_sound_byte(0xC0), None);
        assert_eq!(
            VideoCodec::from_flv_codec_id(2).map(VideoCodec::name),
            Some("flv1")
        );
        assert!(!VideoCodec::from_flv_codec_id(4).unwrap().mp4_carries());
        assert_eq!(VideoCodec::from_fourcc(b"vp08"), None);
    }
}

//! One descriptor per codec: the identifiers each container and tool gives it, defined once and
//! shared by readers and writers (FLV legacy `CodecID` / `SoundFormat` from Adobe's "Video File
//! Format Specification" 10.1 E.4.2.1 and E.4.3.1, with Tencent's FLV extension for AV1; the
//! Enhanced RTMP FourCC from Veovera "Enhanced RTMP" v1 and v2; the codec name FFmpeg's ffprobe
//! reports as `codec_name`).
//!
//! Only identifiers live here; the configuration parsers are the codec's own module.

use crate::media::{AudioCodec, VideoCodec};

/// The identifiers of one video codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VideoIds {
    /// ffprobe's `codec_name`.
    pub name: &'static str,
    /// Legacy FLV `CodecID` (4 bits), `None` where FLV has none (the codec needs E-RTMP).
    pub flv_codec_id: Option<u8>,
    /// Enhanced RTMP `VideoFourCc`.
    pub fourcc: [u8; 4],
    /// Whether an Enhanced RTMP CodedFrames tag carries an SI24 CompositionTime: only avc1 and
    /// hvc1 do (E-RTMP v1 `ExVideoTagBody`); AV1 and VP9 frames follow the FourCC directly.
    pub ex_composition_time: bool,
    /// ISOBMFF sample entry and the configuration box inside it that carries the decoder
    /// configuration record as the source sent it.
    pub mp4_entry: [u8; 4],
    pub mp4_config: [u8; 4],
}

/// The identifiers of one audio codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AudioIds {
    /// ffprobe's `codec_name`.
    pub name: &'static str,
    /// Legacy FLV `SoundFormat` (4 bits), `None` where FLV has none (the codec needs the E-RTMP
    /// v2 `ExHeader`, SoundFormat 9).
    pub flv_sound_format: Option<u8>,
    /// Enhanced RTMP v2 `AudioFourCc`.
    pub fourcc: [u8; 4],
    /// ISOBMFF sample entry and its configuration box (`esds` for the MPEG-4 audio codecs).
    pub mp4_entry: [u8; 4],
    pub mp4_config: [u8; 4],
}

/// Video descriptors, one row per codec.
const H264: VideoIds = VideoIds {
    name: "h264",
    flv_codec_id: Some(7),
    fourcc: *b"avc1",
    ex_composition_time: true,
    mp4_entry: *b"avc1",
    mp4_config: *b"avcC",
};
/// CodecID 12 is the HEVC extension of Chinese CDNs.
const HEVC: VideoIds = VideoIds {
    name: "hevc",
    flv_codec_id: Some(12),
    fourcc: *b"hvc1",
    ex_composition_time: true,
    mp4_entry: *b"hvc1",
    mp4_config: *b"hvcC",
};
/// CodecID 13 is Tencent's FLV extension for AV1.
const AV1: VideoIds = VideoIds {
    name: "av1",
    flv_codec_id: Some(13),
    fourcc: *b"av01",
    ex_composition_time: false,
    mp4_entry: *b"av01",
    mp4_config: *b"av1C",
};
const VP9: VideoIds = VideoIds {
    name: "vp9",
    flv_codec_id: None,
    fourcc: *b"vp09",
    ex_composition_time: false,
    mp4_entry: *b"vp09",
    mp4_config: *b"vpcC",
};

/// Audio descriptors, one row per codec.
const AAC: AudioIds = AudioIds {
    name: "aac",
    flv_sound_format: Some(10),
    fourcc: *b"mp4a",
    mp4_entry: *b"mp4a",
    mp4_config: *b"esds",
};
/// SoundFormat 14 ("MP3 8 kHz") is MP3 too; see [`SOUND_FORMAT_MP3_8K`].
const MP3: AudioIds = AudioIds {
    name: "mp3",
    flv_sound_format: Some(2),
    fourcc: *b".mp3",
    mp4_entry: *b"mp4a",
    mp4_config: *b"esds",
};
const OPUS: AudioIds = AudioIds {
    name: "opus",
    flv_sound_format: None,
    fourcc: *b"Opus",
    mp4_entry: *b"Opus",
    mp4_config: *b"dOps",
};
const FLAC: AudioIds = AudioIds {
    name: "flac",
    flv_sound_format: None,
    fourcc: *b"fLaC",
    mp4_entry: *b"fLaC",
    mp4_config: *b"dfLa",
};
const AC3: AudioIds = AudioIds {
    name: "ac3",
    flv_sound_format: None,
    fourcc: *b"ac-3",
    mp4_entry: *b"ac-3",
    mp4_config: *b"dac3",
};
const EAC3: AudioIds = AudioIds {
    name: "eac3",
    flv_sound_format: None,
    fourcc: *b"ec-3",
    mp4_entry: *b"ec-3",
    mp4_config: *b"dec3",
};

/// The second legacy SoundFormat of MP3 (E.4.2.1: "MP3 8 kHz").
pub const SOUND_FORMAT_MP3_8K: u8 = 14;
/// SoundFormat 9: the E-RTMP v2 `ExAudioTagHeader` follows (the FourCC names the codec).
pub const SOUND_FORMAT_EX_HEADER: u8 = 9;

/// Every video codec, for lookups by identifier.
pub const VIDEO_CODECS: [VideoCodec; 4] = [
    VideoCodec::H264,
    VideoCodec::Hevc,
    VideoCodec::Av1,
    VideoCodec::Vp9,
];
/// Every audio codec, for lookups by identifier.
pub const AUDIO_CODECS: [AudioCodec; 6] = [
    AudioCodec::Aac,
    AudioCodec::Mp3,
    AudioCodec::Opus,
    AudioCodec::Flac,
    AudioCodec::Ac3,
    AudioCodec::Eac3,
];

impl VideoCodec {
    pub const fn ids(self) -> &'static VideoIds {
        match self {
            VideoCodec::H264 => &H264,
            VideoCodec::Hevc => &HEVC,
            VideoCodec::Av1 => &AV1,
            VideoCodec::Vp9 => &VP9,
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
            .find(|c| c.ids().fourcc.as_slice() == fourcc)
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
            .find(|c| c.ids().fourcc.as_slice() == fourcc)
    }

    /// The codec of a legacy FLV `SoundFormat` (both MP3 values included).
    pub fn from_flv_sound_format(format: u8) -> Option<AudioCodec> {
        if format == SOUND_FORMAT_MP3_8K {
            return Some(AudioCodec::Mp3);
        }
        AUDIO_CODECS
            .into_iter()
            .find(|c| c.ids().flv_sound_format == Some(format))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_unique_and_round_trip() {
        for c in VIDEO_CODECS {
            assert_eq!(VideoCodec::from_fourcc(&c.ids().fourcc), Some(c));
            if let Some(id) = c.ids().flv_codec_id {
                assert_eq!(VideoCodec::from_flv_codec_id(id), Some(c));
            }
        }
        for c in AUDIO_CODECS {
            assert_eq!(AudioCodec::from_fourcc(&c.ids().fourcc), Some(c));
            if let Some(f) = c.ids().flv_sound_format {
                assert_eq!(AudioCodec::from_flv_sound_format(f), Some(c));
            }
        }
        assert_eq!(VideoCodec::from_flv_codec_id(13), Some(VideoCodec::Av1));
        assert_eq!(AudioCodec::from_flv_sound_format(14), Some(AudioCodec::Mp3));
        assert_eq!(
            AudioCodec::from_flv_sound_format(SOUND_FORMAT_EX_HEADER),
            None
        );
        assert_eq!(VideoCodec::from_fourcc(b"vp08"), None);
    }
}

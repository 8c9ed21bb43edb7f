//! The codec facts that decide a reader's or writer's path, beyond the identifiers of
//! [`super::ids`]: one exhaustive `match` each, so a new codec is asked each question here.

use crate::media::{AudioCodec, VideoCodec};

impl VideoCodec {
    /// The compatible brand an MP4 file of this codec lists in `ftyp` besides `isom`, `iso2`
    /// and `mp41`, as FFmpeg's MP4 muxer does: `avc1` for H.264.
    pub const fn mp4_brand(self) -> Option<[u8; 4]> {
        match self {
            VideoCodec::H264 => Some(*b"avc1"),
            VideoCodec::Hevc | VideoCodec::Av1 | VideoCodec::Vp9 | VideoCodec::FlvOnly(_) => None,
        }
    }

    /// Whether the decoder configuration states the picture size. VP9's `vpcC` does not: the
    /// first keyframe's header gives it; the Flash-era codecs have no configuration, their
    /// frames' picture headers give it.
    pub const fn size_in_config(self) -> bool {
        match self {
            VideoCodec::H264 | VideoCodec::Hevc | VideoCodec::Av1 => true,
            VideoCodec::Vp9 | VideoCodec::FlvOnly(_) => false,
        }
    }
}

impl AudioCodec {
    /// Whether a legacy FLV audio tag carries an AACPacketType byte after its flags (Adobe FLV
    /// E.4.2.1): AAC only.
    pub const fn flv_aac_packet_type(self) -> bool {
        match self {
            AudioCodec::Aac => true,
            AudioCodec::Mp3
            | AudioCodec::Opus
            | AudioCodec::Flac
            | AudioCodec::Ac3
            | AudioCodec::Eac3
            | AudioCodec::FlvOnly(_) => false,
        }
    }

    /// Whether the legacy FLV sound flags (rate, size, channels) describe the stream, so a
    /// change in them is a configuration change: MP3. AAC's are fixed (the AudioSpecificConfig
    /// describes it); the Enhanced RTMP codecs have none; the Flash-era codecs' whole tags
    /// carry their own flags, and a change of the rate or channels they give is compared as
    /// such.
    pub const fn flv_flags_describe(self) -> bool {
        match self {
            AudioCodec::Mp3 => true,
            AudioCodec::Aac
            | AudioCodec::Opus
            | AudioCodec::Flac
            | AudioCodec::Ac3
            | AudioCodec::Eac3
            | AudioCodec::FlvOnly(_) => false,
        }
    }

    /// Whether an MP4 sample entry carries no configuration of its own, so the first frame's
    /// header stands in for it: MP3 (its `esds` has no decoder-specific info).
    pub const fn mp4_config_from_frames(self) -> bool {
        match self {
            AudioCodec::Mp3 => true,
            AudioCodec::Aac
            | AudioCodec::Opus
            | AudioCodec::Flac
            | AudioCodec::Ac3
            | AudioCodec::Eac3
            | AudioCodec::FlvOnly(_) => false,
        }
    }
}

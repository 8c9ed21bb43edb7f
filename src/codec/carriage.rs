//! The video codec facts that decide a reader's or writer's path, beyond the identifiers of
//! [`super::ids`]: one exhaustive `match` each, so a new codec is asked each question here.
//! An audio codec's answers are fields of its descriptor row ([`super::ids::AudioPath`]), which
//! a new row must fill in.

use crate::media::VideoCodec;

impl VideoCodec {
    /// The compatible brand an MP4 file of this codec lists in `ftyp` besides `isom`, `iso2`
    /// and `mp41`, as FFmpeg's MP4 muxer does: `avc1` for H.264.
    pub(crate) const fn mp4_brand(self) -> Option<[u8; 4]> {
        match self {
            VideoCodec::H264 => Some(*b"avc1"),
            VideoCodec::Hevc | VideoCodec::Av1 | VideoCodec::Vp9 | VideoCodec::FlvOnly(_) => None,
        }
    }

    /// Whether the decoder configuration states the picture size. VP9's `vpcC` does not: the
    /// first keyframe's header gives it; the Flash-era codecs have no configuration, their
    /// frames' picture headers give it.
    pub(crate) const fn size_in_config(self) -> bool {
        match self {
            VideoCodec::H264 | VideoCodec::Hevc | VideoCodec::Av1 => true,
            VideoCodec::Vp9 | VideoCodec::FlvOnly(_) => false,
        }
    }
}

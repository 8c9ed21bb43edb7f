//! Each tag's header in the convention the source used (README "Outputs"): legacy VIDEODATA /
//! AUDIODATA, Enhanced RTMP FourCC headers, and v2 multitrack headers under the source's track
//! ids; the codecs only FLV carries have none of the writer's (their packets are whole tag
//! bodies).

use super::tag;
use crate::codec::ids::SOUND_FORMAT_EX_HEADER;
use crate::media::{AudioCodec, AudioConfig, FlvVideoSignal, Track, VideoCodec, VideoConfig};

/// What a video tag carries; each convention has its own packet type values for these.
#[derive(Clone, Copy)]
pub(super) enum VideoPart {
    SequenceHeader,
    Frame,
    EndOfSequence,
}

/// How a video track's tag header is laid out: the source's convention, except for a codec FLV
/// has no CodecID for, which only Enhanced RTMP can signal; a multitrack track (OneTrack) under
/// its own track id where the source sent it so, or when it is not the first track (see
/// [`multitrack_id`]).
#[derive(Clone, Copy)]
pub(super) enum VideoForm {
    /// Legacy VIDEODATA with this `CodecID`.
    Legacy(u8),
    /// Enhanced RTMP with a FourCC.
    Enhanced,
    /// Enhanced RTMP v2 multitrack, this track id.
    Multitrack(u8),
}

pub(super) fn video_form(track: Track, v: &VideoConfig) -> VideoForm {
    if let Some(id) = multitrack_id(track, v.flv_track) {
        return VideoForm::Multitrack(id);
    }
    match (v.flv_signal, v.codec.ids().flv_codec_id) {
        (FlvVideoSignal::CodecId, Some(codec_id)) => VideoForm::Legacy(codec_id),
        (FlvVideoSignal::CodecId, None) | (FlvVideoSignal::Enhanced, _) => VideoForm::Enhanced,
    }
}

/// The Enhanced RTMP track id a track is written under: the source's, or for a track after the
/// first that came without one (from an MP4 or MPEG-TS input, or in plain tags) its index, since
/// plain tags are all one track.
pub(super) fn multitrack_id(track: Track, flv_track: Option<u8>) -> Option<u8> {
    flv_track.or((track.index > 0).then_some(track.index))
}

/// What an audio tag carries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum AudioPart {
    SequenceHeader,
    Frame,
}

/// Whether audio is written with the Enhanced RTMP v2 `ExAudioTagHeader`: where the source
/// used it, and for every codec legacy FLV has no SoundFormat for.
pub(super) fn enhanced_audio(a: &AudioConfig) -> bool {
    a.flv_sound_byte >> 4 == SOUND_FORMAT_EX_HEADER || a.codec.ids().flv_sound_format.is_none()
}

/// The audio tag header in the source's convention: a multitrack track (OneTrack) under its
/// track id (see [`multitrack_id`]).
pub(super) fn audio_prefix(track: Track, a: &AudioConfig, part: AudioPart) -> tag::Prefix {
    let packet_type = match part {
        AudioPart::SequenceHeader => tag::EX_SEQUENCE_START,
        AudioPart::Frame => tag::EX_CODED_FRAMES,
    };
    match a.codec {
        // Its packets are whole tag bodies, the source's sound byte first.
        AudioCodec::FlvOnly(_) => return tag::Prefix::default(),
        AudioCodec::Aac
        | AudioCodec::Mp3
        | AudioCodec::Opus
        | AudioCodec::Flac
        | AudioCodec::Ac3
        | AudioCodec::Eac3 => {}
    }
    let fourcc = a.codec.ids().fourcc;
    if let (Some(id), Some(fourcc)) = (multitrack_id(track, a.flv_track), fourcc) {
        return tag::multitrack_audio(packet_type, &fourcc, id);
    }
    if let Some(fourcc) = fourcc.filter(|_| enhanced_audio(a)) {
        return tag::enhanced_audio(packet_type, &fourcc);
    }
    let aac_packet_type = match part {
        AudioPart::SequenceHeader => tag::AAC_SEQUENCE_HEADER,
        AudioPart::Frame => tag::AAC_RAW,
    };
    tag::audio(
        a.flv_sound_byte,
        a.codec
            .ids()
            .path
            .flv_aac_packet_type
            .then_some(aac_packet_type),
    )
}

/// The audio sequence header's prefix and body: the source's configuration (AudioSpecificConfig,
/// OpusHead, FLAC STREAMINFO), an empty body for AC-3 and E-AC-3 (kls-rec built their
/// `dac3`/`dec3` from a syncframe; the push sent an empty SequenceStart), none for MP3.
pub(super) fn audio_sequence_header(track: Track, a: &AudioConfig) -> Option<(tag::Prefix, &[u8])> {
    let body: &[u8] = match a.codec {
        AudioCodec::Aac | AudioCodec::Opus | AudioCodec::Flac => &a.specific,
        AudioCodec::Ac3 | AudioCodec::Eac3 => &[],
        AudioCodec::Mp3 | AudioCodec::FlvOnly(_) => return None,
    };
    Some((audio_prefix(track, a, AudioPart::SequenceHeader), body))
}

/// Whether the video's frame header has a CompositionTime: always in the legacy convention, in
/// Enhanced RTMP only for the codecs that define one.
pub(super) fn carries_composition_time(track: Track, v: &VideoConfig) -> bool {
    match video_form(track, v) {
        VideoForm::Legacy(_) => true,
        VideoForm::Enhanced | VideoForm::Multitrack(_) => v.codec.ids().ex_composition_time,
    }
}

/// Whether the video is a codec only FLV carries: its packets are whole tag bodies, written
/// with no header of the writer's, and it has no sequence header or end-of-sequence tag (ffmpeg
/// writes none for them either).
pub(super) fn whole_tags(v: &VideoConfig) -> bool {
    match v.codec {
        VideoCodec::FlvOnly(_) => true,
        VideoCodec::H264 | VideoCodec::Hevc | VideoCodec::Av1 | VideoCodec::Vp9 => false,
    }
}

/// Whether the file's head has a sequence header tag for the video (it is the file's first
/// tag after `onMetaData`).
pub(crate) fn has_sequence_header_video(v: &VideoConfig) -> bool {
    !whole_tags(v)
}

/// Whether the file's head has a sequence header tag for an audio track (after the video's, in
/// track order).
pub(crate) fn has_sequence_header_audio(a: &AudioConfig) -> bool {
    audio_sequence_header(Track::AUDIO, a).is_some()
}

/// The video tag header in the convention the source used (README "Outputs": HEVC in both).
pub(super) fn video_prefix(
    track: Track,
    v: &VideoConfig,
    frame_type: u8,
    part: VideoPart,
    cts_ms: i32,
) -> tag::Prefix {
    if whole_tags(v) {
        return tag::Prefix::default();
    }
    let ex_packet_type = match part {
        VideoPart::SequenceHeader => tag::EX_SEQUENCE_START,
        VideoPart::Frame => tag::EX_CODED_FRAMES,
        VideoPart::EndOfSequence => tag::EX_SEQUENCE_END,
    };
    // Every codec without a legacy CodecID has a FourCC.
    let fourcc = v.codec.ids().fourcc.unwrap_or_default();
    match video_form(track, v) {
        VideoForm::Legacy(codec_id) => {
            let packet_type = match part {
                VideoPart::SequenceHeader => tag::AVC_SEQUENCE_HEADER,
                VideoPart::Frame => tag::AVC_NALU,
                VideoPart::EndOfSequence => tag::AVC_END_OF_SEQUENCE,
            };
            tag::legacy_video(frame_type, codec_id, packet_type, cts_ms)
        }
        VideoForm::Enhanced => {
            tag::enhanced_video(frame_type, ex_packet_type, &fourcc, v.codec.ids(), cts_ms)
        }
        VideoForm::Multitrack(id) => {
            let ids = v.codec.ids();
            tag::multitrack_video(frame_type, ex_packet_type, &fourcc, ids, id, cts_ms)
        }
    }
}

//! FLV tag bytes: the file header (Adobe FLV and F4V File Format Specification v10.1, Annex E.2),
//! the tag framing (E.4.1), the legacy video and audio tag headers (E.4.2.1, E.4.3.1), and the
//! Enhanced RTMP tag headers (veovera "Enhanced RTMP" v1 `ExVideoTagHeader`, v2
//! `ExAudioTagHeader`).
//!
//! Every function writes one structure and returns the bytes it wrote; nothing here knows about
//! files or indexes.

use std::io::{self, Write};

use crate::codec::ids::{SOUND_FORMAT_EX_HEADER, VideoIds};

pub(crate) use crate::container::flv::{
    AAC_RAW, AAC_SEQUENCE_HEADER, AVC_END_OF_SEQUENCE, AVC_NALU, AVC_SEQUENCE_HEADER,
    EX_CODED_FRAMES, EX_HEADER, EX_SEQUENCE_END, EX_SEQUENCE_START, FILE_HEADER_LEN, FRAME_INTER,
    FRAME_KEY, HEADER_LEN, MAX_DATA_SIZE, PREV_SIZE_LEN, SIGNATURE, TAG_AUDIO, TAG_HEADER_LEN,
    TAG_SCRIPT, TAG_VIDEO,
};
use crate::container::flv::{
    EX_AUDIO_MULTITRACK, EX_MOD_EX, EX_VIDEO_MULTITRACK, MOD_EX_TIMESTAMP_OFFSET_NANO,
    MULTITRACK_ONE_TRACK,
};

/// The file header (E.2) and PreviousTagSize0.
pub(crate) fn file_header(has_audio: bool, has_video: bool) -> [u8; FILE_HEADER_LEN] {
    // TypeFlagsAudio is bit 2, TypeFlagsVideo bit 0; the other bits are reserved, 0.
    let flags = (u8::from(has_audio) << 2) | u8::from(has_video);
    [
        SIGNATURE[0],
        SIGNATURE[1],
        SIGNATURE[2],
        1,     // Version
        flags, // TypeFlags
        0,
        0,
        0,
        HEADER_LEN as u8, // DataOffset: the header's own length
        0,
        0,
        0,
        0, // PreviousTagSize0
    ]
}

/// Writes one tag: header, `prefix` (the codec tag header) and `payload` as its data, then its
/// PreviousTagSize. Returns the bytes written. The caller checks the data size fits a UI24.
pub(crate) fn write_tag(
    out: &mut impl Write,
    tag_type: u8,
    timestamp_ms: u32,
    prefix: &[u8],
    payload: &[u8],
) -> io::Result<u64> {
    let data_size = prefix.len() + payload.len();
    debug_assert!(data_size <= MAX_DATA_SIZE);
    let size = (data_size as u32).to_be_bytes();
    let ts = timestamp_ms.to_be_bytes();
    let header = [
        tag_type, // Reserved (2 bits) = 0, Filter = 0, TagType
        size[1], size[2], size[3], // DataSize UI24
        ts[1], ts[2], ts[3], // Timestamp: the low 24 bits of the milliseconds
        ts[0], // TimestampExtended: the high 8 bits
        0, 0, 0, // StreamID, always 0
    ];
    out.write_all(&header)?;
    out.write_all(prefix)?;
    out.write_all(payload)?;
    // PreviousTagSize counts the header and the data.
    out.write_all(&(TAG_HEADER_LEN as u32 + data_size as u32).to_be_bytes())?;
    Ok(tag_len(data_size))
}

/// Bytes a tag of `data_size` bytes of data takes in the file: header, data, PreviousTagSize.
pub(crate) fn tag_len(data_size: usize) -> u64 {
    (TAG_HEADER_LEN + data_size + PREV_SIZE_LEN) as u64
}

/// A codec tag header of at most 16 bytes, built on the stack: the longest, a multitrack video
/// header with a CompositionTime (10 bytes) behind a TimestampOffsetNano ModEx (5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Prefix {
    bytes: [u8; 16],
    len: usize,
}

impl Prefix {
    fn push(mut self, b: &[u8]) -> Prefix {
        self.bytes[self.len..self.len + b.len()].copy_from_slice(b);
        self.len += b.len();
        self
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// A signed 24-bit big-endian integer (SI24); the caller checks the range.
fn si24(v: i32) -> [u8; 3] {
    let b = v.to_be_bytes();
    [b[1], b[2], b[3]]
}

/// Legacy VIDEODATA + AVCVIDEOPACKET header (E.4.3.1): FrameType/CodecID, AVCPacketType,
/// CompositionTime (SI24, milliseconds).
pub(crate) fn legacy_video(frame_type: u8, codec_id: u8, packet_type: u8, cts_ms: i32) -> Prefix {
    Prefix::default()
        .push(&[(frame_type << 4) | codec_id, packet_type])
        .push(&si24(cts_ms))
}

/// Enhanced RTMP `ExVideoTagHeader`: IsExHeader (1 bit), FrameType (3 bits), PacketType
/// (4 bits), the FourCC, then for CodedFrames of a codec that has one the SI24 CompositionTime.
pub(crate) fn enhanced_video(
    frame_type: u8,
    packet_type: u8,
    fourcc: &[u8; 4],
    ids: &VideoIds,
    cts_ms: i32,
) -> Prefix {
    let p = Prefix::default()
        .push(&[EX_HEADER | ((frame_type & 0x07) << 4) | packet_type])
        .push(fourcc);
    if packet_type == EX_CODED_FRAMES && ids.ex_composition_time {
        p.push(&si24(cts_ms))
    } else {
        p
    }
}

/// Enhanced RTMP v2 multitrack video header for one track: IsExHeader, FrameType and
/// VideoPacketType Multitrack, then AvMultitrackType OneTrack with the track's packet type, its
/// FourCC and its track id, then for CodedFrames of a codec that has one the SI24
/// CompositionTime.
pub(crate) fn multitrack_video(
    frame_type: u8,
    packet_type: u8,
    fourcc: &[u8; 4],
    ids: &VideoIds,
    track_id: u8,
    cts_ms: i32,
) -> Prefix {
    let p = Prefix::default()
        .push(&[EX_HEADER | ((frame_type & 0x07) << 4) | EX_VIDEO_MULTITRACK])
        .push(&[(MULTITRACK_ONE_TRACK << 4) | packet_type])
        .push(fourcc)
        .push(&[track_id]);
    if packet_type == EX_CODED_FRAMES && ids.ex_composition_time {
        p.push(&si24(cts_ms))
    } else {
        p
    }
}

/// An Enhanced RTMP header (video with IsExHeader, audio with SoundFormat 9) with a ModEx
/// TimestampOffsetNano of `offset_ns` in front of its packet type: the first byte's packet type
/// becomes ModEx, followed by the size − 1 (2), the UI24, and ModExType 0 with the packet type.
/// A legacy header, which cannot carry one, and an offset of 0 leave the header as it is.
pub(crate) fn with_offset_ns(tag_type: u8, prefix: Prefix, offset_ns: u32) -> Prefix {
    let Some((&first, rest)) = prefix.as_bytes().split_first() else {
        return prefix;
    };
    let enhanced = if tag_type == TAG_VIDEO {
        first & EX_HEADER != 0
    } else {
        first >> 4 == SOUND_FORMAT_EX_HEADER
    };
    if offset_ns == 0 || !enhanced {
        return prefix;
    }
    let ns = offset_ns.min(0xFF_FFFF).to_be_bytes();
    Prefix::default()
        .push(&[(first & 0xF0) | EX_MOD_EX, 2, ns[1], ns[2], ns[3]])
        .push(&[(MOD_EX_TIMESTAMP_OFFSET_NANO << 4) | (first & 0x0F)])
        .push(rest)
}

/// Enhanced RTMP v2 `ExAudioTagHeader`: SoundFormat 9 and the AudioPacketType in one byte, then
/// the FourCC.
pub(crate) fn enhanced_audio(packet_type: u8, fourcc: &[u8; 4]) -> Prefix {
    Prefix::default()
        .push(&[(SOUND_FORMAT_EX_HEADER << 4) | packet_type])
        .push(fourcc)
}

/// Enhanced RTMP v2 multitrack audio header for one track: SoundFormat 9 with AudioPacketType
/// Multitrack, then AvMultitrackType OneTrack with the track's packet type, its FourCC and its
/// track id.
pub(crate) fn multitrack_audio(packet_type: u8, fourcc: &[u8; 4], track_id: u8) -> Prefix {
    Prefix::default()
        .push(&[(SOUND_FORMAT_EX_HEADER << 4) | EX_AUDIO_MULTITRACK])
        .push(&[(MULTITRACK_ONE_TRACK << 4) | packet_type])
        .push(fourcc)
        .push(&[track_id])
}

/// AUDIODATA header (E.4.2.1): the sound byte as the source sent it, then for AAC the
/// AACPacketType.
pub(crate) fn audio(sound_byte: u8, aac_packet_type: Option<u8>) -> Prefix {
    let p = Prefix::default().push(&[sound_byte]);
    match aac_packet_type {
        Some(t) => p.push(&[t]),
        None => p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_framing() {
        let mut out = Vec::new();
        let n = write_tag(&mut out, TAG_VIDEO, 0x0123_4567, &[0xAA], &[0xBB, 0xCC]).unwrap();
        assert_eq!(n, out.len() as u64);
        assert_eq!(
            out,
            [
                9, 0, 0, 3, // type, DataSize 3
                0x23, 0x45, 0x67, 0x01, // low 24 bits, then the extended high byte
                0, 0, 0, // StreamID
                0xAA, 0xBB, 0xCC, // data
                0, 0, 0, 14, // PreviousTagSize = 11 + 3
            ]
        );
    }

    #[test]
    fn composition_time_is_signed() {
        assert_eq!(
            legacy_video(FRAME_INTER, 7, AVC_NALU, -40).as_bytes(),
            [0x27, 1, 0xFF, 0xFF, 0xD8]
        );
        assert_eq!(
            legacy_video(FRAME_KEY, 12, AVC_NALU, 80).as_bytes(),
            [0x1C, 1, 0, 0, 80]
        );
    }

    #[test]
    fn header_flags() {
        assert_eq!(file_header(true, true)[4], 5);
        assert_eq!(file_header(true, false)[4], 4);
        assert_eq!(file_header(false, true)[4], 1);
    }
}

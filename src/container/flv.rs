//! FLV vocabulary (Adobe "Video File Format Specification" 10.1, Annex E; Veovera "Enhanced
//! RTMP" v1 and v2): tag types, header lengths and the packet type values of the audio and video
//! tag headers, for the FLV reader (`input/flv/body.rs`) and the FLV writer (`mux/flv/tag.rs`).

/// TagType values (E.4.1).
pub(crate) const TAG_AUDIO: u8 = 8;
pub(crate) const TAG_VIDEO: u8 = 9;
pub(crate) const TAG_SCRIPT: u8 = 18;

/// The file header's signature (E.2).
pub(crate) const SIGNATURE: &[u8; 3] = b"FLV";
/// File header length for version 1 (E.2 `DataOffset`).
pub(crate) const HEADER_LEN: usize = 9;
/// Tag header length (E.4.1): TagType, DataSize, Timestamp, TimestampExtended, StreamID.
pub(crate) const TAG_HEADER_LEN: usize = 11;
/// `PreviousTagSize` field length (E.3).
pub(crate) const PREV_SIZE_LEN: usize = 4;
/// File header length plus PreviousTagSize0.
pub(crate) const FILE_HEADER_LEN: usize = HEADER_LEN + PREV_SIZE_LEN;
/// DataSize is a UI24.
pub(crate) const MAX_DATA_SIZE: usize = 0xFF_FFFF;

/// Video FrameType (E.4.3.1): 4 bits legacy, 3 bits under Enhanced RTMP.
pub(crate) const FRAME_KEY: u8 = 1;
pub(crate) const FRAME_INTER: u8 = 2;
/// "video info/command frame": carries no picture.
pub(crate) const FRAME_COMMAND: u8 = 5;

/// AVCPacketType (E.4.3.1); HEVC under CodecID 12 and AV1 under 13 use the same values.
pub(crate) const AVC_SEQUENCE_HEADER: u8 = 0;
pub(crate) const AVC_NALU: u8 = 1;
pub(crate) const AVC_END_OF_SEQUENCE: u8 = 2;

/// AACPacketType (E.4.2.1).
pub(crate) const AAC_SEQUENCE_HEADER: u8 = 0;
pub(crate) const AAC_RAW: u8 = 1;

/// Enhanced RTMP `IsExHeader`: the top bit of a video tag's first byte.
pub(crate) const EX_HEADER: u8 = 0x80;

/// Enhanced RTMP `VideoPacketType` values (low nibble of the first byte).
pub(crate) const EX_SEQUENCE_START: u8 = 0;
pub(crate) const EX_CODED_FRAMES: u8 = 1;
pub(crate) const EX_SEQUENCE_END: u8 = 2;
/// Coded frames without the CompositionTime field (it is 0).
pub(crate) const EX_CODED_FRAMES_X: u8 = 3;
pub(crate) const EX_METADATA: u8 = 4;
pub(crate) const EX_MPEG2TS_SEQUENCE_START: u8 = 5;
pub(crate) const EX_VIDEO_MULTITRACK: u8 = 6;
/// Both tag kinds: modifier extensions, then the real packet type.
pub(crate) const EX_MOD_EX: u8 = 7;
/// `ModExType` TimestampOffsetNano (high nibble of the byte closing a ModEx entry): its data is
/// a UI24 of nanoseconds added to the tag's millisecond timestamp.
pub(crate) const MOD_EX_TIMESTAMP_OFFSET_NANO: u8 = 0;

/// Enhanced RTMP v2 `AudioPacketType` values (low nibble of the first byte under SoundFormat 9);
/// SequenceStart, CodedFrames, SequenceEnd and ModEx share the video values.
pub(crate) const EX_AUDIO_MULTICHANNEL_CONFIG: u8 = 4;
pub(crate) const EX_AUDIO_MULTITRACK: u8 = 5;

/// `AvMultitrackType` (high nibble of the byte after a Multitrack packet type).
pub(crate) const MULTITRACK_ONE_TRACK: u8 = 0;
pub(crate) const MULTITRACK_MANY_TRACKS_MANY_CODECS: u8 = 2;

/// The SoundSize bit of the sound byte (E.4.2.1): set for 16-bit samples, clear for 8-bit. It
/// tells the two linear PCM codecs of a SoundFormat apart.
pub(crate) const SOUND_SIZE_16_BIT: u8 = 0x02;

/// The sound byte of an Enhanced RTMP v2 audio tag, packet type left out: SoundFormat 9
/// (`ExHeader`). Tracks that carry it are written back with the Enhanced RTMP header.
pub(crate) const SOUND_BYTE_EX_HEADER: u8 = crate::codec::ids::SOUND_FORMAT_EX_HEADER << 4;

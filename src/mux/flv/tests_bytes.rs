//! The writer's bytes field by field where ffprobe 5.1 cannot check them (Enhanced RTMP HEVC,
//! legacy codec id 12), MP3, and the errors for packets FLV cannot carry.

use super::tests::{metadata, mux, numbers};
use std::path::Path;

use super::*;
use crate::input::flv::{Tag, TagKind};
use crate::media::*;
use crate::media::{AudioConfig, VideoCodec, VideoConfig};
use crate::mux::MuxOptions;
use crate::testutil::fixtures::file_open;
use crate::testutil::{flv_tags, scratch};

/// An HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1) with no parameter set arrays:
/// the writer never parses it, so any bytes show that it is carried unchanged.
const HVCC: [u8; 23] = [
    0x01, // configurationVersion
    0x01, // general_profile_space, tier, profile_idc (Main)
    0x60, 0x00, 0x00, 0x00, // general_profile_compatibility_flags
    0x90, 0x00, 0x00, 0x00, 0x00, 0x00, // general_constraint_indicator_flags
    0x5D, // general_level_idc (3.1)
    0xF0, 0x00, // min_spatial_segmentation_idc
    0xFC, // parallelismType
    0xFD, // chromaFormat 4:2:0
    0xF8, 0xF8, // bit depths 8
    0x00, 0x00, // avgFrameRate
    0x0F, // lengthSizeMinusOne = 3
    0x00, // numOfArrays
];
const ASC: [u8; 2] = [0x12, 0x10]; // AAC LC, 44.1 kHz, stereo
const AAC_SOUND_BYTE: u8 = 0xAF; // AAC, 44 kHz, 16-bit, stereo

fn hevc_config(signal: FlvVideoSignal) -> CodecConfig {
    CodecConfig {
        more_video: Vec::new(),
        video: Some(VideoConfig {
            flv_track: None,
            codec: VideoCodec::Hevc,
            record: HVCC.to_vec(),
            width: 160,
            height: 120,
            flv_signal: signal,
        }),
        audio: Some(AudioConfig {
            codec: AudioCodec::Aac,
            specific: ASC.to_vec(),
            sample_rate: 44100,
            channels: 2,
            flv_sound_byte: AAC_SOUND_BYTE,
            flv_track: None,
        }),
        video_built: None,
        more_audio: Vec::new(),
    }
}

fn video(dts_ms: i64, cts_ms: i32, keyframe: bool, data: &[u8]) -> Packet {
    Packet {
        track: crate::media::Track::VIDEO,
        dts_90k: dts_ms * 90,
        cts_90k: cts_ms * 90,
        keyframe,
        data: data.to_vec(),
        offset_ns: 0,
    }
}

fn audio(dts_ms: i64, data: &[u8]) -> Packet {
    Packet {
        track: crate::media::Track::AUDIO,
        dts_90k: dts_ms * 90,
        cts_90k: 0,
        keyframe: true,
        data: data.to_vec(),
        offset_ns: 0,
    }
}

/// IDR_W_RADL (type 19), TRAIL_R (type 1), CRA (type 21): length-prefixed NAL units.
const IDR: [u8; 7] = [0, 0, 0, 3, 0x26, 0x01, 0xAF];
const TRAIL: [u8; 7] = [0, 0, 0, 3, 0x02, 0x01, 0xD0];
const CRA: [u8; 7] = [0, 0, 0, 3, 0x2A, 0x01, 0xAC];
const AAC_FRAME: [u8; 3] = [0x21, 0x10, 0x04];

fn hevc_packets() -> Vec<Packet> {
    vec![
        video(0, 80, true, &IDR),
        audio(0, &AAC_FRAME),
        video(40, 120, false, &TRAIL),
        video(80, -40, true, &CRA),
    ]
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn assert_tag(t: &Tag, kind: TagKind, ts_ms: u32, data: &[u8]) {
    assert_eq!(
        (t.kind, t.timestamp_ms, t.data.as_slice()),
        (kind, ts_ms, data)
    );
}

fn number(meta: &crate::amf0::Value, key: &str) -> f64 {
    meta.get(key).and_then(|v| v.as_f64()).unwrap()
}

#[test]
fn enhanced_rtmp_hevc_tags() {
    let dir = scratch("flv-writer-enhanced");
    let config = hevc_config(FlvVideoSignal::Enhanced);
    let produced = mux(&dir, &config, &hevc_packets());
    let bytes = std::fs::read(&produced.path).unwrap();
    let (flags, tags) = flv_tags(&bytes);
    assert_eq!(flags, 0x05);
    assert_eq!(tags.len(), 8);
    // ExVideoTagHeader: IsExHeader 1, FrameType 1 (key), PacketType 0 (SequenceStart), FourCC;
    // then the HEVCDecoderConfigurationRecord.
    assert_tag(
        &tags[1],
        TagKind::Video,
        0,
        &cat(&[&[0x90], b"hvc1", &HVCC]),
    );
    // AACPacketType 0 and the AudioSpecificConfig.
    assert_tag(
        &tags[2],
        TagKind::Audio,
        0,
        &cat(&[&[AAC_SOUND_BYTE, 0], &ASC]),
    );
    // PacketType 1 (CodedFrames): SI24 CompositionTime, then the NAL units.
    assert_tag(
        &tags[3],
        TagKind::Video,
        0,
        &cat(&[&[0x91], b"hvc1", &[0, 0, 80], &IDR]),
    );
    assert_tag(
        &tags[4],
        TagKind::Audio,
        0,
        &cat(&[&[AAC_SOUND_BYTE, 1], &AAC_FRAME]),
    );
    // FrameType 2 (inter).
    assert_tag(
        &tags[5],
        TagKind::Video,
        40,
        &cat(&[&[0xA1], b"hvc1", &[0, 0, 120], &TRAIL]),
    );
    // A negative CompositionTime in two's complement.
    assert_tag(
        &tags[6],
        TagKind::Video,
        80,
        &cat(&[&[0x91], b"hvc1", &[0xFF, 0xFF, 0xD8], &CRA]),
    );
    // PacketType 2 (SequenceEnd): FourCC and nothing else, at the last video DTS.
    assert_tag(&tags[7], TagKind::Video, 80, &cat(&[&[0x92], b"hvc1"]));

    let meta = metadata(&tags);
    // Enhanced RTMP: videocodecid is the FourCC as a number.
    assert_eq!(
        number(&meta, "videocodecid"),
        f64::from(u32::from_be_bytes(*b"hvc1"))
    );
    assert_eq!(number(&meta, "audiocodecid"), 10.0);
    assert_eq!(
        (number(&meta, "width"), number(&meta, "height")),
        (160.0, 120.0)
    );
    // The latest presentation end: PTS 160 ms + one 40 ms frame.
    assert_eq!(number(&meta, "duration"), 0.2);
    assert_eq!(number(&meta, "filesize"), bytes.len() as f64);
    let keyframes = meta.get("keyframes").unwrap();
    assert_eq!(numbers(keyframes.get("times")), [0.0, 0.08]);
    assert_eq!(
        numbers(keyframes.get("filepositions")),
        [tags[3].offset as f64, tags[6].offset as f64]
    );
}

#[test]
fn legacy_codec_id_12_hevc_tags() {
    let dir = scratch("flv-writer-legacy-hevc");
    let produced = mux(&dir, &hevc_config(FlvVideoSignal::CodecId), &hevc_packets());
    let (_, tags) = flv_tags(&std::fs::read(&produced.path).unwrap());
    // FrameType 1 + CodecID 12, AVCPacketType 0, CompositionTime 0, the record.
    assert_tag(
        &tags[1],
        TagKind::Video,
        0,
        &cat(&[&[0x1C, 0, 0, 0, 0], &HVCC]),
    );
    assert_tag(
        &tags[3],
        TagKind::Video,
        0,
        &cat(&[&[0x1C, 1, 0, 0, 80], &IDR]),
    );
    assert_tag(
        &tags[5],
        TagKind::Video,
        40,
        &cat(&[&[0x2C, 1, 0, 0, 120], &TRAIL]),
    );
    assert_tag(
        &tags[6],
        TagKind::Video,
        80,
        &cat(&[&[0x1C, 1, 0xFF, 0xFF, 0xD8], &CRA]),
    );
    // AVCPacketType 2: end of sequence.
    assert_tag(&tags[7], TagKind::Video, 80, &[0x1C, 2, 0, 0, 0]);
    assert_eq!(number(&metadata(&tags), "videocodecid"), 12.0);
}

#[test]
fn mp3_tags_and_extended_timestamps() {
    let dir = scratch("flv-writer-mp3");
    let sound_byte = 0x2F; // MP3, 44 kHz, 16-bit, stereo
    let config = CodecConfig {
        more_video: Vec::new(),
        video: None,
        audio: Some(AudioConfig {
            codec: AudioCodec::Mp3,
            specific: Vec::new(),
            sample_rate: 44100,
            channels: 2,
            flv_sound_byte: sound_byte,
            flv_track: None,
        }),
        video_built: None,
        more_audio: Vec::new(),
    };
    let frame = [0xFF, 0xFB, 0x90, 0x64, 0x00];
    // The last frame is past 2^24 ms, where the TimestampExtended byte is needed.
    let packets = [
        audio(0, &frame),
        audio(26, &frame),
        audio(0x0100_0010, &frame),
    ];
    let produced = mux(&dir, &config, &packets);
    let bytes = std::fs::read(&produced.path).unwrap();
    let (flags, tags) = flv_tags(&bytes);
    assert_eq!(flags, 0x04);
    // No sequence header and no end of sequence: the sound byte, then the frame.
    assert_eq!(tags.len(), 4);
    assert_tag(&tags[1], TagKind::Audio, 0, &cat(&[&[sound_byte], &frame]));
    assert_tag(&tags[2], TagKind::Audio, 26, &cat(&[&[sound_byte], &frame]));
    assert_tag(
        &tags[3],
        TagKind::Audio,
        0x0100_0010,
        &cat(&[&[sound_byte], &frame]),
    );
    let header = &bytes[tags[3].offset as usize..tags[3].offset as usize + 8];
    assert_eq!(header[4..8], [0x00, 0x00, 0x10, 0x01]);
    let meta = metadata(&tags);
    assert_eq!(number(&meta, "audiocodecid"), 2.0);
    assert_eq!(number(&meta, "audiosamplesize"), 16.0);
    assert_eq!(meta.get("stereo").and_then(|v| v.as_bool()), Some(true));
    assert!(meta.get("videocodecid").is_none() && meta.get("width").is_none());
    // Audio only: one index entry per second that has audio.
    let keyframes = meta.get("keyframes").unwrap();
    assert_eq!(numbers(keyframes.get("times")), [0.0, 16_777.232]);
}

fn open(dir: &Path, config: &CodecConfig) -> Result<FlvMuxer> {
    let options = MuxOptions::default();
    FlvMuxer::open(&file_open((dir, "t"), 0, config, &options))
}

#[test]
fn packets_flv_cannot_carry_are_errors() {
    let dir = scratch("flv-writer-errors");
    let err = open(&dir, &CodecConfig::default()).err().unwrap();
    assert!(err.to_string().contains("neither"), "{err}");

    let config = hevc_config(FlvVideoSignal::CodecId);
    let mut m = open(&dir, &config).unwrap();
    let err = m.write(&video(-1, 0, true, &IDR)).unwrap_err();
    assert!(err.to_string().contains("DTS -1 ms"), "{err}");
    let err = m.write(&video(1 << 32, 0, true, &IDR)).unwrap_err();
    assert!(err.to_string().contains("FLV timestamp"), "{err}");
    let err = m.write(&video(0, 1 << 23, true, &IDR)).unwrap_err();
    assert!(err.to_string().contains("CompositionTime"), "{err}");
    // The extremes of the fields fit.
    m.write(&video(0, (1 << 23) - 1, true, &IDR)).unwrap();
    m.write(&video(0, -(1 << 23), true, &IDR)).unwrap();
    m.write(&video(u32::MAX.into(), 0, true, &IDR)).unwrap();
    // The video prefix takes 5 bytes of the 24-bit DataSize.
    let err = m
        .write(&video(0, 0, true, &vec![0; tag::MAX_DATA_SIZE - 4]))
        .unwrap_err();
    assert!(err.to_string().contains("DataSize"), "{err}");
    m.write(&video(0, 0, true, &vec![0; tag::MAX_DATA_SIZE - 5]))
        .unwrap();
    drop(m);

    let audio_only = CodecConfig {
        video: None,
        ..hevc_config(FlvVideoSignal::CodecId)
    };
    let mut m = open(&dir, &audio_only).unwrap();
    let err = m.write(&video(0, 0, true, &IDR)).unwrap_err();
    assert!(err.to_string().contains("no such track"), "{err}");
    drop(m);
    // Abandoned muxers leave nothing behind.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn enhanced_rtmp_avc_uses_the_avc1_fourcc() {
    let config = CodecConfig {
        more_video: Vec::new(),
        video: Some(VideoConfig {
            flv_track: None,
            codec: VideoCodec::H264,
            record: vec![1, 0x64, 0, 0x0D, 0xFF],
            width: 0,
            height: 0,
            flv_signal: FlvVideoSignal::Enhanced,
        }),
        audio: None,
        video_built: None,
        more_audio: Vec::new(),
    };
    let v = config.video.as_ref().unwrap();
    let start = video_prefix(
        Track::VIDEO,
        v,
        tag::FRAME_KEY,
        VideoPart::SequenceHeader,
        0,
    );
    assert_eq!(start.as_bytes(), cat(&[&[0x90], b"avc1"]));
    let frame = video_prefix(Track::VIDEO, v, tag::FRAME_INTER, VideoPart::Frame, 40);
    assert_eq!(frame.as_bytes(), cat(&[&[0xA1], b"avc1", &[0, 0, 40]]));
    let end = video_prefix(Track::VIDEO, v, tag::FRAME_KEY, VideoPart::EndOfSequence, 0);
    assert_eq!(end.as_bytes(), cat(&[&[0x92], b"avc1"]));
}

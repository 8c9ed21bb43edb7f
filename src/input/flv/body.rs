//! FLV audio and video tag bodies: the codec headers in front of the payload (Adobe "Video File
//! Format Specification" 10.1, E.4.2.1 AUDIODATA / AACAUDIODATA, E.4.3.1 VIDEODATA /
//! AVCVIDEOPACKET), HEVC under the legacy `CodecID` 12 used by Chinese CDNs, and the Enhanced RTMP
//! extended video header (Veovera "Enhanced RTMP" v1, `ExVideoTagHeader`).
//!
//! Parsing borrows from the tag: the payload handed on is exactly the bytes after the codec
//! header, so packet sizes equal ffmpeg's and nothing is copied twice.

use crate::media::{FlvVideoSignal, VideoCodec};

/// VIDEODATA `FrameType` (E.4.3.1), 4 bits legacy / 3 bits Enhanced RTMP.
const FRAME_KEY: u8 = 1;
/// "video info/command frame": carries no picture.
const FRAME_COMMAND: u8 = 5;

/// Legacy `CodecID` values (E.4.3.1), 12 being the HEVC extension of Chinese CDNs.
const CODEC_ID_AVC: u8 = 7;
const CODEC_ID_HEVC: u8 = 12;

/// Enhanced RTMP `VideoPacketType` values.
mod ex {
    pub const SEQUENCE_START: u8 = 0;
    pub const CODED_FRAMES: u8 = 1;
    pub const SEQUENCE_END: u8 = 2;
    /// Coded frames without the composition time field (it is 0).
    pub const CODED_FRAMES_X: u8 = 3;
    pub const METADATA: u8 = 4;
    pub const MPEG2TS_SEQUENCE_START: u8 = 5;
    pub const MULTITRACK: u8 = 6;
    pub const MOD_EX: u8 = 7;
}

/// AUDIODATA `SoundFormat` names (E.4.2.1), one row per value, for reports.
const SOUND_FORMATS: [&str; 16] = [
    "linear PCM, platform endian", // 0
    "ADPCM",                       // 1
    "MP3",                         // 2
    "linear PCM, little endian",   // 3
    "Nellymoser 16 kHz mono",      // 4
    "Nellymoser 8 kHz mono",       // 5
    "Nellymoser",                  // 6
    "G.711 A-law",                 // 7
    "G.711 mu-law",                // 8
    "Enhanced RTMP audio",         // 9: ExAudioTagHeader
    "AAC",                         // 10
    "Speex",                       // 11
    "reserved 12",                 // 12
    "reserved 13",                 // 13
    "MP3 8 kHz",                   // 14
    "device-specific sound",       // 15
];
const SOUND_FORMAT_MP3: u8 = 2;
const SOUND_FORMAT_AAC: u8 = 10;
const SOUND_FORMAT_MP3_8K: u8 = 14;

/// What a video tag holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VideoBody<'a> {
    /// AVCPacketType 0 / SequenceStart: the decoder configuration record.
    Config {
        codec: VideoCodec,
        signal: FlvVideoSignal,
        record: &'a [u8],
    },
    Frame {
        codec: VideoCodec,
        keyframe: bool,
        /// CompositionTime, signed 24-bit (E.4.3.1 `SI24`).
        cts_ms: i32,
        data: &'a [u8],
    },
    /// AVCPacketType 2 / SequenceEnd: not a packet.
    EndOfSequence,
    /// Carries no media by design (command frames, Enhanced RTMP metadata).
    NotMedia,
    /// A codec or packet type kls-rec does not carry; the text names it.
    Unsupported(String),
}

/// What an audio tag holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AudioBody<'a> {
    /// AACPacketType 0: AudioSpecificConfig.
    AacConfig {
        sound_byte: u8,
        asc: &'a [u8],
    },
    /// AACPacketType 1: one raw AAC access unit.
    AacFrame {
        data: &'a [u8],
    },
    /// One MP3 frame after the sound byte.
    Mp3Frame {
        sound_byte: u8,
        data: &'a [u8],
    },
    Unsupported(String),
}

/// How a video tag's header is laid out: Enhanced RTMP when its first byte sets `IsExHeader`.
pub fn video_signal(first_byte: u8) -> FlvVideoSignal {
    if first_byte & 0x80 != 0 {
        FlvVideoSignal::Enhanced
    } else {
        FlvVideoSignal::CodecId
    }
}

/// Signed 24-bit big-endian.
fn si24(b: &[u8]) -> i32 {
    (i32::from_be_bytes([b[0], b[1], b[2], 0])) >> 8
}

/// Parses a video tag body; `Err` names what is malformed.
pub fn parse_video(data: &[u8]) -> Result<VideoBody<'_>, String> {
    let Some(&first) = data.first() else {
        return Err("empty video tag".into());
    };
    match video_signal(first) {
        FlvVideoSignal::Enhanced => return parse_enhanced_video(data),
        FlvVideoSignal::CodecId => {}
    }
    let frame_type = first >> 4;
    let codec_id = first & 0x0F;
    if frame_type == FRAME_COMMAND {
        return Ok(VideoBody::NotMedia);
    }
    let codec = match codec_id {
        CODEC_ID_AVC => VideoCodec::H264,
        CODEC_ID_HEVC => VideoCodec::Hevc,
        other => {
            return Ok(VideoBody::Unsupported(format!(
                "video CodecID {other} (only 7 = H.264 and 12 = HEVC are supported)"
            )));
        }
    };
    // AVCPacketType (UI8) and CompositionTime (SI24) follow the first byte.
    let Some(h) = data.get(1..5) else {
        return Err(format!(
            "video tag of {} bytes lacks its AVCVIDEOPACKET header",
            data.len()
        ));
    };
    let payload = &data[5..];
    match h[0] {
        0 => Ok(VideoBody::Config {
            codec,
            signal: FlvVideoSignal::CodecId,
            record: payload,
        }),
        1 => Ok(VideoBody::Frame {
            codec,
            keyframe: frame_type == FRAME_KEY,
            cts_ms: si24(&h[1..4]),
            data: payload,
        }),
        2 => Ok(VideoBody::EndOfSequence),
        other => Err(format!("unknown AVCPacketType {other}")),
    }
}

/// Enhanced RTMP: IsExHeader (1 bit), FrameType (3), PacketType (4), then a FourCC.
fn parse_enhanced_video(data: &[u8]) -> Result<VideoBody<'_>, String> {
    let frame_type = (data[0] >> 4) & 0x07;
    let packet_type = data[0] & 0x0F;
    if frame_type == FRAME_COMMAND {
        return Ok(VideoBody::NotMedia);
    }
    match packet_type {
        ex::METADATA => return Ok(VideoBody::NotMedia),
        ex::MULTITRACK => {
            return Ok(VideoBody::Unsupported(
                "Enhanced RTMP multitrack video".into(),
            ));
        }
        ex::MOD_EX => return Ok(VideoBody::Unsupported("Enhanced RTMP ModEx video".into())),
        ex::MPEG2TS_SEQUENCE_START => {
            return Ok(VideoBody::Unsupported(
                "Enhanced RTMP MPEG2TSSequenceStart".into(),
            ));
        }
        _ => {}
    }
    let Some(fourcc) = data.get(1..5) else {
        return Err(format!(
            "Enhanced RTMP video tag of {} bytes lacks its FourCC",
            data.len()
        ));
    };
    let codec = match fourcc {
        b"avc1" => VideoCodec::H264,
        b"hvc1" => VideoCodec::Hevc,
        other => {
            return Ok(VideoBody::Unsupported(format!(
                "Enhanced RTMP video FourCC {:?} (only avc1 and hvc1 are supported)",
                String::from_utf8_lossy(other)
            )));
        }
    };
    let rest = &data[5..];
    match packet_type {
        ex::SEQUENCE_START => Ok(VideoBody::Config {
            codec,
            signal: FlvVideoSignal::Enhanced,
            record: rest,
        }),
        ex::CODED_FRAMES => {
            let Some(ct) = rest.get(..3) else {
                return Err("Enhanced RTMP CodedFrames lacks its CompositionTime".into());
            };
            Ok(VideoBody::Frame {
                codec,
                keyframe: frame_type == FRAME_KEY,
                cts_ms: si24(ct),
                data: &rest[3..],
            })
        }
        ex::CODED_FRAMES_X => Ok(VideoBody::Frame {
            codec,
            keyframe: frame_type == FRAME_KEY,
            cts_ms: 0,
            data: rest,
        }),
        ex::SEQUENCE_END => Ok(VideoBody::EndOfSequence),
        other => Err(format!("unknown Enhanced RTMP VideoPacketType {other}")),
    }
}

/// Parses an audio tag body; `Err` names what is malformed.
pub fn parse_audio(data: &[u8]) -> Result<AudioBody<'_>, String> {
    let Some(&sound_byte) = data.first() else {
        return Err("empty audio tag".into());
    };
    let format = sound_byte >> 4;
    match format {
        SOUND_FORMAT_AAC => {
            let Some(&packet_type) = data.get(1) else {
                return Err("AAC audio tag lacks its AACPacketType".into());
            };
            match packet_type {
                0 => Ok(AudioBody::AacConfig {
                    sound_byte,
                    asc: &data[2..],
                }),
                1 => Ok(AudioBody::AacFrame { data: &data[2..] }),
                other => Err(format!("unknown AACPacketType {other}")),
            }
        }
        SOUND_FORMAT_MP3 | SOUND_FORMAT_MP3_8K => Ok(AudioBody::Mp3Frame {
            sound_byte,
            data: &data[1..],
        }),
        other => Ok(AudioBody::Unsupported(format!(
            "audio SoundFormat {other} ({}; only AAC and MP3 are supported)",
            SOUND_FORMATS[usize::from(other)]
        ))),
    }
}

/// Sample rate and channels the AUDIODATA sound byte claims (E.4.2.1 SoundRate, SoundType);
/// only a fallback, the codec's own header is authoritative.
pub fn sound_byte_rate_channels(sound_byte: u8) -> (u32, u8) {
    const RATES: [u32; 4] = [5_512, 11_025, 22_050, 44_100];
    let rate = if sound_byte >> 4 == SOUND_FORMAT_MP3_8K {
        8_000
    } else {
        RATES[usize::from((sound_byte >> 2) & 0x03)]
    };
    (rate, if sound_byte & 0x01 != 0 { 2 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_avc_and_hevc() {
        let seq = [0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f];
        assert_eq!(
            parse_video(&seq).unwrap(),
            VideoBody::Config {
                codec: VideoCodec::H264,
                signal: FlvVideoSignal::CodecId,
                record: &[1, 0x64, 0, 0x1f],
            }
        );
        // Inter frame, HEVC via CodecID 12, CompositionTime −40 (0xFFFFD8).
        let frame = [0x2C, 1, 0xFF, 0xFF, 0xD8, 0, 0, 0, 1, 0x02];
        assert_eq!(
            parse_video(&frame).unwrap(),
            VideoBody::Frame {
                codec: VideoCodec::Hevc,
                keyframe: false,
                cts_ms: -40,
                data: &[0, 0, 0, 1, 0x02],
            }
        );
        assert_eq!(
            parse_video(&[0x17, 2, 0, 0, 0]).unwrap(),
            VideoBody::EndOfSequence
        );
        assert_eq!(parse_video(&[0x57, 0]).unwrap(), VideoBody::NotMedia);
        assert!(matches!(
            parse_video(&[0x12, 0]).unwrap(),
            VideoBody::Unsupported(_)
        ));
        assert!(parse_video(&[0x17, 1, 0]).is_err());
        assert!(parse_video(&[0x17, 9, 0, 0, 0]).is_err());
        assert!(parse_video(&[]).is_err());
    }

    #[test]
    fn enhanced_rtmp_video() {
        // IsExHeader | keyframe (1 << 4) | SequenceStart, FourCC hvc1.
        let seq = [0x90, b'h', b'v', b'c', b'1', 1, 2, 3];
        assert_eq!(
            parse_video(&seq).unwrap(),
            VideoBody::Config {
                codec: VideoCodec::Hevc,
                signal: FlvVideoSignal::Enhanced,
                record: &[1, 2, 3],
            }
        );
        let coded = [0x91, b'h', b'v', b'c', b'1', 0, 0, 80, 9, 9];
        assert_eq!(
            parse_video(&coded).unwrap(),
            VideoBody::Frame {
                codec: VideoCodec::Hevc,
                keyframe: true,
                cts_ms: 80,
                data: &[9, 9],
            }
        );
        let coded_x = [0xA3, b'a', b'v', b'c', b'1', 7];
        assert_eq!(
            parse_video(&coded_x).unwrap(),
            VideoBody::Frame {
                codec: VideoCodec::H264,
                keyframe: false,
                cts_ms: 0,
                data: &[7],
            }
        );
        assert_eq!(
            parse_video(&[0x92, b'h', b'v', b'c', b'1']).unwrap(),
            VideoBody::EndOfSequence
        );
        assert_eq!(
            parse_video(&[0x94, b'h', b'v']).unwrap(),
            VideoBody::NotMedia
        );
        let VideoBody::Unsupported(why) = parse_video(&[0x91, b'a', b'v', b'0', b'1']).unwrap()
        else {
            panic!("av01 accepted");
        };
        assert!(why.contains("av01"), "{why}");
        assert!(parse_video(&[0x91, b'h', b'v']).is_err());
        assert!(parse_video(&[0x91, b'h', b'v', b'c', b'1', 0]).is_err());
    }

    #[test]
    fn audio_bodies() {
        assert_eq!(
            parse_audio(&[0xAF, 0, 0x12, 0x10]).unwrap(),
            AudioBody::AacConfig {
                sound_byte: 0xAF,
                asc: &[0x12, 0x10],
            }
        );
        assert_eq!(
            parse_audio(&[0xAF, 1, 0x21]).unwrap(),
            AudioBody::AacFrame { data: &[0x21] }
        );
        assert_eq!(
            parse_audio(&[0x2F, 0xFF, 0xFB]).unwrap(),
            AudioBody::Mp3Frame {
                sound_byte: 0x2F,
                data: &[0xFF, 0xFB],
            }
        );
        let AudioBody::Unsupported(why) = parse_audio(&[0xB6, 0]).unwrap() else {
            panic!("Speex accepted");
        };
        assert!(why.contains("Speex"), "{why}");
        assert!(parse_audio(&[0xAF]).is_err());
        assert!(parse_audio(&[0xAF, 7]).is_err());
        assert!(parse_audio(&[]).is_err());
        assert_eq!(sound_byte_rate_channels(0x2F), (44_100, 2));
        assert_eq!(sound_byte_rate_channels(0xE2), (8_000, 1));
    }
}

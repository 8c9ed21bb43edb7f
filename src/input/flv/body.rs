//! FLV audio and video tag bodies: the codec headers in front of the payload (Adobe "Video File
//! Format Specification" 10.1, E.4.2.1 AUDIODATA / AACAUDIODATA, E.4.3.1 VIDEODATA /
//! AVCVIDEOPACKET), HEVC under the legacy `CodecID` 12 used by Chinese CDNs, and the Enhanced RTMP
//! extended video header (Veovera "Enhanced RTMP" v1, `ExVideoTagHeader`).
//!
//! Parsing borrows from the tag: the payload handed on is exactly the bytes after the codec
//! header, so packet sizes equal ffmpeg's and nothing is copied twice. The codecs only FLV
//! carries (Sorenson H.263, Screen video, VP6, Nellymoser, Speex, ADPCM, PCM, G.711) are the
//! exception: their packet is the whole tag body, codec header byte(s) included, so the FLV
//! writer writes every tag back as it came (FrameType 3, disposable, included).

use crate::codec::ids::{self, SOUND_FORMAT_EX_HEADER, SOUND_FORMAT_MP3_8K};
use crate::container::flv::{
    AAC_RAW, AAC_SEQUENCE_HEADER, AVC_END_OF_SEQUENCE, AVC_NALU, AVC_SEQUENCE_HEADER,
    EX_AUDIO_MULTICHANNEL_CONFIG, EX_AUDIO_MULTITRACK, EX_CODED_FRAMES, EX_CODED_FRAMES_X,
    EX_HEADER, EX_METADATA, EX_MOD_EX, EX_MPEG2TS_SEQUENCE_START, EX_SEQUENCE_END,
    EX_SEQUENCE_START, EX_VIDEO_MULTITRACK, FRAME_COMMAND, FRAME_KEY, MOD_EX_TIMESTAMP_OFFSET_NANO,
    MULTITRACK_MANY_TRACKS_MANY_CODECS, MULTITRACK_ONE_TRACK,
};
use crate::media::{AudioCodec, FlvAudio, FlvVideo, FlvVideoSignal, VideoCodec};

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

/// What a video tag holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum VideoBody<'a> {
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
    /// A frame of a codec only FLV carries: the whole tag body (FrameType/CodecID byte first).
    FlvOnly {
        codec: FlvVideo,
        keyframe: bool,
        tag: &'a [u8],
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
pub(crate) enum AudioBody<'a> {
    /// AACPacketType 0: AudioSpecificConfig.
    AacConfig {
        sound_byte: u8,
        asc: &'a [u8],
    },
    /// One MP3 frame after the sound byte.
    Mp3Frame {
        sound_byte: u8,
        data: &'a [u8],
    },
    /// Enhanced RTMP v2 SequenceStart: the codec's configuration as the FourCC's mapping defines
    /// it (AudioSpecificConfig, OpusHead, FLAC STREAMINFO; empty for AC-3 and E-AC-3).
    ExConfig {
        codec: AudioCodec,
        config: &'a [u8],
    },
    /// One access unit of a codec its sequence header configures: AACPacketType 1 (one raw
    /// AAC access unit), or Enhanced RTMP v2 CodedFrames.
    Frame {
        codec: AudioCodec,
        data: &'a [u8],
    },
    /// A frame of a codec only FLV carries: the whole tag body (the sound byte first).
    FlvOnly {
        codec: FlvAudio,
        sound_byte: u8,
        tag: &'a [u8],
    },
    /// Carries no packet (SequenceEnd, MultichannelConfig, empty multitrack tags, a tag of
    /// only a sound byte).
    NotMedia,
    Unsupported(String),
}

/// A media tag: the body of each track it carries, in tag order, with the Enhanced RTMP track id
/// of an E-RTMP v2 multitrack tag (`None` for a plain tag, which is track 0's), and the ModEx
/// TimestampOffsetNano the tag carried (0 without one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MediaTag<B> {
    pub(crate) tracks: Vec<(Option<u8>, B)>,
    pub(crate) offset_ns: u32,
}

/// An audio tag's tracks.
pub(crate) type AudioTag<'a> = MediaTag<AudioBody<'a>>;
/// A video tag's tracks.
pub(crate) type VideoTag<'a> = MediaTag<VideoBody<'a>>;

impl<B> MediaTag<B> {
    fn plain(body: B, offset_ns: u32) -> MediaTag<B> {
        MediaTag {
            tracks: vec![(None, body)],
            offset_ns,
        }
    }
}

/// How a video tag's header is laid out: Enhanced RTMP when its first byte sets `IsExHeader`.
pub(crate) fn video_signal(first_byte: u8) -> FlvVideoSignal {
    if first_byte & EX_HEADER != 0 {
        FlvVideoSignal::Enhanced
    } else {
        FlvVideoSignal::CodecId
    }
}

/// Signed 24-bit big-endian.
fn si24(b: &[u8]) -> i32 {
    (i32::from_be_bytes([b[0], b[1], b[2], 0])) >> 8
}

/// Takes `n` bytes at `*pos`, or says which field the tag lacks.
fn take<'a>(data: &'a [u8], pos: &mut usize, n: usize, what: &str) -> Result<&'a [u8], String> {
    let Some(b) = data.get(*pos..*pos + n) else {
        return Err(format!("tag of {} bytes lacks its {what}", data.len()));
    };
    *pos += n;
    Ok(b)
}

/// Reads Enhanced RTMP `ModEx` entries (v2: UI8 size − 1, 256 meaning a UI16 size − 1 follows,
/// the data, then ModExType and the next packet type in one byte) and returns the packet type
/// after them with the TimestampOffsetNano (UI24 nanoseconds, the one ModEx type defined) they
/// carried, 0 if none; entries of other types are read past.
fn mod_ex(data: &[u8], pos: &mut usize) -> Result<(u8, u32), String> {
    let mut offset_ns = 0;
    loop {
        let mut size = usize::from(take(data, pos, 1, "ModEx size")?[0]) + 1;
        if size == 256 {
            let b = take(data, pos, 2, "ModEx size")?;
            size = usize::from(u16::from_be_bytes([b[0], b[1]])) + 1;
        }
        let value = take(data, pos, size, "ModEx data")?;
        let byte = take(data, pos, 1, "ModEx type")?[0];
        if let (MOD_EX_TIMESTAMP_OFFSET_NANO, [a, b, c]) = (byte >> 4, value) {
            offset_ns = u32::from_be_bytes([0, *a, *b, *c]);
        }
        if byte & 0x0F != EX_MOD_EX {
            return Ok((byte & 0x0F, offset_ns));
        }
    }
}

/// The first byte's packet type, after any ModEx entries (see [`mod_ex`]), with their
/// TimestampOffsetNano and the position after them.
fn ex_packet_type(data: &[u8]) -> Result<(u8, u32, usize), String> {
    let mut pos = 1;
    let packet_type = data[0] & 0x0F;
    if packet_type != EX_MOD_EX {
        return Ok((packet_type, 0, pos));
    }
    let (packet_type, offset_ns) = mod_ex(data, &mut pos)?;
    Ok((packet_type, offset_ns, pos))
}

/// A video tag: one plain track (legacy, or Enhanced RTMP with a FourCC), or the tracks of a
/// multitrack tag.
/// Parses a video tag body; `Err` names what is malformed.
pub(crate) fn parse_video_tag(data: &[u8]) -> Result<VideoTag<'_>, String> {
    let Some(&first) = data.first() else {
        return Err("empty video tag".into());
    };
    match video_signal(first) {
        FlvVideoSignal::Enhanced => parse_enhanced_video(data),
        FlvVideoSignal::CodecId => Ok(MediaTag::plain(parse_legacy_video(data, first)?, 0)),
    }
}

/// The body of a plain video tag.
#[cfg(test)]
pub(crate) fn parse_video(data: &[u8]) -> Result<VideoBody<'_>, String> {
    let mut tag = parse_video_tag(data)?;
    assert_eq!(tag.tracks.len(), 1);
    Ok(tag.tracks.remove(0).1)
}

/// Legacy VIDEODATA: FrameType and CodecID, then AVCPacketType and CompositionTime.
fn parse_legacy_video(data: &[u8], first: u8) -> Result<VideoBody<'_>, String> {
    let frame_type = first >> 4;
    let codec_id = first & 0x0F;
    if frame_type == FRAME_COMMAND {
        return Ok(VideoBody::NotMedia);
    }
    let Some(codec) = ids::video_by_flv_codec_id(codec_id) else {
        return Ok(VideoBody::Unsupported(format!(
            "video CodecID {codec_id} (only 2 to 7, 12 = HEVC and 13 = AV1 are supported)"
        )));
    };
    match codec {
        // ffmpeg skips a tag with nothing after its codec header; so does kls-rec.
        VideoCodec::FlvOnly(legacy) if data.len() <= flv_only_video_header_len(legacy) => {
            return Ok(VideoBody::NotMedia);
        }
        VideoCodec::FlvOnly(legacy) => {
            return Ok(VideoBody::FlvOnly {
                codec: legacy,
                keyframe: frame_type == FRAME_KEY,
                tag: data,
            });
        }
        VideoCodec::H264 | VideoCodec::Hevc | VideoCodec::Av1 | VideoCodec::Vp9 => {}
    }
    // AVCPacketType (UI8) and CompositionTime (SI24) follow the first byte.
    let Some(h) = data.get(1..5) else {
        return Err(format!(
            "video tag of {} bytes lacks its AVCVIDEOPACKET header",
            data.len()
        ));
    };
    let payload = &data[5..];
    match h[0] {
        AVC_SEQUENCE_HEADER => Ok(VideoBody::Config {
            codec,
            signal: FlvVideoSignal::CodecId,
            record: payload,
        }),
        AVC_NALU => Ok(VideoBody::Frame {
            codec,
            keyframe: frame_type == FRAME_KEY,
            cts_ms: si24(&h[1..4]),
            data: payload,
        }),
        AVC_END_OF_SEQUENCE => Ok(VideoBody::EndOfSequence),
        other => Err(format!("unknown AVCPacketType {other}")),
    }
}

/// Bytes of a legacy-codec video tag before what ffmpeg takes as the packet: the FrameType /
/// CodecID byte, and for VP6 the size-adjustment byte (E.4.3.1 VP6FLVVIDEOPACKET
/// HorizontalAdjustment / VerticalAdjustment).
pub(crate) fn flv_only_video_header_len(codec: FlvVideo) -> usize {
    match codec {
        FlvVideo::Vp6 | FlvVideo::Vp6Alpha => 2,
        FlvVideo::SorensonH263 | FlvVideo::ScreenVideo | FlvVideo::ScreenVideo2 => 1,
    }
}

/// Enhanced RTMP: IsExHeader (1 bit), FrameType (3), PacketType (4), any ModEx, then a FourCC
/// and the body, or a multitrack layout.
fn parse_enhanced_video(data: &[u8]) -> Result<VideoTag<'_>, String> {
    let frame_type = (data[0] >> 4) & 0x07;
    let (packet_type, offset_ns, mut pos) = ex_packet_type(data)?;
    if frame_type == FRAME_COMMAND || packet_type == EX_METADATA {
        return Ok(MediaTag::plain(VideoBody::NotMedia, offset_ns));
    }
    let body = match packet_type {
        EX_VIDEO_MULTITRACK => {
            let (packet_type, tracks) = multitrack(data, pos)?;
            let tracks = tracks
                .into_iter()
                .map(|t| {
                    let body = enhanced_video_body(frame_type, packet_type, t.fourcc, t.body)?;
                    Ok((Some(t.id), body))
                })
                .collect::<Result<_, String>>()?;
            return Ok(MediaTag { tracks, offset_ns });
        }
        EX_MPEG2TS_SEQUENCE_START => {
            VideoBody::Unsupported("Enhanced RTMP MPEG2TSSequenceStart".into())
        }
        _ => {
            let fourcc = take(data, &mut pos, 4, "FourCC")?;
            enhanced_video_body(frame_type, packet_type, fourcc, &data[pos..])?
        }
    };
    Ok(MediaTag::plain(body, offset_ns))
}

/// One video track's body under a `VideoPacketType`, after its FourCC.
fn enhanced_video_body<'a>(
    frame_type: u8,
    packet_type: u8,
    fourcc: &[u8],
    data: &'a [u8],
) -> Result<VideoBody<'a>, String> {
    let mut pos = 0;
    let Some(codec) = ids::video_by_fourcc(fourcc) else {
        return Ok(VideoBody::Unsupported(format!(
            "Enhanced RTMP video FourCC {:?} (only avc1, hvc1, av01 and vp09 are supported)",
            String::from_utf8_lossy(fourcc)
        )));
    };
    let keyframe = frame_type == FRAME_KEY;
    match packet_type {
        EX_SEQUENCE_START => Ok(VideoBody::Config {
            codec,
            signal: FlvVideoSignal::Enhanced,
            record: &data[pos..],
        }),
        EX_CODED_FRAMES => {
            let cts_ms = if codec.ids().ex_composition_time {
                si24(take(data, &mut pos, 3, "CompositionTime")?)
            } else {
                0
            };
            Ok(VideoBody::Frame {
                codec,
                keyframe,
                cts_ms,
                data: &data[pos..],
            })
        }
        EX_CODED_FRAMES_X => Ok(VideoBody::Frame {
            codec,
            keyframe,
            cts_ms: 0,
            data: &data[pos..],
        }),
        EX_SEQUENCE_END => Ok(VideoBody::EndOfSequence),
        other => Err(format!("unknown Enhanced RTMP VideoPacketType {other}")),
    }
}

/// Parses an audio tag body; `Err` names what is malformed.
pub(crate) fn parse_audio(data: &[u8]) -> Result<AudioTag<'_>, String> {
    let Some(&sound_byte) = data.first() else {
        return Err("empty audio tag".into());
    };
    let format = sound_byte >> 4;
    if format == SOUND_FORMAT_EX_HEADER {
        return parse_enhanced_audio(data);
    }
    let body = match ids::audio_by_flv_sound_byte(sound_byte) {
        Some(codec @ AudioCodec::Aac) => {
            let Some(&packet_type) = data.get(1) else {
                return Err("AAC audio tag lacks its AACPacketType".into());
            };
            let rest = &data[2..];
            match packet_type {
                AAC_SEQUENCE_HEADER => AudioBody::AacConfig {
                    sound_byte,
                    asc: rest,
                },
                AAC_RAW => AudioBody::Frame { codec, data: rest },
                other => return Err(format!("unknown AACPacketType {other}")),
            }
        }
        Some(AudioCodec::Mp3) => AudioBody::Mp3Frame {
            sound_byte,
            data: &data[1..],
        },
        // ffmpeg skips a tag of only a sound byte.
        Some(AudioCodec::FlvOnly(_)) if data.len() == 1 => AudioBody::NotMedia,
        Some(AudioCodec::FlvOnly(codec)) => AudioBody::FlvOnly {
            codec,
            sound_byte,
            tag: data,
        },
        Some(AudioCodec::Opus | AudioCodec::Flac | AudioCodec::Ac3 | AudioCodec::Eac3) | None => {
            AudioBody::Unsupported(format!(
                "audio SoundFormat {format} ({}; SoundFormats 0 to 8, 10, 11 and 14 and \
                 Enhanced RTMP audio are supported)",
                SOUND_FORMATS[usize::from(format)]
            ))
        }
    };
    Ok(MediaTag::plain(body, 0))
}

/// Enhanced RTMP v2 `ExAudioTagHeader`: SoundFormat 9 and AudioPacketType, any ModEx, then
/// either a FourCC and the body, or a multitrack layout.
fn parse_enhanced_audio(data: &[u8]) -> Result<AudioTag<'_>, String> {
    let (packet_type, offset_ns, mut pos) = ex_packet_type(data)?;
    if packet_type == EX_AUDIO_MULTITRACK {
        let (packet_type, tracks) = multitrack(data, pos)?;
        let tracks = tracks
            .into_iter()
            .map(|t| {
                let body = enhanced_audio_body(packet_type, t.fourcc, t.body)?;
                Ok((Some(t.id), body))
            })
            .collect::<Result<_, String>>()?;
        return Ok(MediaTag { tracks, offset_ns });
    }
    let fourcc = take(data, &mut pos, 4, "FourCC")?;
    let body = enhanced_audio_body(packet_type, fourcc, &data[pos..])?;
    Ok(MediaTag::plain(body, offset_ns))
}

/// One track of an Enhanced RTMP multitrack tag.
struct Track<'a> {
    fourcc: &'a [u8],
    id: u8,
    body: &'a [u8],
}

/// The tracks of a multitrack tag (E-RTMP v2 "Multitrack", the same layout for audio and
/// video): the AvMultitrackType and the packet type shared by every track, a FourCC shared
/// unless each track names its own, then per track its id and, unless there is one track, a
/// UI24 size. Returns the packet type and the tracks in tag order.
fn multitrack(data: &[u8], mut pos: usize) -> Result<(u8, Vec<Track<'_>>), String> {
    let byte = take(data, &mut pos, 1, "AvMultitrackType")?[0];
    let (layout, packet_type) = (byte >> 4, byte & 0x0F);
    let shared = match layout {
        MULTITRACK_MANY_TRACKS_MANY_CODECS => None,
        _ => Some(take(data, &mut pos, 4, "FourCC")?),
    };
    let mut tracks = Vec::new();
    while pos < data.len() {
        let fourcc = match shared {
            Some(f) => f,
            None => take(data, &mut pos, 4, "track FourCC")?,
        };
        let track_id = take(data, &mut pos, 1, "track id")?[0];
        let size = match layout {
            MULTITRACK_ONE_TRACK => data.len() - pos,
            _ => {
                let b = take(data, &mut pos, 3, "track size")?;
                usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2])
            }
        };
        let body = take(data, &mut pos, size, "track data")?;
        tracks.push(Track {
            fourcc,
            id: track_id,
            body,
        });
    }
    Ok((packet_type, tracks))
}

/// One track's body under an `AudioPacketType`.
fn enhanced_audio_body<'a>(
    packet_type: u8,
    fourcc: &[u8],
    body: &'a [u8],
) -> Result<AudioBody<'a>, String> {
    let Some(codec) = ids::audio_by_fourcc(fourcc) else {
        return Ok(AudioBody::Unsupported(format!(
            "Enhanced RTMP audio FourCC {:?}",
            String::from_utf8_lossy(fourcc)
        )));
    };
    match packet_type {
        EX_SEQUENCE_START => Ok(AudioBody::ExConfig {
            codec,
            config: body,
        }),
        EX_CODED_FRAMES => Ok(AudioBody::Frame { codec, data: body }),
        EX_SEQUENCE_END | EX_AUDIO_MULTICHANNEL_CONFIG => Ok(AudioBody::NotMedia),
        other => Err(format!("unknown Enhanced RTMP AudioPacketType {other}")),
    }
}

/// Sample rate and channels of a codec only FLV carries, as ffmpeg reads them: the sound byte's
/// SoundRate and SoundType, except where the codec fixes the rate (Nellymoser 8 and 16 kHz,
/// Speex 16 kHz, G.711 8 kHz).
pub(crate) fn flv_only_rate_channels(codec: FlvAudio, sound_byte: u8) -> (u32, u8) {
    let (rate, channels) = sound_byte_rate_channels(sound_byte);
    let fixed = match codec {
        FlvAudio::Nellymoser8k | FlvAudio::Alaw | FlvAudio::Mulaw => Some(8_000),
        FlvAudio::Nellymoser16k | FlvAudio::Speex => Some(16_000),
        FlvAudio::PcmPlatformU8
        | FlvAudio::PcmPlatformS16
        | FlvAudio::Adpcm
        | FlvAudio::PcmU8
        | FlvAudio::PcmS16
        | FlvAudio::Nellymoser => None,
    };
    (fixed.unwrap_or(rate), channels)
}

/// Sample rate and channels the AUDIODATA sound byte claims (E.4.2.1 SoundRate, SoundType);
/// only a fallback, the codec's own header is authoritative.
pub(crate) fn sound_byte_rate_channels(sound_byte: u8) -> (u32, u8) {
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
            parse_video(&[0x18, 0]).unwrap(),
            VideoBody::Unsupported(_)
        ));
        // Sorenson H.263, a disposable inter frame: the whole tag; VP6 needs its adjustment
        // byte and a payload.
        assert_eq!(
            parse_video(&[0x32, 0, 0, 0x84]).unwrap(),
            VideoBody::FlvOnly {
                codec: FlvVideo::SorensonH263,
                keyframe: false,
                tag: &[0x32, 0, 0, 0x84],
            }
        );
        assert_eq!(parse_video(&[0x14, 0]).unwrap(), VideoBody::NotMedia);
        assert!(matches!(
            parse_video(&[0x14, 0, 0x46]).unwrap(),
            VideoBody::FlvOnly { keyframe: true, .. }
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
        let VideoBody::Unsupported(why) = parse_video(&[0x91, b'v', b'p', b'0', b'8']).unwrap()
        else {
            panic!("vp08 accepted");
        };
        assert!(why.contains("vp08"), "{why}");
        // AV1 by FourCC and by the legacy CodecID 13; VP9 by FourCC.
        let av1 = [0x90, b'a', b'v', b'0', b'1', 0x81];
        assert!(matches!(
            parse_video(&av1).unwrap(),
            VideoBody::Config {
                codec: VideoCodec::Av1,
                record: &[0x81],
                ..
            }
        ));
        assert!(matches!(
            parse_video(&[0x1D, 1, 0, 0, 0, 5]).unwrap(),
            VideoBody::Frame {
                codec: VideoCodec::Av1,
                keyframe: true,
                ..
            }
        ));
        assert!(matches!(
            parse_video(&[0xA3, b'v', b'p', b'0', b'9', 5]).unwrap(),
            VideoBody::Frame {
                codec: VideoCodec::Vp9,
                keyframe: false,
                ..
            }
        ));
        // ModEx (one byte of data, type 0 TimestampOffsetNano) before CodedFrames.
        let mod_ex = [0x97, 0, 0x11, 0x01, b'a', b'v', b'c', b'1', 0, 0, 0, 4];
        assert!(matches!(
            parse_video(&mod_ex).unwrap(),
            VideoBody::Frame {
                codec: VideoCodec::H264,
                data: &[4],
                ..
            }
        ));
        assert!(parse_video(&[0x97, 5, 0]).is_err());
        assert!(parse_video(&[0x91, b'h', b'v']).is_err());
        assert!(parse_video(&[0x91, b'h', b'v', b'c', b'1', 0]).is_err());
    }

    fn body(data: &[u8]) -> AudioBody<'_> {
        let mut tag = parse_audio(data).unwrap();
        assert_eq!(tag.tracks.len(), 1);
        let (id, body) = tag.tracks.remove(0);
        assert_eq!(id, None);
        body
    }

    #[test]
    fn audio_bodies() {
        assert_eq!(
            body(&[0xAF, 0, 0x12, 0x10]),
            AudioBody::AacConfig {
                sound_byte: 0xAF,
                asc: &[0x12, 0x10],
            }
        );
        assert_eq!(
            body(&[0xAF, 1, 0x21]),
            AudioBody::Frame {
                codec: AudioCodec::Aac,
                data: &[0x21]
            }
        );
        assert_eq!(
            body(&[0x2F, 0xFF, 0xFB]),
            AudioBody::Mp3Frame {
                sound_byte: 0x2F,
                data: &[0xFF, 0xFB],
            }
        );
        let AudioBody::Unsupported(why) = body(&[0xC6, 0]) else {
            panic!("reserved SoundFormat 12 accepted");
        };
        assert!(why.contains("reserved 12"), "{why}");
        // Speex and Nellymoser: the whole tag is the packet; a lone sound byte is none.
        assert_eq!(
            body(&[0xB6, 1, 2]),
            AudioBody::FlvOnly {
                codec: FlvAudio::Speex,
                sound_byte: 0xB6,
                tag: &[0xB6, 1, 2],
            }
        );
        assert_eq!(body(&[0x52]), AudioBody::NotMedia);
        assert_eq!(
            flv_only_rate_channels(FlvAudio::Nellymoser8k, 0x5E),
            (8_000, 1)
        );
        assert_eq!(
            flv_only_rate_channels(FlvAudio::Nellymoser, 0x6A),
            (22_050, 1)
        );
        assert!(parse_audio(&[0xAF]).is_err());
        assert!(parse_audio(&[0xAF, 7]).is_err());
        assert!(parse_audio(&[]).is_err());
        assert_eq!(sound_byte_rate_channels(0x2F), (44_100, 2));
        assert_eq!(sound_byte_rate_channels(0xE2), (8_000, 1));
    }

    #[test]
    fn enhanced_rtmp_audio() {
        assert_eq!(
            body(&[0x90, b'O', b'p', b'u', b's', 7, 8]),
            AudioBody::ExConfig {
                codec: AudioCodec::Opus,
                config: &[7, 8],
            }
        );
        assert_eq!(
            body(&[0x91, b'e', b'c', b'-', b'3', 0x0B, 0x77]),
            AudioBody::Frame {
                codec: AudioCodec::Eac3,
                data: &[0x0B, 0x77],
            }
        );
        assert_eq!(
            body(&[0x94, b'f', b'L', b'a', b'C', 0]),
            AudioBody::NotMedia
        );
        assert_eq!(body(&[0x92, b'a', b'c', b'-', b'3']), AudioBody::NotMedia);
        assert!(matches!(
            body(&[0x91, b'O', b'g', b'g', b' ']),
            AudioBody::Unsupported(_)
        ));
        // ModEx with a two-byte size (256 escape, then size − 1 = 1), then CodedFrames.
        let mod_ex = [0x97, 0xFF, 0, 1, 9, 9, 0x01, b'.', b'm', b'p', b'3', 0xFF];
        assert_eq!(
            body(&mod_ex),
            AudioBody::Frame {
                codec: AudioCodec::Mp3,
                data: &[0xFF],
            }
        );
        assert!(parse_audio(&[0x91, b'O', b'p']).is_err());
        assert!(parse_audio(&[0x9F, b'O', b'p', b'u', b's']).is_err());
    }

    #[test]
    fn enhanced_rtmp_video_multitrack() {
        // Keyframe, Multitrack; ManyTracks of CodedFrames, shared FourCC av01; track 0 (3 bytes)
        // then track 1 (2 bytes), each a body with its id.
        let tag = [
            0x96, 0x11, b'a', b'v', b'0', b'1', 0, 0, 0, 3, 1, 2, 3, 1, 0, 0, 2, 4, 5,
        ];
        let frame = |data| VideoBody::Frame {
            codec: VideoCodec::Av1,
            keyframe: true,
            cts_ms: 0,
            data,
        };
        let parsed = parse_video_tag(&tag).unwrap();
        assert_eq!(
            parsed.tracks,
            vec![(Some(0), frame(&[1, 2, 3])), (Some(1), frame(&[4, 5]))]
        );
        // OneTrack of an hvc1 SequenceStart for track 0: the record is the rest of the tag.
        let tag = [0x96, 0x00, b'h', b'v', b'c', b'1', 0, 1, 2];
        let config = VideoBody::Config {
            codec: VideoCodec::Hevc,
            signal: FlvVideoSignal::Enhanced,
            record: &[1, 2],
        };
        assert_eq!(
            parse_video_tag(&tag).unwrap().tracks,
            vec![(Some(0), config)]
        );
        // ManyTracksManyCodecs: each track names its FourCC; avc1 CodedFrames carry an SI24
        // CompositionTime.
        let tag = [0x96, 0x21, b'a', b'v', b'c', b'1', 2, 0, 0, 4, 0, 0, 40, 9];
        let frame = VideoBody::Frame {
            codec: VideoCodec::H264,
            keyframe: true,
            cts_ms: 40,
            data: &[9],
        };
        assert_eq!(
            parse_video_tag(&tag).unwrap().tracks,
            vec![(Some(2), frame)]
        );
        // A track size past the tag's end is malformed.
        assert!(parse_video_tag(&[0x96, 0x11, b'a', b'v', b'0', b'1', 0, 0, 0, 9, 1]).is_err());
    }

    /// A ModEx TimestampOffsetNano (UI24 of nanoseconds, ModExType 0) is kept with the tag,
    /// before a plain and before a multitrack packet type, audio and video alike; an entry of
    /// another type, or of another size, is read past.
    #[test]
    fn mod_ex_timestamp_offset_nano_is_kept() {
        // Inter frame, ModEx: size − 1 = 2, 999 999 ns, then TimestampOffsetNano with
        // CodedFrames; avc1, CompositionTime 0.
        let ns = 999_999u32.to_be_bytes();
        let video = [
            0xA7, 2, ns[1], ns[2], ns[3], 0x01, b'a', b'v', b'c', b'1', 0, 0, 0, 7,
        ];
        let tag = parse_video_tag(&video).unwrap();
        assert_eq!(tag.offset_ns, 999_999);
        assert!(matches!(
            tag.tracks[..],
            [(
                None,
                VideoBody::Frame {
                    keyframe: false,
                    data: &[7],
                    ..
                }
            )]
        ));
        // Before a OneTrack multitrack audio tag of track 1: 500 ns.
        let audio = [
            0x97, 2, 0, 0x01, 0xF4, 0x05, 0x01, b'm', b'p', b'4', b'a', 1, 0x21,
        ];
        let tag = parse_audio(&audio).unwrap();
        assert_eq!(tag.offset_ns, 500);
        assert!(matches!(
            tag.tracks[..],
            [(Some(1), AudioBody::Frame { .. })]
        ));
        // Two entries: one of ModExType 1 (unknown), then a TimestampOffsetNano of 7 ns.
        let two = [
            0x97, 0, 0xAA, 0x17, 2, 0, 0, 7, 0x01, b'O', b'p', b'u', b's', 1,
        ];
        assert_eq!(parse_audio(&two).unwrap().offset_ns, 7);
        // A TimestampOffsetNano of 2 bytes is not one: read past, no offset.
        let short = [0x97, 1, 0, 7, 0x01, b'O', b'p', b'u', b's', 1];
        assert_eq!(parse_audio(&short).unwrap().offset_ns, 0);
        // Plain tags carry none.
        assert_eq!(parse_audio(&[0xAF, 1, 0x21]).unwrap().offset_ns, 0);
    }

    #[test]
    fn enhanced_rtmp_audio_multitrack() {
        // OneTrack, CodedFrames, mp4a, track 1.
        let one = [0x95, 0x01, b'm', b'p', b'4', b'a', 1, 0x21];
        let tag = parse_audio(&one).unwrap();
        let frame = AudioBody::Frame {
            codec: AudioCodec::Aac,
            data: &[0x21],
        };
        assert_eq!(tag.tracks, vec![(Some(1), frame)]);
        // ManyTracks, SequenceStart, Opus: track 0 (2 bytes) and track 2 (1 byte).
        let many = [
            0x95, 0x10, b'O', b'p', b'u', b's', 0, 0, 0, 2, 5, 6, 2, 0, 0, 1, 7,
        ];
        let tag = parse_audio(&many).unwrap();
        let config = |config| AudioBody::ExConfig {
            codec: AudioCodec::Opus,
            config,
        };
        assert_eq!(
            tag.tracks,
            vec![(Some(0), config(&[5, 6])), (Some(2), config(&[7]))]
        );
        // ManyTracksManyCodecs: each track its FourCC.
        let mixed = [
            0x95, 0x21, b'f', b'L', b'a', b'C', 0, 0, 0, 1, 3, b'a', b'c', b'-', b'3', 4, 0, 0, 1,
            9,
        ];
        let tag = parse_audio(&mixed).unwrap();
        let frame = |codec, data| AudioBody::Frame { codec, data };
        assert_eq!(
            tag.tracks,
            vec![
                (Some(0), frame(AudioCodec::Flac, &[3])),
                (Some(4), frame(AudioCodec::Ac3, &[9])),
            ]
        );
        // A track size past the end of the tag.
        assert!(parse_audio(&[0x95, 0x11, b'O', b'p', b'u', b's', 0, 0, 0, 9, 1]).is_err());
    }
}

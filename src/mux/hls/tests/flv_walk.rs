//! A test-only FLV tag walker (Adobe FLV spec v10.1 §E): enough to turn the fixtures into the
//! media model, independently of the product's FLV reader.

use crate::media::{
    AudioCodec, AudioConfig, CodecConfig, FlvVideoSignal, Packet, TrackKind, VideoCodec,
    VideoConfig,
};

pub(crate) struct Flv {
    pub(crate) config: CodecConfig,
    /// Timestamps relative to the first media packet.
    pub(crate) packets: Vec<Packet>,
    /// NAL length size of the video record (test-side read of avcC byte 4).
    pub(crate) nal_length_size: u8,
}

const AAC_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

pub(crate) fn read(path: &std::path::Path) -> Flv {
    let d = std::fs::read(path).unwrap();
    assert_eq!(&d[..3], b"FLV");
    let mut p = u32::from_be_bytes(d[5..9].try_into().unwrap()) as usize + 4;
    let mut config = CodecConfig::default();
    let mut raw: Vec<(TrackKind, i64, i32, bool, Vec<u8>)> = Vec::new();
    let mut nal_length_size = 4;
    while p + 11 <= d.len() {
        let tag_type = d[p] & 0x1F;
        let size = u32::from_be_bytes([0, d[p + 1], d[p + 2], d[p + 3]]) as usize;
        let ts = i64::from(u32::from_be_bytes([d[p + 7], d[p + 4], d[p + 5], d[p + 6]]));
        let body = &d[p + 11..p + 11 + size];
        p += 11 + size + 4;
        match tag_type {
            9 if body.len() >= 5 => {
                let frame_type = body[0] >> 4;
                let codec = match body[0] & 0x0F {
                    7 => VideoCodec::H264,
                    12 => VideoCodec::Hevc,
                    c => panic!("video codec id {c}"),
                };
                let cts = (i32::from_be_bytes([body[2], body[3], body[4], 0])) >> 8;
                match body[1] {
                    0 if config.video.is_none() => {
                        nal_length_size = (body[5 + 4] & 3) + 1;
                        config.video = Some(VideoConfig {
                            flv_track: None,
                            codec,
                            record: body[5..].to_vec(),
                            width: 0,
                            height: 0,
                            flv_signal: FlvVideoSignal::CodecId,
                        });
                    }
                    1 => raw.push((
                        TrackKind::Video,
                        ts,
                        cts,
                        frame_type == 1,
                        body[5..].to_vec(),
                    )),
                    _ => {}
                }
            }
            8 if body.len() >= 2 => match body[0] >> 4 {
                10 if body[1] == 0 && config.audio.is_none() => {
                    let asc = &body[2..];
                    let index = usize::from(((asc[0] & 7) << 1) | (asc[1] >> 7));
                    config.audio = Some(AudioConfig {
                        codec: AudioCodec::Aac,
                        specific: asc.to_vec(),
                        sample_rate: AAC_RATES[index],
                        channels: (asc[1] >> 3) & 0x0F,
                        flv_sound_byte: body[0],
                        flv_track: None,
                    });
                }
                10 if body[1] == 1 => raw.push((TrackKind::Audio, ts, 0, true, body[2..].to_vec())),
                _ => {}
            },
            _ => {}
        }
    }
    let first = raw.iter().map(|r| r.1).min().unwrap_or(0);
    let packets = raw
        .into_iter()
        .map(|(track, ts, cts, keyframe, data)| Packet {
            track: crate::media::Track {
                kind: track,
                index: 0,
            },
            dts_90k: (ts - first) * 90,
            cts_90k: cts * 90,
            keyframe,
            data,
            offset_ns: 0,
        })
        .collect();
    Flv {
        config,
        packets,
        nal_length_size,
    }
}

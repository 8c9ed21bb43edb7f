//! The FLV writer against the fixtures (ffprobe cross-checks) and against the Enhanced RTMP spec
//! (field by field: ffprobe 5.1 cannot read Enhanced FLV).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::amf0;
use crate::media::{AudioConfig, VideoConfig};
use crate::mux::MuxOptions;
use crate::testutil::{ProbePacket, have_ffprobe, probe_packets, scratch, testdata};

/// One tag of an FLV file, as a test sees it.
#[derive(Clone, Debug)]
pub(super) struct RawTag {
    /// Byte offset of the tag header.
    pub pos: u64,
    pub tag_type: u8,
    pub ts_ms: u32,
    pub data: Vec<u8>,
}

/// A minimal tag walker for well-formed files (fixtures and this writer's output).
pub(super) fn walk(bytes: &[u8]) -> (u8, Vec<RawTag>) {
    assert_eq!(&bytes[..3], b"FLV");
    let flags = bytes[4];
    let mut pos = u32::from_be_bytes(bytes[5..9].try_into().unwrap()) as usize + 4;
    let mut tags = Vec::new();
    while pos + 11 <= bytes.len() {
        let h = &bytes[pos..pos + 11];
        let size = u32::from_be_bytes([0, h[1], h[2], h[3]]) as usize;
        let ts_ms = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
        let data = bytes[pos + 11..pos + 11 + size].to_vec();
        let prev = u32::from_be_bytes(bytes[pos + 11 + size..pos + 15 + size].try_into().unwrap());
        assert_eq!(prev as usize, 11 + size, "PreviousTagSize at {pos}");
        tags.push(RawTag {
            pos: pos as u64,
            tag_type: h[0],
            ts_ms,
            data,
        });
        pos += 15 + size;
    }
    assert_eq!(pos, bytes.len(), "trailing bytes");
    (flags, tags)
}

fn si24(b: &[u8]) -> i32 {
    (i32::from_be_bytes([b[0], b[1], b[2], 0])) >> 8
}

/// AAC sampling frequencies by index (ISO/IEC 14496-3 §1.6.3.4).
const AAC_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// Configuration and file-relative packets of a legacy (AVC + AAC) fixture.
fn demux(path: &Path, width: u32, height: u32) -> (CodecConfig, Vec<Packet>) {
    let (_, tags) = walk(&std::fs::read(path).unwrap());
    let mut config = CodecConfig::default();
    let mut packets = Vec::new();
    for t in tags {
        match t.tag_type {
            9 => {
                assert_eq!(t.data[0] & 0x0F, 7, "AVC fixture");
                let cts_ms = si24(&t.data[2..5]);
                match t.data[1] {
                    0 => {
                        config.video = Some(VideoConfig {
                            codec: VideoCodec::H264,
                            record: t.data[5..].to_vec(),
                            width,
                            height,
                            flv_signal: FlvVideoSignal::CodecId,
                        })
                    }
                    1 => packets.push(Packet {
                        track: TrackKind::Video,
                        dts_90k: i64::from(t.ts_ms) * 90,
                        cts_90k: cts_ms * 90,
                        keyframe: t.data[0] >> 4 == 1,
                        data: t.data[5..].to_vec(),
                    }),
                    _ => {}
                }
            }
            8 => {
                assert_eq!(t.data[0] >> 4, 10, "AAC fixture");
                if t.data[1] == 0 {
                    let asc = t.data[2..].to_vec();
                    let freq_index = ((asc[0] & 0x07) << 1) | (asc[1] >> 7);
                    config.audio = Some(AudioConfig {
                        codec: AudioCodec::Aac,
                        sample_rate: AAC_RATES[freq_index as usize],
                        channels: (asc[1] >> 3) & 0x0F,
                        specific: asc,
                        flv_sound_byte: t.data[0],
                    });
                } else {
                    packets.push(Packet {
                        track: TrackKind::Audio,
                        dts_90k: i64::from(t.ts_ms) * 90,
                        cts_90k: 0,
                        keyframe: true,
                        data: t.data[2..].to_vec(),
                    });
                }
            }
            _ => {}
        }
    }
    let first = packets.iter().map(|p| p.dts_90k).min().unwrap_or(0);
    for p in &mut packets {
        p.dts_90k -= first;
    }
    (config, packets)
}

/// Writes `packets` through the muxer into `dir`.
pub(super) fn mux(dir: &Path, config: &CodecConfig, packets: &[Packet]) -> Produced {
    let options = MuxOptions::default();
    let open = FileOpen {
        dir,
        stream_name: "t",
        start_time_s: 1_764_072_000,
        config,
        options: &options,
    };
    let mut m: Box<dyn Muxer> = Box::new(FlvMuxer::open(&open).unwrap());
    m.begin_session(&SessionStart {
        file_dts_90k: 0,
        wall_ms: 1_764_072_000_000,
        spliced: false,
    })
    .unwrap();
    for p in packets {
        m.write(p).unwrap();
    }
    m.finish(&FileClose {
        base_name: "t-1764072000-1764072030".into(),
    })
    .unwrap()
}

/// The decoded onMetaData array of a file written by the muxer (the first tag).
pub(super) fn metadata(tags: &[RawTag]) -> amf0::Value {
    assert_eq!(tags[0].tag_type, tag::TAG_SCRIPT);
    let values = amf0::decode_all(&tags[0].data).unwrap();
    assert_eq!(values[0], amf0::Value::String("onMetaData".into()));
    values[1].clone()
}

pub(super) fn numbers(v: Option<&amf0::Value>) -> Vec<f64> {
    match v {
        Some(amf0::Value::StrictArray(items)) => {
            items.iter().map(|i| i.as_f64().unwrap()).collect()
        }
        other => panic!("expected a strict array, got {other:?}"),
    }
}

fn ffprobe_format(path: &Path) -> serde_json::Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_format",
            "-show_streams",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Per codec type, ffprobe's packets of `a` and `b` are equal but for one constant time shift.
fn assert_same_packets(a: &Path, b: &Path) {
    let (pa, pb) = (probe_packets(a), probe_packets(b));
    for kind in ["video", "audio"] {
        let sa: Vec<_> = pa.iter().filter(|p| p.codec_type == kind).collect();
        let sb: Vec<_> = pb.iter().filter(|p| p.codec_type == kind).collect();
        assert_eq!(sa.len(), sb.len(), "{kind} packet count");
        let shift = sa
            .first()
            .map(|p| p.dts_ms.unwrap() - sb[0].dts_ms.unwrap());
        for (i, (x, y)) in sa.iter().zip(&sb).enumerate() {
            assert_eq!(
                (x.size, &x.hash, x.keyframe),
                (y.size, &y.hash, y.keyframe),
                "{kind} #{i}"
            );
            let s = shift.unwrap();
            assert_eq!(x.dts_ms.map(|t| t - s), y.dts_ms, "{kind} #{i} dts");
            assert_eq!(x.pts_ms.map(|t| t - s), y.pts_ms, "{kind} #{i} pts");
        }
    }
}

/// Everything the brief asks of one fixture: packets, duration, filesize, index, clean decode,
/// determinism.
fn check_fixture(name: &str, width: u32, height: u32) -> PathBuf {
    let input = testdata(name);
    let (config, packets) = demux(&input, width, height);
    let dir = scratch(&format!("flv-writer-{}", name.replace('-', "_")));
    let produced = mux(&dir, &config, &packets);
    assert!(produced.written);
    let bytes = std::fs::read(&produced.path).unwrap();
    assert_eq!(produced.size, bytes.len() as u64);
    assert_eq!(produced.md5, <[u8; 16]>::from(md5::Md5::digest(&bytes)));

    let (flags, tags) = walk(&bytes);
    assert_eq!(
        flags,
        (u8::from(config.audio.is_some()) << 2) | u8::from(config.video.is_some())
    );
    let meta = metadata(&tags);
    assert_eq!(
        meta.get("filesize").and_then(|v| v.as_f64()),
        Some(bytes.len() as f64)
    );

    // Every index entry is the header of a keyframe tag (video) or an audio tag (audio only).
    let keyframes = meta.get("keyframes").expect("keyframes index");
    let times = numbers(keyframes.get("times"));
    let positions = numbers(keyframes.get("filepositions"));
    assert_eq!(times.len(), positions.len());
    let expected: Vec<&RawTag> = tags
        .iter()
        .filter(|t| match config.video {
            Some(_) => t.tag_type == tag::TAG_VIDEO && t.data[0] == 0x17 && t.data[1] == 1,
            None => t.tag_type == tag::TAG_AUDIO && t.data[1] == 1,
        })
        .collect();
    match config.video {
        Some(_) => assert_eq!(positions.len(), expected.len(), "one entry per keyframe"),
        // Audio only: the first tag of every second.
        None => {
            for (k, t) in times.iter().enumerate() {
                assert!(*t >= k as f64 && *t < k as f64 + 0.05, "entry {k} at {t} s");
            }
        }
    }
    for (time, pos) in times.iter().zip(&positions) {
        let t = expected
            .iter()
            .find(|t| t.pos as f64 == *pos)
            .expect("position at a tag");
        assert_eq!(f64::from(t.ts_ms) / 1000.0, *time);
    }

    if have_ffprobe() {
        assert_same_packets(&input, &produced.path);
        let f = ffprobe_format(&produced.path);
        let duration: f64 = f["format"]["duration"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            Some(duration),
            meta.get("duration").and_then(|v| v.as_f64())
        );
        // ffmpeg keeps `filesize` out of its format tags; its own size must match ours.
        assert_eq!(
            f["format"]["size"].as_str(),
            Some(bytes.len().to_string().as_str())
        );
        // Stream bit rates come from videodatarate/audiodatarate, exactly.
        for s in f["streams"].as_array().unwrap() {
            let key = format!("{}datarate", s["codec_type"].as_str().unwrap());
            let rate = meta.get(&key).and_then(|v| v.as_f64()).unwrap();
            assert_eq!(
                s["bit_rate"].as_str(),
                Some(((rate * 1024.0) as i64).to_string().as_str())
            );
        }
        // No warning (an index ffmpeg rejects would print "Invalid keyframes object").
        let warnings = Command::new("ffprobe")
            .args(["-v", "warning"])
            .arg(&produced.path)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&warnings.stderr),
            "",
            "ffprobe warnings"
        );
        let decode = Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&produced.path)
            .args(["-f", "null", "-"])
            .output()
            .unwrap();
        assert!(decode.status.success());
        assert_eq!(
            String::from_utf8_lossy(&decode.stderr),
            "",
            "ffmpeg decode errors"
        );
    }

    // Same input, same bytes; a re-run into the same place changes nothing.
    let again = mux(
        &scratch(&format!("flv-writer-{}-again", name.replace('-', "_"))),
        &config,
        &packets,
    );
    assert_eq!(std::fs::read(&again.path).unwrap(), bytes);
    let rerun = mux(&dir, &config, &packets);
    assert!(!rerun.written);
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporaries left"
    );
    produced.path
}

use md5::Digest;

#[test]
fn studio_b_frames_round_trip() {
    check_fixture("studio-1764072000.flv", 320, 240);
}

#[test]
fn radio_audio_only_round_trip() {
    check_fixture("radio-1764072000.flv", 0, 0);
}

#[test]
fn silent_video_only_round_trip() {
    check_fixture("silent-1764072000.flv", 160, 120);
}

#[test]
fn spliced_sessions_continue_one_timeline() {
    let (config, first) = demux(&testdata("push/show-1764075600.flv"), 160, 120);
    let (config2, second) = demux(&testdata("push/show-1764075670.flv"), 160, 120);
    assert_eq!(config, config2, "the pushes share one configuration");
    // The second session lands one video frame after the first one's last packet.
    let offset_90k = first.iter().map(|p| p.dts_90k).max().unwrap() + 40 * 90;
    let dir = scratch("flv-writer-splice");
    let options = MuxOptions::default();
    let open = FileOpen {
        dir: &dir,
        stream_name: "show",
        start_time_s: 1_764_075_600,
        config: &config,
        options: &options,
    };
    let mut m: Box<dyn Muxer> = Box::new(FlvMuxer::open(&open).unwrap());
    for (i, (session, shift)) in [(&first, 0), (&second, offset_90k)].into_iter().enumerate() {
        m.begin_session(&SessionStart {
            file_dts_90k: shift,
            wall_ms: 1_764_075_600_000 + i as i64 * 70_000,
            spliced: i > 0,
        })
        .unwrap();
        for p in session {
            m.write(&Packet {
                dts_90k: p.dts_90k + shift,
                ..p.clone()
            })
            .unwrap();
        }
    }
    let produced = m
        .finish(&FileClose {
            base_name: "show-1764075600-1764075680".into(),
        })
        .unwrap();
    let (_, tags) = walk(&std::fs::read(&produced.path).unwrap());
    let meta = metadata(&tags);
    let keyframes = meta.get("keyframes").unwrap();
    assert_eq!(
        numbers(keyframes.get("times")).len(),
        10,
        "5 keyframes per 10 s push"
    );

    if have_ffprobe() {
        let a = probe_packets(&testdata("push/show-1764075600.flv"));
        let b = probe_packets(&testdata("push/show-1764075670.flv"));
        let out = probe_packets(&produced.path);
        for kind in ["video", "audio"] {
            let of = |v: &Vec<ProbePacket>| -> Vec<ProbePacket> {
                v.iter().filter(|p| p.codec_type == kind).cloned().collect()
            };
            let (a, b, out) = (of(&a), of(&b), of(&out));
            assert_eq!(out.len(), a.len() + b.len(), "{kind} packets");
            let shift_ms = offset_90k / 90;
            let moved = b.iter().map(|p| ProbePacket {
                dts_ms: p.dts_ms.map(|t| t + shift_ms),
                pts_ms: p.pts_ms.map(|t| t + shift_ms),
                ..p.clone()
            });
            let expected: Vec<ProbePacket> = a.iter().cloned().chain(moved).collect();
            assert_eq!(out, expected, "{kind}: both sessions, the second shifted");
        }
        let decode = Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&produced.path)
            .args(["-f", "null", "-"])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&decode.stderr),
            "",
            "ffmpeg decode errors"
        );
    }
}

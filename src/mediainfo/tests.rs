use std::path::Path;
use std::process::Command;

use super::*;
use crate::media::{AudioConfig, FlvVideoSignal, VideoConfig, ms_to_90k};
use crate::testutil::{have_ffprobe, scratch, testdata};

/// Packets and configuration of an H.264/AAC FLV, read with a few lines of tag walking.
fn read_flv(path: &Path) -> (CodecConfig, Vec<Packet>) {
    let d = std::fs::read(path).unwrap();
    let mut off = u32::from_be_bytes(d[5..9].try_into().unwrap()) as usize + 4;
    let mut config = CodecConfig::default();
    let mut packets = Vec::new();
    while off + 11 <= d.len() {
        let kind = d[off] & 0x1f;
        let size = u32::from_be_bytes([0, d[off + 1], d[off + 2], d[off + 3]]) as usize;
        let ts = u32::from_be_bytes([d[off + 7], d[off + 4], d[off + 5], d[off + 6]]);
        let body = &d[off + 11..off + 11 + size];
        off += 11 + size + 4;
        let dts_90k = ms_to_90k(i64::from(ts));
        match kind {
            9 if body[1] == 0 && config.video.is_none() => {
                let record = body[5..].to_vec();
                let sps = h264::parse_sps(&h264::parse_avcc(&record).unwrap().sps[0]).unwrap();
                config.video = Some(VideoConfig {
                    codec: VideoCodec::H264,
                    record,
                    width: sps.width,
                    height: sps.height,
                    flv_signal: FlvVideoSignal::CodecId,
                });
            }
            9 if body[1] == 1 => {
                let cts = i32::from_be_bytes([0, body[2], body[3], body[4]]) << 8 >> 8;
                packets.push(Packet {
                    track: TrackKind::Video,
                    dts_90k,
                    cts_90k: cts * 90,
                    keyframe: body[0] >> 4 == 1,
                    data: body[5..].to_vec(),
                });
            }
            8 if body[1] == 0 && config.audio.is_none() => {
                let asc = aac::parse_asc(&body[2..]).unwrap();
                config.audio = Some(AudioConfig {
                    codec: AudioCodec::Aac,
                    specific: body[2..].to_vec(),
                    sample_rate: asc.sample_rate,
                    channels: asc.channels,
                    flv_sound_byte: body[0],
                });
            }
            8 if body[1] == 1 => packets.push(Packet {
                track: TrackKind::Audio,
                dts_90k,
                cts_90k: 0,
                keyframe: true,
                data: body[2..].to_vec(),
            }),
            _ => {}
        }
    }
    (config, packets)
}

fn ffprobe_json(path: &Path) -> serde_json::Value {
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ffmpeg_copy(input: &Path, output: &Path) {
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(input)
        .args(["-c", "copy", "-fflags", "+bitexact"])
        .arg(output)
        .status()
        .unwrap();
    assert!(st.success());
}

/// Overwrites the AMF0 number that follows `key` in an FLV's onMetaData.
fn patch_number(flv: &mut [u8], key: &str, value: f64) {
    let i = flv
        .windows(key.len())
        .position(|w| w == key.as_bytes())
        .unwrap_or_else(|| panic!("no {key} in onMetaData"));
    let at = i + key.len();
    assert_eq!(flv[at], 0, "{key} is not a number");
    flv[at + 1..at + 9].copy_from_slice(&value.to_be_bytes());
}

fn num(v: &serde_json::Value) -> f64 {
    match v {
        serde_json::Value::String(s) => s.parse().unwrap(),
        other => other.as_f64().unwrap(),
    }
}

/// Compares `describe` with ffprobe: names, sizes, rates exact; duration within 0.05 s;
/// bit rates within 1 %.
fn assert_matches(ours: &MediaInfo, probe: &serde_json::Value, what: &str) {
    let ours = serde_json::to_value(ours).unwrap();
    let (f, pf) = (&ours["format"], &probe["format"]);
    assert_eq!(f["format_name"], pf["format_name"], "{what}");
    assert_eq!(num(&f["size"]), num(&pf["size"]), "{what}");
    let dd = (num(&f["duration"]) - num(&pf["duration"])).abs();
    assert!(
        dd <= 0.05,
        "{what}: duration {} vs {}",
        f["duration"],
        pf["duration"]
    );
    let close = |a: f64, b: f64| (a - b).abs() <= b * 0.01;
    assert!(
        close(num(&f["bit_rate"]), num(&pf["bit_rate"])),
        "{what}: {f} vs {pf}"
    );
    let streams = ours["streams"].as_array().unwrap();
    let probed = probe["streams"].as_array().unwrap();
    assert_eq!(streams.len(), probed.len(), "{what}");
    for (s, p) in streams.iter().zip(probed) {
        // ffprobe lists streams in file order; ours are video first.
        assert_eq!(s["index"], p["index"], "{what}");
        for key in ["codec_type", "codec_name", "width", "height", "channels"] {
            assert_eq!(s.get(key), p.get(key), "{what}: {key}");
        }
        if s["codec_type"] == "video" {
            assert_eq!(s["r_frame_rate"], p["r_frame_rate"], "{what}: r_frame_rate");
        }
        if let Some(rate) = s.get("sample_rate") {
            assert_eq!(num(rate), num(&p["sample_rate"]), "{what}: sample_rate");
        }
        match (s.get("bit_rate"), p.get("bit_rate")) {
            (Some(a), Some(b)) => assert!(close(num(a), num(b)), "{what}: {s} vs {p}"),
            (a, b) => assert_eq!(a.is_some(), b.is_some(), "{what}: bit_rate {s} vs {p}"),
        }
    }
}

fn stats_of(packets: &[Packet]) -> FileStats {
    let mut stats = FileStats::default();
    for p in packets {
        stats.add(p);
    }
    stats
}

const FIXTURES: &[&str] = &[
    "studio-1764072000.flv",
    "radio-1764072000.flv",
    "silent-1764072000.flv",
    "push/show-1764075600.flv",
];

#[test]
fn mp4_remux_matches_ffprobe() {
    if !have_ffprobe() {
        return;
    }
    let dir = scratch("mediainfo-mp4");
    for name in FIXTURES {
        let (config, packets) = read_flv(&testdata(name));
        let mp4 = dir.join("out.mp4");
        ffmpeg_copy(&testdata(name), &mp4);
        let size = std::fs::metadata(&mp4).unwrap().len();
        let ours = describe(Format::Mp4, size, &config, &stats_of(&packets));
        assert_matches(&ours, &ffprobe_json(&mp4), name);
    }
}

#[test]
fn flv_with_our_metadata_matches_ffprobe() {
    if !have_ffprobe() {
        return;
    }
    let dir = scratch("mediainfo-flv");
    for name in FIXTURES {
        let (config, packets) = read_flv(&testdata(name));
        let stats = stats_of(&packets);
        let flv = dir.join("out.flv");
        ffmpeg_copy(&testdata(name), &flv);
        // Write the onMetaData numbers our FLV writer writes.
        let meta = flv_metadata(&stats);
        let mut bytes = std::fs::read(&flv).unwrap();
        patch_number(&mut bytes, "duration", meta.duration_s);
        if let Some(r) = meta.videodatarate {
            patch_number(&mut bytes, "videodatarate", r);
        }
        if let Some(r) = meta.audiodatarate {
            patch_number(&mut bytes, "audiodatarate", r);
        }
        std::fs::write(&flv, &bytes).unwrap();
        let ours = describe(Format::Flv, bytes.len() as u64, &config, &stats);
        let probe = ffprobe_json(&flv);
        assert_matches(&ours, &probe, name);
        // Exact where the rules are exact.
        let ours = serde_json::to_value(&ours).unwrap();
        assert_eq!(
            ours["format"]["duration"], probe["format"]["duration"],
            "{name}"
        );
        assert_eq!(
            num(&ours["format"]["bit_rate"]),
            num(&probe["format"]["bit_rate"]),
            "{name}"
        );
        for (s, p) in ours["streams"]
            .as_array()
            .unwrap()
            .iter()
            .zip(probe["streams"].as_array().unwrap())
        {
            assert_eq!(num(&s["bit_rate"]), num(&p["bit_rate"]), "{name}");
        }
    }
}

#[test]
fn serialises_in_spec_order() {
    let (config, packets) = read_flv(&testdata("studio-1764072000.flv"));
    let info = describe(Format::Mp4, 448_622, &config, &stats_of(&packets));
    let json = serde_json::to_string(&info).unwrap();
    assert!(
        json.starts_with(r#"{"metadata":{},"format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","size":448622,"duration":"30.023000","bit_rate":"#),
        "{json}"
    );
    assert!(
        json.contains(r#"{"index":0,"codec_type":"video","codec_name":"h264","bit_rate":"#),
        "{json}"
    );
    assert!(
        json.contains(r#","width":320,"height":240,"r_frame_rate":"25/1"}"#),
        "{json}"
    );
    assert!(
        json.contains(r#"{"index":1,"codec_type":"audio","codec_name":"aac","bit_rate":"#),
        "{json}"
    );
    assert!(
        json.ends_with(r#","channels":2,"sample_rate":44100}]}"#),
        "{json}"
    );
}

/// Video DTS in ms of short x264 encodes muxed to FLV by ffmpeg 5.1, with the `r_frame_rate`
/// ffprobe reported for the FLV and for its MP4 remux.
#[test]
fn frame_rate_guess_matches_ffprobe() {
    let cases: &[(&[i64], (i64, i64))] = &[
        // 30 fps, 6 frames: too few to settle on 30/1.
        (&[0, 33, 67, 100, 133, 167], (359, 12)),
        // 24 fps, 5 frames.
        (&[0, 41, 83, 125, 166], (24000, 1001)),
        // 30000/1001, 41 frames.
        (
            &[
                0, 34, 67, 100, 134, 167, 200, 234, 267, 301, 334, 367, 401, 434, 467, 501, 534,
                568, 601, 634, 668, 701, 734, 768, 801, 834, 868, 901, 935, 968, 1001, 1035, 1068,
                1101, 1135, 1168, 1201, 1235, 1268, 1302, 1335,
            ],
            (30000, 1001),
        ),
    ];
    for (dts_ms, want) in cases {
        assert_eq!(
            rfps::guess(dts_ms, 1000, 40, 90.0),
            Some(*want),
            "{dts_ms:?}"
        );
        let dts_90k: Vec<i64> = dts_ms.iter().map(|d| d * 90).collect();
        assert_eq!(
            rfps::guess(&dts_90k, 90_000, 20, 5.0),
            Some(*want),
            "{dts_ms:?}"
        );
    }
    // Constant 40 ms: the GCD rule.
    let dts: Vec<i64> = (0..41).map(|i| i * 40).collect();
    assert_eq!(rfps::guess(&dts, 1000, 40, 90.0), Some((25, 1)));
    // One frame: no guess.
    assert_eq!(rfps::guess(&[0], 1000, 40, 90.0), None);
    assert_eq!(rfps::guess(&[], 1000, 40, 90.0), None);
}

#[test]
fn other_codecs_and_edge_cases() {
    let hvcc = "0101600000009000000000003cf000fcfdf8f800000f03a00001001840010c01ffff01600000030090000003000003003c959809a10001002b42010101600000030090000003000003003ca00a880c1c9265959a4932bc05a020000003002000000303c1a2000100074401c172b46240";
    let record: Vec<u8> = (0..hvcc.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hvcc[i..i + 2], 16).unwrap())
        .collect();
    let config = CodecConfig {
        video: Some(VideoConfig {
            codec: VideoCodec::Hevc,
            record,
            width: 0,
            height: 0,
            flv_signal: FlvVideoSignal::Enhanced,
        }),
        audio: Some(AudioConfig {
            codec: AudioCodec::Mp3,
            specific: Vec::new(),
            sample_rate: 22050,
            channels: 1,
            flv_sound_byte: 0x2a,
        }),
    };
    // No packets at all: nothing to divide by, nothing to panic about.
    let info = describe(Format::Mp4, 100, &config, &FileStats::default());
    assert_eq!(info.format.duration, "0.000000");
    assert_eq!(info.format.bit_rate, None);
    assert_eq!(info.streams[0].codec_name, "hevc");
    assert_eq!(
        (info.streams[0].width, info.streams[0].height),
        (Some(330), Some(186))
    );
    assert_eq!(info.streams[0].bit_rate, None);
    assert_eq!(info.streams[1].codec_name, "mp3");
    assert_eq!(
        (info.streams[1].sample_rate, info.streams[1].channels),
        (Some(22050), Some(1))
    );
    // 30 fps video in 90 kHz, constant: timescale / delta in MP4.
    let mut stats = FileStats::default();
    for i in 0..10 {
        stats.add(&Packet {
            track: TrackKind::Video,
            dts_90k: i * 3000,
            cts_90k: 0,
            keyframe: i == 0,
            data: vec![0; 100],
        });
    }
    let info = describe(Format::Mp4, 2000, &config, &stats);
    assert_eq!(info.streams[0].r_frame_rate.as_deref(), Some("30/1"));
    assert_eq!(info.format.duration, "0.333333");
    assert_eq!(info.streams[0].bit_rate, Some(24000));
    assert_eq!(stats.video.keyframes, 1);
    // Audio only: index 0; no r_frame_rate, width or height in the JSON.
    let audio_only = CodecConfig {
        video: None,
        audio: config.audio.clone(),
    };
    let info = describe(Format::Flv, 10, &audio_only, &FileStats::default());
    let json = serde_json::to_string(&info.streams).unwrap();
    assert_eq!(
        json,
        r#"[{"index":0,"codec_type":"audio","codec_name":"mp3","channels":1,"sample_rate":22050}]"#
    );
}

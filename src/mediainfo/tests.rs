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

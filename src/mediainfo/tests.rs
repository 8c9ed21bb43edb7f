use std::path::Path;
use std::process::Command;

use super::*;
use crate::media::{AudioConfig, FlvVideoSignal, VideoConfig};
use crate::testutil::{
    assert_mediainfo_like_ffprobe, have_ffprobe, json_f64, probe_json, read_flv, scratch, testdata,
};

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

fn json(info: &MediaInfo) -> serde_json::Value {
    serde_json::to_value(info).unwrap()
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

/// Reads each fixture with our FLV reader and has ffmpeg copy it into a file of extension `ext`:
/// `check(name, configuration, statistics, the copy)`.
fn each_fixture_remuxed(ext: &str, mut check: impl FnMut(&str, &CodecConfig, &FileStats, &Path)) {
    let dir = scratch(&format!("mediainfo-{ext}"));
    for name in FIXTURES {
        let (config, packets) = read_flv(&testdata(name));
        let copy = dir.join(format!("out.{ext}"));
        ffmpeg_copy(&testdata(name), &copy);
        check(name, &config, &stats_of(&packets), &copy);
    }
}

#[test]
fn mp4_remux_matches_ffprobe() {
    if !have_ffprobe() {
        return;
    }
    each_fixture_remuxed("mp4", |name, config, stats, mp4| {
        let size = std::fs::metadata(mp4).unwrap().len();
        let ours = describe(Format::Mp4, size, config, stats);
        assert_mediainfo_like_ffprobe(&json(&ours), &probe_json(mp4, &[]), name);
    });
}

#[test]
fn flv_with_our_metadata_matches_ffprobe() {
    if !have_ffprobe() {
        return;
    }
    each_fixture_remuxed("flv", |name, config, stats, flv| {
        // Write the onMetaData numbers our FLV writer writes.
        let meta = flv_metadata(stats);
        let mut bytes = std::fs::read(flv).unwrap();
        patch_number(&mut bytes, "duration", meta.duration_s);
        if let Some(r) = meta.videodatarate {
            patch_number(&mut bytes, "videodatarate", r);
        }
        if let Some(r) = meta.audiodatarate {
            patch_number(&mut bytes, "audiodatarate", r);
        }
        std::fs::write(flv, &bytes).unwrap();
        let ours = json(&describe(Format::Flv, bytes.len() as u64, config, stats));
        let probe = probe_json(flv, &[]);
        assert_mediainfo_like_ffprobe(&ours, &probe, name);
        // Exact where the rules are exact.
        assert_eq!(
            ours["format"]["duration"], probe["format"]["duration"],
            "{name}"
        );
        assert_eq!(
            json_f64(&ours["format"]["bit_rate"]).unwrap(),
            json_f64(&probe["format"]["bit_rate"]).unwrap(),
            "{name}"
        );
        for (s, p) in ours["streams"]
            .as_array()
            .unwrap()
            .iter()
            .zip(probe["streams"].as_array().unwrap())
        {
            assert_eq!(
                json_f64(&s["bit_rate"]).unwrap(),
                json_f64(&p["bit_rate"]).unwrap(),
                "{name}"
            );
        }
    });
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
    let record = crate::codec::testhex::hex(crate::testutil::fixtures::HVCC_330X186_HEX);
    let config = CodecConfig {
        more_video: Vec::new(),
        video: Some(VideoConfig {
            flv_track: None,
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
            flv_track: None,
        }),
        video_built: None,
        more_audio: Vec::new(),
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
            track: crate::media::Track::VIDEO,
            dts_90k: i * 3000,
            cts_90k: 0,
            keyframe: i == 0,
            data: vec![0; 100],
            offset_ns: 0,
        });
    }
    let info = describe(Format::Mp4, 2000, &config, &stats);
    assert_eq!(info.streams[0].r_frame_rate.as_deref(), Some("30/1"));
    assert_eq!(info.format.duration, "0.333333");
    assert_eq!(info.streams[0].bit_rate, Some(24000));
    assert_eq!(stats.video.keyframes, 1);
    // Audio only: index 0; no r_frame_rate, width or height in the JSON.
    let audio_only = CodecConfig {
        more_video: Vec::new(),
        video: None,
        audio: config.audio.clone(),
        video_built: None,
        more_audio: Vec::new(),
    };
    let info = describe(Format::Flv, 10, &audio_only, &FileStats::default());
    let json = serde_json::to_string(&info.streams).unwrap();
    assert_eq!(
        json,
        r#"[{"index":0,"codec_type":"audio","codec_name":"mp3","channels":1,"sample_rate":22050}]"#
    );
}

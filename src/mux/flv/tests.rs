//! The FLV writer against the fixtures (ffprobe cross-checks) and against the Enhanced RTMP spec
//! (field by field: ffprobe 5.1 cannot read Enhanced FLV).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::amf0;
use crate::input::flv::{Tag, TagKind};
use crate::media::*;
use crate::mux::MuxOptions;
use crate::testutil::fixtures::{
    SHOW_PUSHES, SHOW_START_MS, first_session, mux_sessions, splice_after,
};
use crate::testutil::{
    assert_decodes_cleanly, assert_same_packets, flv_tags, have_ffprobe, of, probe_json,
    probe_packets, probe_show_spliced, read_flv, scratch, testdata,
};

/// A fixture's configuration and packets (crate's FLV reader), times from its first packet.
fn fixture(path: &Path) -> (CodecConfig, Vec<Packet>) {
    let (config, mut packets) = read_flv(path);
    let first = packets.iter().map(|p| p.dts_90k).min().unwrap_or(0);
    for p in &mut packets {
        p.dts_90k -= first;
    }
    (config, packets)
}

/// Writes `packets` through the muxer into `dir`.
pub(super) fn mux(dir: &Path, config: &CodecConfig, packets: &[Packet]) -> Produced {
    let open = |f: &FileOpen<'_>| -> Box<dyn Muxer> { Box::new(FlvMuxer::open(f).unwrap()) };
    let base = "t-1764072000-1764072030";
    crate::testutil::fixtures::mux_session(open, dir, "t", config, packets, base)
}

/// The decoded onMetaData array of a file written by the muxer (the first tag).
pub(super) fn metadata(tags: &[Tag]) -> amf0::Value {
    assert_eq!(tags[0].kind, TagKind::Script);
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

/// Per codec type, ffprobe's packets of `a` and `b` are equal but for one constant time shift.
fn assert_same_probed_packets(a: &Path, b: &Path) {
    let (pa, pb) = (probe_packets(a), probe_packets(b));
    for kind in ["video", "audio"] {
        assert_same_packets(&of(&pa, kind), &of(&pb, kind), true, kind);
    }
}

/// Everything the brief asks of one fixture: packets, duration, filesize, index, clean decode,
/// determinism.
fn check_fixture(name: &str, width: u32, height: u32) -> PathBuf {
    let input = testdata(name);
    let (config, packets) = fixture(&input);
    let size = config.video.as_ref().map(|v| (v.width, v.height));
    assert_eq!(size.unwrap_or((0, 0)), (width, height), "picture size");
    let dir = scratch(&format!("flv-writer-{}", name.replace('-', "_")));
    let produced = mux(&dir, &config, &packets);
    assert!(produced.written);
    let bytes = std::fs::read(&produced.path).unwrap();
    assert_eq!(produced.size, bytes.len() as u64);
    assert_eq!(produced.md5, <[u8; 16]>::from(md5::Md5::digest(&bytes)));

    let (flags, tags) = flv_tags(&bytes);
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
    let expected: Vec<&Tag> = tags
        .iter()
        .filter(|t| match config.video {
            Some(_) => t.kind == TagKind::Video && t.data[0] == 0x17 && t.data[1] == 1,
            None => t.kind == TagKind::Audio && t.data[1] == 1,
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
            .find(|t| t.offset as f64 == *pos)
            .expect("position at a tag");
        assert_eq!(f64::from(t.timestamp_ms) / 1000.0, *time);
    }

    if have_ffprobe() {
        assert_same_probed_packets(&input, &produced.path);
        let f = probe_json(&produced.path, &[]);
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
        assert_decodes_cleanly(&produced.path);
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
    let [(config, first), (config2, second)] = SHOW_PUSHES.map(|p| fixture(&testdata(p)));
    assert_eq!(config, config2, "the pushes share one configuration");
    let (start, second) = splice_after(&first, &second, SHOW_START_MS + 70_000);
    let sessions = [
        (first_session(SHOW_START_MS), &first[..]),
        (start, &second[..]),
    ];
    let dir = scratch("flv-writer-splice");
    let open = |f: &FileOpen<'_>| -> Box<dyn Muxer> { Box::new(FlvMuxer::open(f).unwrap()) };
    let options = MuxOptions::default();
    let base = "show-1764075600-1764075680";
    let produced = mux_sessions(open, (&dir, "show"), &config, &options, &sessions, base);
    let (_, tags) = flv_tags(&std::fs::read(&produced.path).unwrap());
    let meta = metadata(&tags);
    let keyframes = meta.get("keyframes").unwrap();
    assert_eq!(
        numbers(keyframes.get("times")).len(),
        10,
        "5 keyframes per 10 s push"
    );

    if have_ffprobe() {
        let expected = probe_show_spliced(sessions[1].0.file_dts_90k / 90);
        let out = probe_packets(&produced.path);
        for kind in ["video", "audio"] {
            assert_eq!(
                of(&out, kind),
                of(&expected, kind),
                "{kind}: both sessions, the second shifted"
            );
        }
        assert_decodes_cleanly(&produced.path);
    }
}

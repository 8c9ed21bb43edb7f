//! FFmpeg 8 (PyAV) reads every output of fixtures Debian's ffprobe 5.1 cannot read, packet for
//! packet against the input, and decodes it (issue 16, done-when 1).

mod common;

use common::pyav;
use kls_rec::testutil::{recording_files, run_binary, scratch, testdata};

/// HEVC in Enhanced RTMP FLV (`hvc1`) recorded to FLV, MP4 and HLS: every output equals the
/// input per track by FFmpeg 8's reading, and decodes cleanly.
#[test]
fn ertmp_hevc_outputs_are_packet_exact_by_ffmpeg8() {
    let Some(python) = pyav::pyav() else { return };
    let input = testdata("hevc/ertmp-1764072000.flv");
    let dir = scratch("oracle-hevc");
    let out = run_binary(
        env!("CARGO_BIN_EXE_kls-rec"),
        &[
            "record",
            input.to_str().unwrap(),
            "--formats",
            "hls,mp4,flv",
            "-o",
            dir.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let source = pyav::probe(&python, &input, false);
    let mut checked = Vec::new();
    for f in recording_files(&dir) {
        let ext = f.extension().unwrap().to_string_lossy().into_owned();
        // HLS is read through its playlist: its fMP4 segments (HEVC's under `auto`) carry the
        // payloads as they are, MPEG-TS segments Annex B video and ADTS audio. An fMP4 init
        // segment holds no packets.
        let name = f.to_string_lossy();
        let bytes = match ext.as_str() {
            "mp4" if name.ends_with("-init.mp4") => continue,
            "flv" | "mp4" => true,
            "m3u8" => std::fs::read_to_string(&f).unwrap().contains("#EXT-X-MAP"),
            _ => continue,
        };
        let theirs = pyav::probe(&python, &f, true);
        pyav::assert_packet_exact(&source, &theirs, bytes, &f.display().to_string());
        checked.push(ext);
    }
    checked.sort();
    assert_eq!(checked, ["flv", "m3u8", "mp4"]);
}

/// The comparison fails on a changed payload, key flag or timestamp of one packet.
#[test]
fn packet_comparison_fails_on_one_difference() {
    let Some(python) = pyav::pyav() else { return };
    let source = pyav::probe(&python, &testdata("hevc/ertmp-1764072000.flv"), false);
    pyav::assert_packet_exact(&source, &source, true, "itself");
    for (k, v) in [
        ("md5", serde_json::json!("0")),
        ("key", serde_json::json!(null)),
        ("dts", serde_json::json!(1)),
    ] {
        let mut changed = source.clone();
        changed["streams"][0]["packets"][3][k] = v;
        let caught = std::panic::catch_unwind(|| {
            pyav::assert_packet_exact(&source, &changed, true, "changed")
        });
        assert!(caught.is_err(), "a changed {k} not caught");
    }
}

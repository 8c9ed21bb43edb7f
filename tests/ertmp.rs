//! Enhanced RTMP v1/v2 pushes that FFmpeg 8's FLV muxer wrote (`scripts/gen-ertmp.py`): AV1,
//! VP9 and HEVC video by FourCC; Opus, FLAC, AC-3 and E-AC-3 audio by FourCC; a second AAC
//! track in a multitrack tag. Every recording is read back by FFmpeg 8 (PyAV) packet for packet
//! against the push, and decoded (issue 16, done-when 1).

mod common;

use std::path::{Path, PathBuf};

use common::pyav;
use kls_rec::testutil::{recording_files, run_binary, scratch, testdata};

/// Every single-push fixture.
const FIXTURES: [&str; 6] = [
    "av1-opus",
    "vp9-flac",
    "hevc-ac3",
    "h264-eac3",
    "h264-2aac",
    "av1-aac",
];

fn fixture(name: &str) -> PathBuf {
    testdata(&format!("ertmp/{name}-1764072000.flv"))
}

/// Records `inputs` in `formats`; returns the output root and the run's stderr.
fn record(name: &str, formats: &str, inputs: &[PathBuf], code: i32) -> (PathBuf, String) {
    let dir = scratch(&format!("ertmp-{name}-{}", formats.replace(',', "-")));
    let mut args = vec!["record", "--quiet", "--formats", formats, "-o"];
    args.push(dir.to_str().unwrap());
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    let out = run_binary(env!("CARGO_BIN_EXE_kls-rec"), &args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{name} {formats}: {stderr}");
    (dir, stderr)
}

/// The files of one format under an output root.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = recording_files(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

/// FLV recordings of every fixture: one file each, packet-exact by FFmpeg 8 with the source's
/// configuration bytes, decoding cleanly; the Enhanced RTMP signalling as the push sent it.
#[test]
fn flv_recordings_are_packet_exact_by_ffmpeg8() {
    let Some(python) = pyav::pyav() else { return };
    for name in FIXTURES {
        // The second audio track of the multitrack push is reported, not recorded (exit 0:
        // a note, as for any stream part kls-rec does not record).
        let (dir, stderr) = record(name, "flv", &[fixture(name)], 0);
        let out = files(&dir, "flv");
        assert_eq!(out.len(), 1, "{name}: {out:?}");
        let mut source = pyav::probe(&python, &fixture(name), false);
        let mut theirs = pyav::probe(&python, &out[0], true);
        if name == "h264-2aac" {
            assert!(stderr.contains("audio track 1"), "{stderr}");
            drop_audio_tracks_after_first(&mut source);
            drop_audio_tracks_after_first(&mut theirs);
        }
        pyav::assert_packet_exact(&source, &theirs, true, name);
        // The FLAC push sends STREAMINFO twice (FFmpeg rewrites it at the end): one stream.
        let first = std::fs::read(&out[0]).unwrap();
        let fourcc_tags = |b: &[u8], needle: &[u8]| b.windows(5).filter(|w| *w == needle).count();
        if name == "vp9-flac" {
            assert_eq!(
                fourcc_tags(&first, b"\x90fLaC"),
                1,
                "one FLAC SequenceStart"
            );
        }
    }
}

/// Keeps the first audio stream of a probe (FFmpeg reads a multitrack push's second track as a
/// stream of its own).
fn drop_audio_tracks_after_first(v: &mut serde_json::Value) {
    let streams = v["streams"].as_array_mut().unwrap();
    let mut audio = 0;
    streams.retain(|s| {
        if s["type"] != "audio" {
            return true;
        }
        audio += 1;
        audio == 1
    });
}

/// Two AV1 + Opus pushes of one stream, 62 s apart, spliced into one file: per track, the
/// first push's packets then the second's, each push packet-exact with its own offset.
#[test]
fn two_av1_opus_pushes_splice_packet_exact() {
    let Some(python) = pyav::pyav() else { return };
    let inputs: Vec<PathBuf> = ["1764072000", "1764072062"]
        .iter()
        .map(|t| testdata(&format!("ertmp/show-av1-{t}.flv")))
        .collect();
    let (dir, _) = record("show-av1", "flv", &inputs, 0);
    let out = files(&dir, "flv");
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(
        out[0].ends_with("show-av1-1764072000-1764072064.flv"),
        "{out:?}"
    );
    let theirs = pyav::probe(&python, &out[0], true);
    let pushes: Vec<_> = inputs
        .iter()
        .map(|p| pyav::probe(&python, p, false))
        .collect();
    assert_spliced(&pushes, &theirs, &out[0].display().to_string());
}

/// Asserts that `out` holds, per stream, the packets of each of `pushes` in turn, each push
/// packet-exact to its source.
pub fn assert_spliced(pushes: &[serde_json::Value], out: &serde_json::Value, what: &str) {
    let mut rest = out.clone();
    for (n, push) in pushes.iter().enumerate() {
        let mut part = rest.clone();
        for (i, s) in part["streams"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .enumerate()
        {
            let count = push["streams"][i]["packets"].as_array().unwrap().len();
            let packets = s["packets"].as_array_mut().unwrap();
            assert!(
                packets.len() >= count,
                "{what}: stream {i} ends in push {n}"
            );
            packets.truncate(count);
            let left = rest["streams"][i]["packets"].as_array_mut().unwrap();
            left.drain(..count);
        }
        pyav::assert_packet_exact(push, &part, true, &format!("{what}, push {n}"));
    }
    for s in rest["streams"].as_array().unwrap() {
        assert!(
            s["packets"].as_array().unwrap().is_empty(),
            "{what}: packets after the pushes"
        );
    }
}

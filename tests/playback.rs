//! Recordings play where people watch them (issue 16, done-when 6): headless Chromium plays
//! every MP4 in a `<video>` element, every HLS playlist through hls.js (MSE; MPEG-TS and fMP4
//! segments) and the H.264/AAC FLVs through mpegts.js, each to its end, with no media error and
//! the video frames decoded. `tests/playback/play.mjs` drives Chromium (puppeteer-core, pinned
//! in `tests/playback/package-lock.json`; `npm ci --prefix tests/playback`), serving the files
//! from 127.0.0.1.
//!
//! Chromium plays H.264, AAC, MP3, AV1, VP9, Opus and FLAC; HEVC and AC-3/E-AC-3 recordings are
//! left to the FFmpeg 8 decoding checks (`tests/ertmp.rs`, `tests/oracle.rs`). Required in CI
//! (`CI` set); elsewhere a missing Chromium, Node.js or package set skips the test loudly.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use kls_rec::testutil::{recording_files, run_binary, scratch, show_av1_pushes, testdata};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_kls-rec");
/// Every fixture here is 25 frames a second.
const FPS: f64 = 25.0;

/// The page driver, or why it cannot run (a failure in CI, a loud skip elsewhere).
fn player() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/playback");
    let missing = if Command::new("chromium").arg("--version").output().is_err() {
        Some("chromium not found (apt-get install chromium)")
    } else if Command::new("node").arg("--version").output().is_err() {
        Some("node not found (apt-get install nodejs npm)")
    } else if !dir.join("node_modules/puppeteer-core").is_dir() {
        Some("tests/playback/node_modules missing (npm ci --prefix tests/playback)")
    } else {
        None
    };
    match missing {
        None => Some(dir.join("play.mjs")),
        Some(why) if std::env::var_os("CI").is_some() => panic!("required in CI: {why}"),
        Some(why) => {
            // Straight to stderr: the harness keeps a passing test's `eprintln!` to itself.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** {why}: SKIPPING the Chromium playback check ***\n"
            );
            None
        }
    }
}

fn record(dir: &Path, inputs: &[PathBuf], extra: &[&str]) {
    let mut args = vec![
        "record",
        "-o",
        dir.to_str().unwrap(),
        "--formats",
        "hls,mp4,flv",
    ];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    args.extend_from_slice(extra);
    let out = run_binary(BIN, &args);
    assert!(
        out.status.success(),
        "record {inputs:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The recordings Chromium plays: MP4s (not fMP4 init segments), playlists, and the FLVs of
/// H.264/AAC pushes in plain FLV tags. The two-AAC and the two-H.264 pushes' FLVs carry their
/// second track in Enhanced RTMP v2 Multitrack tags, as the push sent it, which mpegts.js 1.8.2
/// refuses ("CodecUnsupported", as it refuses the push's own file); their MP4 and HLS play here.
fn playable(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for f in recording_files(root) {
        let rel = f.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        let ext = f
            .extension()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let wanted = match ext.as_str() {
            "mp4" => !rel.ends_with("-init.mp4"),
            "m3u8" => true,
            "flv" => rel.contains("studio"),
            _ => false,
        };
        if wanted {
            files.push(rel);
        }
    }
    files
}

#[test]
fn recordings_play_to_their_end_in_chromium() {
    let Some(play) = player() else { return };
    let root = scratch("playback");
    let ertmp = |n: &str| testdata("ertmp").join(format!("{n}.flv"));
    for name in ["av1-opus", "vp9-flac", "av1-aac", "h264-2aac", "h264x2-aac"] {
        record(
            &root.join(name),
            &[ertmp(&format!("{name}-1764072000"))],
            &[],
        );
    }
    // Two pushes 62 s apart spliced into one recording (one EXT-X-DISCONTINUITY).
    record(
        &root.join("show-av1"),
        &show_av1_pushes().map(Path::to_path_buf),
        &[],
    );
    // H.264/AAC: MPEG-TS segments under auto, fMP4 when asked.
    let studio = testdata("studio-1764072000.flv");
    record(&root.join("studio-ts"), std::slice::from_ref(&studio), &[]);
    record(
        &root.join("studio-fmp4"),
        &[studio],
        &["--hls-segments", "fmp4"],
    );
    record(&root.join("mp3"), &[testdata("mp3-1764072000.flv")], &[]);

    let files = playable(&root);
    let out = Command::new("node")
        .arg(&play)
        .arg("/usr/bin/chromium")
        .arg(&root)
        .args(&files)
        .output()
        .expect("running node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let results: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        results.len(),
        files.len(),
        "one result per file; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for r in &results {
        eprintln!("{r}");
        let file = r["file"].as_str().unwrap();
        assert_eq!(r["error"], Value::Null, "{file}: {r}");
        assert_eq!(r["ended"], true, "{file}: did not reach its end: {r}");
        let duration = r["duration"].as_f64().unwrap();
        let frames = r["decodedFrames"].as_f64().unwrap();
        assert!(
            frames >= 0.9 * duration * FPS,
            "{file}: {frames} frames decoded in {duration} s: {r}"
        );
    }
    assert!(out.status.success(), "{stdout}");
    // Per fixture an MP4 and a playlist, and the FLV of the two plain H.264/AAC recordings.
    assert_eq!(files.len(), 20, "recordings played: {files:?}");
}

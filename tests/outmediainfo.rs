//! `outMediainfo` in the callbacks equals what ffprobe says of the same file (README "Callbacks"):
//! names, codecs, sizes and rates exactly; duration within 0.05 s; bit rates within 1 %.

use std::process::Command;

use kls_rec::testutil::{
    assert_mediainfo_like_ffprobe, have_ffprobe, probe_json, scratch, testdata,
};
use serde_json::Value;

fn check(sample: &str, format: &str) {
    let dir = scratch(&format!("mi-{format}-{sample}"));
    let out = Command::new(env!("CARGO_BIN_EXE_kls-rec"))
        .args(["record", "--formats", format, "-o"])
        .arg(&dir)
        .arg(testdata(sample))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).unwrap();
    let cb: Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    let item = &cb["details"]["items"][0];
    let ours: Value = serde_json::from_str(item["outMediainfo"].as_str().unwrap()).unwrap();
    let path = dir.join(item["dstpath"].as_str().unwrap());
    let theirs = probe_json(&path, &[]);
    assert_mediainfo_like_ffprobe(&ours, &theirs, &format!("{sample} as {format}"));
}

#[test]
fn out_mediainfo_matches_ffprobe() {
    if !have_ffprobe() {
        return;
    }
    for sample in [
        "studio-1764072000.flv",
        "radio-1764072000.flv",
        "silent-1764072000.flv",
        // Video from 4 s of 8: the FLV data rate is over the file, not the track's span.
        "late-video-1764072000.flv",
        "reschange-1764072000.flv",
        "mp3-1764072000.flv",
        "push/show-1764075600.flv",
        "capture/pushed.flv",
        // 90 kHz timestamps, several AAC frames per PES.
        "data-streams/cue-1764072000.ts",
    ] {
        for format in ["flv", "mp4"] {
            check(sample, format);
        }
    }
}

//! `outMediainfo` in the callbacks equals what ffprobe says of the same file (SPEC §4): names,
//! codecs, sizes and rates exactly; duration within 0.05 s; bit rates within 1 %.

use std::path::Path;
use std::process::Command;

use kls_rec::testutil::{have_ffprobe, scratch, testdata};
use serde_json::Value;

fn ffprobe(path: &Path) -> Value {
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

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1.0)
}

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
    let theirs = ffprobe(&path);
    let what = format!("{sample} as {format}");

    let (of, tf) = (&ours["format"], &theirs["format"]);
    assert_eq!(of["format_name"], tf["format_name"], "{what}: format_name");
    assert_eq!(num(&of["size"]), num(&tf["size"]), "{what}: size");
    let (od, td) = (num(&of["duration"]).unwrap(), num(&tf["duration"]).unwrap());
    assert!((od - td).abs() <= 0.05, "{what}: duration {od} vs {td}");
    let (ob, tb) = (num(&of["bit_rate"]).unwrap(), num(&tf["bit_rate"]).unwrap());
    assert!(close(ob, tb, 0.01), "{what}: bit_rate {ob} vs {tb}");

    let os = ours["streams"].as_array().unwrap();
    let ts = theirs["streams"].as_array().unwrap();
    assert_eq!(os.len(), ts.len(), "{what}: streams");
    for (o, t) in os.iter().zip(ts) {
        for k in [
            "index",
            "codec_type",
            "codec_name",
            "width",
            "height",
            "r_frame_rate",
            "channels",
        ] {
            // ffprobe says "0/0" for an audio stream's frame rate; the callback leaves it out.
            let audio_rate = k == "r_frame_rate" && t["codec_type"] == "audio";
            if !audio_rate {
                assert_eq!(o[k], t[k], "{what}: stream {}: {k}", t["index"]);
            }
        }
        if !o["sample_rate"].is_null() {
            assert_eq!(
                num(&o["sample_rate"]),
                num(&t["sample_rate"]),
                "{what}: sample_rate"
            );
        }
        if let (Some(a), Some(b)) = (num(&o["bit_rate"]), num(&t["bit_rate"])) {
            assert!(
                close(a, b, 0.01),
                "{what}: stream {} bit_rate {a} vs {b}",
                t["index"]
            );
        } else {
            assert!(
                t["bit_rate"].is_null(),
                "{what}: ffprobe has a bit_rate we lack: {t}"
            );
        }
    }
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
    ] {
        for format in ["flv", "mp4"] {
            check(sample, format);
        }
    }
}

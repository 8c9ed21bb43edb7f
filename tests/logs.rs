//! Segment logs drive the rules like the media they describe.

use std::process::Output;

use kls_rec::testutil::{recording_files, run_binary, scratch, testdata};

fn kls_rec(args: &[&str]) -> Output {
    run_binary(env!("CARGO_BIN_EXE_kls-rec"), args)
}

fn pushes() -> Vec<String> {
    [
        "show-1764075600.flv",
        "show-1764075670.flv",
        "show-1764075980.flv",
    ]
    .iter()
    .map(|n| testdata("push").join(n).to_str().unwrap().to_string())
    .collect()
}

#[test]
fn a_log_without_media_decides_like_the_media() {
    let media = pushes();
    for window in ["3m", "0", "4m"] {
        let mut args = vec![
            "record",
            "--dry-run",
            "--formats",
            "hls,flv",
            "--splice-window",
            window,
        ];
        let media_args: Vec<&str> = media.iter().map(|s| s.as_str()).collect();
        let from_media = kls_rec(&[args.clone(), media_args].concat());
        let log = testdata("push/pushes.jsonl");
        args.push(log.to_str().unwrap());
        let from_log = kls_rec(&args);
        assert!(from_media.status.success() && from_log.status.success());
        assert_eq!(
            String::from_utf8_lossy(&from_log.stdout),
            String::from_utf8_lossy(&from_media.stdout),
            "window {window}"
        );
    }
}

#[test]
fn a_log_without_media_cannot_write_files() {
    let dir = scratch("logs-nomedia");
    let out = kls_rec(&[
        "record",
        "-o",
        dir.to_str().unwrap(),
        testdata("push/pushes.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only --dry-run"));
    assert!(recording_files(&dir).is_empty());
}

#[test]
fn a_log_with_media_records_like_the_media() {
    let (a, b) = (scratch("logs-media-a"), scratch("logs-media-b"));
    let media = pushes();
    let mut direct = vec![
        "record",
        "--formats",
        "hls,mp4,flv",
        "-o",
        a.to_str().unwrap(),
    ];
    direct.extend(media.iter().map(|s| s.as_str()));
    let x = kls_rec(&direct);
    let log = testdata("push/pushes-media.csv");
    let y = kls_rec(&[
        "record",
        "--formats",
        "hls,mp4,flv",
        "-o",
        b.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    assert!(
        x.status.success() && y.status.success(),
        "{}",
        String::from_utf8_lossy(&y.stderr)
    );
    assert_eq!(x.stdout, y.stdout);
    let (fa, fb) = (recording_files(&a), recording_files(&b));
    assert_eq!(fa.len(), fb.len());
    for (p, q) in fa.iter().zip(&fb) {
        assert_eq!(p.strip_prefix(&a).unwrap(), q.strip_prefix(&b).unwrap());
        assert!(
            std::fs::read(p).unwrap() == std::fs::read(q).unwrap(),
            "{}",
            p.display()
        );
    }
}

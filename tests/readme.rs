//! The README's quick start runs as written.

use std::path::Path;
use std::process::Command;

use kls_rec::testutil::{recording_files, scratch};

/// The command lines of the README's "Quick start" code block.
fn quick_start() -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("## Quick start")
        .nth(1)
        .expect("a Quick start section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    block
        .lines()
        .filter(|l| l.starts_with("kls-rec "))
        .map(str::to_string)
        .collect()
}

#[test]
fn quick_start_lines_run_as_written() {
    let lines = quick_start();
    assert_eq!(lines.len(), 5, "{lines:?}");
    let dir = scratch("readme");
    std::os::unix::fs::symlink(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata"),
        dir.join("testdata"),
    )
    .unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_kls-rec")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut outputs = Vec::new();
    for line in &lines {
        let out = Command::new("sh")
            .arg("-c")
            .arg(line)
            .current_dir(&dir)
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{line}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push(out);
    }
    let rel = |p: &Path| p.strip_prefix(&dir).unwrap().to_str().unwrap().to_string();
    let files: Vec<String> = recording_files(&dir)
        .iter()
        .map(|p| rel(p))
        .filter(|p| !p.starts_with("testdata"))
        .collect();
    let expect = [
        // 1: HLS by default, in the current directory.
        "record/live/studio/hls/studio-1764072000-1764072030.m3u8",
        // 2: MP4 and FLV under out/.
        "out/record/live/studio/mp4/studio-1764072000-1764072030.mp4",
        "out/record/live/studio/flv/studio-1764072000-1764072030.flv",
        // 4: the three pushes, two files.
        "out/record/live/show/flv/show-1764075600-1764075680.flv",
        "out/record/live/show/flv/show-1764075980-1764075990.flv",
        // 5: stdin, named and timed by flags (2020-04-02T12:06:27Z).
        "out/record/live/cam/flv/cam-1585829187-1585829217.flv",
    ];
    for e in expect {
        assert!(files.iter().any(|f| f == e), "{e} missing from {files:#?}");
    }
    // 3: a dry run prints four planned files and writes none of them.
    let plan = String::from_utf8_lossy(&outputs[2].stdout);
    assert_eq!(plan.lines().count(), 4, "{plan}");
    assert!(!files.iter().any(|f| f.contains("/show/hls/")));
    // 4: the explanation names the splice and the gap.
    let explain = String::from_utf8_lossy(&outputs[3].stderr);
    assert!(
        explain.contains("spliced") && explain.contains("gap-exceeded"),
        "{explain}"
    );
    // Every other line printed callbacks, one JSON object per line.
    for i in [0, 1, 3, 4] {
        for l in String::from_utf8_lossy(&outputs[i].stdout).lines() {
            serde_json::from_str::<serde_json::Value>(l).unwrap();
        }
    }
}

/// The `--explain` transcript in the README is what the command prints.
#[test]
fn readme_explain_transcript_is_current() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let marker = "$ kls-rec record testdata/push/*.flv --formats flv --explain -o out\n";
    let transcript = readme
        .split(marker)
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let dir = scratch("readme-explain");
    let out = Command::new(env!("CARGO_BIN_EXE_kls-rec"))
        .args(["record", "--formats", "flv", "--explain", "-o"])
        .arg(dir.join("out"))
        .args([
            "testdata/push/show-1764075600.flv",
            "testdata/push/show-1764075670.flv",
            "testdata/push/show-1764075980.flv",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), transcript);
}

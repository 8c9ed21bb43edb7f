//! App and stream names come from untrusted dumps: a crafted RTMP dump can never make kls-rec
//! write outside the output root (README, "Safe names").

use std::path::{Path, PathBuf};
use std::process::Command;

use kls_rec::amf0::{self, Value};
use kls_rec::testutil::{recording_files, scratch, testdata};

/// One RTMP message as a single chunk (type 0 header; the chunk size is raised first so no
/// message is split).
fn message(csid: u8, type_id: u8, stream_id: u32, timestamp: u32, body: &[u8]) -> Vec<u8> {
    let mut out = vec![csid & 0x3F];
    out.extend_from_slice(&timestamp.min(0xFF_FFFE).to_be_bytes()[1..]);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.push(type_id);
    out.extend_from_slice(&stream_id.to_le_bytes());
    out.extend_from_slice(body);
    out
}

fn command(values: &[Value]) -> Vec<u8> {
    let mut body = Vec::new();
    for v in values {
        amf0::encode(v, &mut body);
    }
    body
}

/// A dump of a client publishing `app`/`name` with the studio fixture's first 200 tags.
fn crafted_dump(dir: &Path, app: &str, name: &str) -> PathBuf {
    let mut out = vec![3u8];
    out.extend(std::iter::repeat_n(0u8, 1536 * 2)); // C1, C2
    out.extend(message(2, 1, 0, 0, &(1u32 << 24).to_be_bytes())); // Set Chunk Size 16 MiB
    out.extend(message(
        3,
        20,
        0,
        0,
        &command(&[
            Value::String("connect".into()),
            Value::Number(1.0),
            Value::Object(vec![
                ("app".into(), Value::String(app.into())),
                (
                    "tcUrl".into(),
                    Value::String(format!("rtmp://127.0.0.1/{app}")),
                ),
            ]),
        ]),
    ));
    out.extend(message(
        3,
        20,
        1,
        0,
        &command(&[
            Value::String("publish".into()),
            Value::Number(5.0),
            Value::Null,
            Value::String(name.into()),
            Value::String("live".into()),
        ]),
    ));
    let flv = std::fs::read(testdata("studio-1764072000.flv")).unwrap();
    let mut pos = 13;
    let mut tags = 0;
    while pos + 11 <= flv.len() && tags < 200 {
        let kind = flv[pos];
        let size = u32::from_be_bytes([0, flv[pos + 1], flv[pos + 2], flv[pos + 3]]) as usize;
        let ts = u32::from_be_bytes([flv[pos + 7], flv[pos + 4], flv[pos + 5], flv[pos + 6]]);
        let body = &flv[pos + 11..pos + 11 + size];
        if kind == 8 || kind == 9 {
            out.extend(message(if kind == 8 { 4 } else { 6 }, kind, 1, ts, body));
            tags += 1;
        }
        pos += 11 + size + 4;
    }
    let path = dir.join("crafted-1764072000.rtmp");
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn hostile_names_stay_inside_the_output_root() {
    let long = "x".repeat(400);
    let cases: [(&str, &str); 8] = [
        ("live", "../../escaped"),
        ("../../..", "stream"),
        ("live", "/abs/path"),
        ("a/b", "c/d"),
        ("live", "nul\0byte"),
        ("live\n", "tab\there\x1b[31m"),
        ("live", &long),
        ("\u{2024}\u{2024}", "\u{ff0e}\u{ff0e}"),
    ];
    for (i, (app, name)) in cases.iter().enumerate() {
        let work = scratch(&format!("traversal-{i}"));
        let inputs = work.join("inputs");
        std::fs::create_dir_all(&inputs).unwrap();
        let dump = crafted_dump(&inputs, app, name);
        let root = work.join("root");
        let out = Command::new(env!("CARGO_BIN_EXE_kls-rec"))
            .args(["record", "--formats", "hls,mp4,flv", "-o"])
            .arg(&root)
            .arg(&dump)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(out.status.success(), "case {i}: {stderr}");
        // Everything written is under the root, in record/{one component}/{one component}/.
        let written = recording_files(&root);
        assert!(written.len() >= 3, "case {i}: {written:?}");
        for p in &written {
            let rel = p.strip_prefix(&root).unwrap();
            let parts: Vec<_> = rel.components().collect();
            assert_eq!(parts.len(), 5, "case {i}: {}", rel.display());
            assert_eq!(parts[0].as_os_str(), "record");
            for c in &parts {
                let s = c.as_os_str().to_string_lossy();
                assert!(
                    s != ".." && s != "." && !s.contains('/') && !s.contains('\0'),
                    "{s:?}"
                );
                assert!(
                    s.chars().all(|ch| !ch.is_control()),
                    "case {i}: control character in {s:?}"
                );
                assert!(s.len() <= 255, "case {i}: component too long");
            }
        }
        // Nothing appeared beside the root or the inputs.
        let mut top: Vec<String> = std::fs::read_dir(&work)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        top.sort();
        assert_eq!(top, ["inputs", "root"], "case {i}");
        assert_eq!(std::fs::read_dir(&inputs).unwrap().count(), 1, "case {i}");
        // The callbacks' keys are the same safe keys.
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let key = v["itmes"][0]["keys"][0].as_str().unwrap();
            assert!(root.join(key).exists(), "case {i}: {key}");
            assert!(
                !key.contains("..") || key.contains("%2E%2E") || key.contains("..%2F"),
                "{key}"
            );
        }
    }
}

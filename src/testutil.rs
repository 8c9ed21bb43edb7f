//! Helpers shared by the unit tests and the end-to-end tests in `tests/` (not part of the
//! product's interface).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The committed fixtures directory.
pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kls-rec-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Whether ffprobe/ffmpeg cross-checks can run. In CI (`CI` set) they must: a missing ffprobe
/// fails the test instead of skipping it.
pub fn have_ffprobe() -> bool {
    let ok = Command::new("ffprobe").arg("-version").output().is_ok();
    if !ok && std::env::var_os("CI").is_some() {
        panic!("ffprobe is required in CI (apt-get install ffmpeg)");
    }
    if !ok {
        eprintln!("ffprobe not found: skipping the ffprobe cross-check");
    }
    ok
}

/// Per-stream packets as ffprobe sees them: (stream index, pts, dts, size, flags, data hash),
/// times in the stream's time base converted to milliseconds (rounded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbePacket {
    pub codec_type: String,
    pub pts_ms: Option<i64>,
    pub dts_ms: Option<i64>,
    pub size: u64,
    pub keyframe: bool,
    pub hash: String,
}

/// Runs `ffprobe -show_packets -show_data_hash MD5` on a file.
pub fn probe_packets(path: &Path) -> Vec<ProbePacket> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_packets", "-show_data_hash", "MD5"])
        .args([
            "-show_entries",
            "packet=codec_type,pts_time,dts_time,size,flags,data_hash",
        ])
        .args(["-of", "json"])
        .arg(path)
        .output()
        .expect("running ffprobe");
    assert!(
        out.status.success(),
        "ffprobe failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ms = |p: &serde_json::Value, k: &str| {
        p.get(k)
            .and_then(|t| t.as_str())
            .and_then(|t| t.parse::<f64>().ok())
            .map(|t| (t * 1000.0).round() as i64)
    };
    v["packets"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|p| ProbePacket {
            codec_type: p["codec_type"].as_str().unwrap_or_default().to_string(),
            pts_ms: ms(p, "pts_time"),
            dts_ms: ms(p, "dts_time"),
            size: p["size"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0),
            keyframe: p["flags"].as_str().unwrap_or_default().starts_with('K'),
            hash: p["data_hash"].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}

/// Every file under `dir`, sorted, leaving out kls-rec's own state in an output root (the lock,
/// the callback spool and delivered-log: `.kls-rec*`).
pub fn recording_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if !p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".kls-rec"))
            {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

/// The recording files under `dir` with extension `ext`, sorted.
pub fn with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    recording_files(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect()
}

/// The packets of one stream kind ("video", "audio").
pub fn of(packets: &[ProbePacket], kind: &str) -> Vec<ProbePacket> {
    packets
        .iter()
        .filter(|p| p.codec_type == kind)
        .cloned()
        .collect()
}

/// Asserts `out` carries `input`'s packets: the same count and keyframe flags, DTS and PTS
/// shifted by one constant, and with `payloads` the same sizes and data hashes.
pub fn assert_same_packets(input: &[ProbePacket], out: &[ProbePacket], payloads: bool, what: &str) {
    assert_eq!(input.len(), out.len(), "{what}: packet count");
    let Some((a0, b0)) = input.first().zip(out.first()) else {
        return;
    };
    let shift = b0.dts_ms.unwrap() - a0.dts_ms.unwrap();
    for (i, (a, b)) in input.iter().zip(out).enumerate() {
        assert_eq!(a.keyframe, b.keyframe, "{what}: packet {i} keyframe");
        assert_eq!(
            b.dts_ms.unwrap() - a.dts_ms.unwrap(),
            shift,
            "{what}: packet {i} dts"
        );
        assert_eq!(
            b.pts_ms.unwrap() - a.pts_ms.unwrap(),
            shift,
            "{what}: packet {i} pts"
        );
        if payloads {
            assert_eq!(
                (a.size, &a.hash),
                (b.size, &b.hash),
                "{what}: packet {i} payload"
            );
        }
    }
}

/// `ffmpeg -v error -i FILE -f null -` succeeds and prints nothing.
pub fn assert_decodes_cleanly(path: &Path) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .expect("running ffmpeg");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.trim().is_empty(),
        "{}: {err}",
        path.display()
    );
}

/// Relative path → bytes of every recording file under `dir` (see [`recording_files`]).
pub fn tree(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    recording_files(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p.strip_prefix(dir).unwrap().to_path_buf(), bytes)
        })
        .collect()
}

//! The FFmpeg 8 oracle (issue 16): `scripts/pyav-probe.py` run with PyAV's interpreter
//! (`KLS_PYAV`, else `/opt/pyav/bin/python`; `.ci/run` makes it), its JSON parsed, and the
//! packet-exact comparison of an output's tracks with its input's.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// PyAV's interpreter, if it imports `av`. In CI (`CI` set) it must: a missing one fails the
/// test instead of skipping it.
pub fn pyav() -> Option<PathBuf> {
    let python = std::env::var_os("KLS_PYAV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/pyav/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", "import av"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var_os("CI").is_some() {
        panic!(
            "PyAV is required in CI ({} cannot import av; see .ci/run)",
            python.display()
        );
    }
    if !ok {
        // Straight to the process's stderr: the test harness keeps `eprintln!` of a passing
        // test to itself, and a skip must show.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** PyAV not found at {} (set KLS_PYAV): SKIPPING the FFmpeg 8 cross-check ***\n",
            python.display()
        );
    }
    ok.then_some(python)
}

/// `scripts/pyav-probe.py FILE [--decode]`, parsed; with `decode`, fails the test if FFmpeg 8
/// reported a decoding error.
pub fn probe(python: &Path, file: &Path, decode: bool) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pyav-probe.py");
    let mut cmd = Command::new(python);
    cmd.arg(script).arg(file);
    if decode {
        cmd.arg("--decode");
    }
    let out = cmd.output().expect("running pyav-probe.py");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "pyav-probe.py on {}: {e}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        out.status.success(),
        "FFmpeg 8 on {}: log {} errors {:?}",
        file.display(),
        v["log"],
        v["streams"].as_array().map(|s| s
            .iter()
            .map(|s| s["decode_errors"].clone())
            .collect::<Vec<_>>())
    );
    v
}

/// A timestamp of a stream in microseconds (time bases differ between containers).
fn micros(ts: &Value, time_base: &str) -> Option<i128> {
    let (num, den) = time_base.split_once('/')?;
    let (num, den): (i128, i128) = (num.parse().ok()?, den.parse().ok()?);
    Some((ts.as_i64()? as i128 * num * 1_000_000 + den / 2).div_euclid(den))
}

/// Asserts that per track (the n-th video, the n-th audio stream) `out`'s packets equal
/// `input`'s: count, sizes, payload MD5s, key flags, DTS shifted by one constant, PTS − DTS
/// equal; with `bytes` also the payloads (sizes, MD5s) and configuration bytes, which MPEG-TS
/// changes by design (Annex B, ADTS). The first difference is named.
pub fn assert_packet_exact(input: &Value, out: &Value, bytes: bool, what: &str) {
    let streams = |v: &Value, kind: &str| -> Vec<Value> {
        v["streams"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["type"] == kind)
            .cloned()
            .collect()
    };
    for kind in ["video", "audio"] {
        let (a, b) = (streams(input, kind), streams(out, kind));
        assert_eq!(a.len(), b.len(), "{what}: {kind} tracks");
        for (n, (a, b)) in a.iter().zip(&b).enumerate() {
            let track = format!("{what}: {kind} track {n} ({})", a["codec_name"]);
            assert_eq!(a["codec_name"], b["codec_name"], "{track}: codec");
            if bytes {
                assert_eq!(
                    a["extradata"], b["extradata"],
                    "{track}: configuration bytes"
                );
            }
            assert_track(a, b, bytes, &track);
        }
    }
}

fn assert_track(a: &Value, b: &Value, bytes: bool, track: &str) {
    let (pa, pb) = (
        a["packets"].as_array().unwrap(),
        b["packets"].as_array().unwrap(),
    );
    let (ta, tb) = (
        a["time_base"].as_str().unwrap(),
        b["time_base"].as_str().unwrap(),
    );
    assert_eq!(pa.len(), pb.len(), "{track}: packet count");
    let mut shift = None;
    for (i, (x, y)) in pa.iter().zip(pb).enumerate() {
        let keys: &[&str] = if bytes {
            &["size", "md5", "key"]
        } else {
            &["key"]
        };
        for k in keys {
            assert_eq!(x[k], y[k], "{track}: packet {i}: {k}\n in:  {x}\n out: {y}");
        }
        let (dx, dy) = (micros(&x["dts"], ta), micros(&y["dts"], tb));
        let (px, py) = (micros(&x["pts"], ta), micros(&y["pts"], tb));
        let (Some(dx), Some(dy), Some(px), Some(py)) = (dx, dy, px, py) else {
            panic!("{track}: packet {i}: no timestamps\n in:  {x}\n out: {y}");
        };
        let s = *shift.get_or_insert(dy - dx);
        // 1 µs of rounding between a 1/1000 and a 1/90000 time base.
        assert!(
            (dy - dx - s).abs() <= 1,
            "{track}: packet {i}: DTS shift {} ≠ {s}\n in:  {x}\n out: {y}",
            dy - dx
        );
        assert!(
            ((py - dy) - (px - dx)).abs() <= 1,
            "{track}: packet {i}: PTS − DTS\n in:  {x}\n out: {y}"
        );
    }
}

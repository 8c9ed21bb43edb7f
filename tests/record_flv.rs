//! End-to-end: `kls-rec record` on the committed FLV fixtures, checked with ffprobe.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kls_rec::testutil::{
    ProbePacket, assert_same_packets, have_ffprobe, of, probe_packets, recording_files, run_binary,
    scratch, testdata,
};

fn kls_rec(args: &[&str]) -> Output {
    run_binary(env!("CARGO_BIN_EXE_kls-rec"), args)
}

fn record(out_dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["record", "-o", out_dir.to_str().unwrap()];
    all.extend_from_slice(args);
    kls_rec(&all)
}

/// Every file under `dir` with the extension, sorted by name.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    recording_files(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect()
}

fn stdout_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn records_the_b_frame_sample_to_flv_with_its_callback() {
    let dir = scratch("e2e-studio");
    let input = testdata("studio-1764072000.flv");
    let out = record(&dir, &[input.to_str().unwrap(), "--formats", "flv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let produced = files(&dir, "flv");
    assert_eq!(produced.len(), 1);
    let name = produced[0]
        .strip_prefix(&dir)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    // 30 s starting at the Unix time in the input's name.
    assert_eq!(
        name,
        "record/live/studio/flv/studio-1764072000-1764072030.flv"
    );

    let callbacks = stdout_lines(&out);
    assert_eq!(callbacks.len(), 1);
    let cb = &callbacks[0];
    assert_eq!(cb["type"], "avtrans");
    assert_eq!(cb["status"], 3);
    assert_eq!(cb["details"]["items"][0]["dstpath"], name.as_str());
    let md5 = kls_rec::sink::local::hex(&kls_rec::sink::local::md5_of_file(&produced[0]).unwrap());
    assert_eq!(cb["details"]["items"][0]["ETag"], md5.as_str());
    assert_eq!(cb["details"]["starttime"], "1764072000");

    if have_ffprobe() {
        let a = probe_packets(&input);
        let b = probe_packets(&produced[0]);
        for kind in ["video", "audio"] {
            assert_same_packets(&of(&a, kind), &of(&b, kind), true, kind);
        }
        assert!(
            of(&a, "video").iter().any(|p| p.pts_ms != p.dts_ms),
            "B-frames expected"
        );
    }
}

#[test]
fn three_pushes_splice_by_the_window() {
    let pushes: Vec<String> = [
        "show-1764075600.flv",
        "show-1764075670.flv",
        "show-1764075980.flv",
    ]
    .iter()
    .map(|n| testdata("push").join(n).to_str().unwrap().to_string())
    .collect();
    let mut args: Vec<&str> = pushes.iter().map(|s| s.as_str()).collect();
    args.extend(["--formats", "flv"]);

    let dir = scratch("e2e-push-default");
    let out = record(&dir, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names: Vec<String> = files(&dir, "flv")
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    // The first two pushes (60 s apart) share a file spanning both; the third (300 s) does not.
    assert_eq!(
        names,
        [
            "show-1764075600-1764075680.flv",
            "show-1764075980-1764075990.flv"
        ]
    );

    let dir = scratch("e2e-push-nosplice");
    args.extend(["--splice-window", "0"]);
    let out = record(&dir, &args);
    assert!(out.status.success());
    assert_eq!(files(&dir, "flv").len(), 3);
    assert_eq!(stdout_lines(&out).len(), 3);
}

#[test]
fn slicing_a_30_second_sample_every_10_seconds() {
    let dir = scratch("e2e-slice");
    let input = testdata("studio-1764072000.flv");
    let out = record(
        &dir,
        &[
            input.to_str().unwrap(),
            "--formats",
            "flv",
            "--slice",
            "10s",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let produced = files(&dir, "flv");
    assert_eq!(produced.len(), 3, "{produced:?}");
    if have_ffprobe() {
        let a = probe_packets(&input);
        let parts: Vec<Vec<ProbePacket>> = produced.iter().map(|p| probe_packets(p)).collect();
        for part in &parts {
            let v = of(part, "video");
            assert!(v[0].keyframe, "each file starts with a keyframe");
        }
        // Together the parts carry exactly the input's packets, in order.
        for kind in ["video", "audio"] {
            let joined: Vec<(u64, String, bool)> = parts
                .iter()
                .flat_map(|p| of(p, kind))
                .map(|p| (p.size, p.hash, p.keyframe))
                .collect();
            let want: Vec<(u64, String, bool)> = of(&a, kind)
                .into_iter()
                .map(|p| (p.size, p.hash, p.keyframe))
                .collect();
            assert_eq!(joined, want, "{kind}");
        }
    }
}

#[test]
fn a_resolution_change_opens_a_new_file() {
    let dir = scratch("e2e-reschange");
    let input = testdata("reschange-1764072000.flv");
    let out = record(
        &dir,
        &[input.to_str().unwrap(), "--formats", "flv", "--explain"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(files(&dir, "flv").len(), 2);
    let explain = String::from_utf8_lossy(&out.stderr);
    assert!(explain.contains(": codec-change"), "{explain}");

    let dry = record(
        &dir,
        &[input.to_str().unwrap(), "--dry-run", "--formats", "flv"],
    );
    let plan = String::from_utf8_lossy(&dry.stdout);
    assert_eq!(plan.lines().count(), 2, "{plan}");
    assert!(
        plan.lines()
            .nth(1)
            .unwrap()
            .contains("opened: codec-change"),
        "{plan}"
    );
}

/// An audio track whose sequence header and first frames come 4 s late in the push, stamped
/// from 0.5 s, while the video has reached 4.48 s (`scripts/gen-late-audio.py`): a codec change,
/// whose new file begins where the first one ended, under a name of its own in every format.
#[test]
fn a_late_track_stamped_before_the_cut_opens_a_file_after_it() {
    let dir = scratch("e2e-late-audio");
    let input = testdata("late-track/late-audio-1764072000.flv");
    let out = record(&dir, &[input.to_str().unwrap(), "--formats", "hls,mp4,flv"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Exit status 3: media was dropped, and said so.
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("dropped 173 packets timed before the codec change"),
        "{stderr}"
    );
    let names = |ext| -> Vec<String> {
        files(&dir, ext)
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    };
    for ext in ["m3u8", "mp4", "flv"] {
        let want: Vec<String> = ["1764072000-1764072004", "1764072004-1764072006"]
            .iter()
            .map(|span| format!("late-audio-{span}.{ext}"))
            .collect();
        assert_eq!(names(ext), want);
    }
    assert_eq!(
        names("ts"),
        ["late-audio-1764072000-0.ts", "late-audio-1764072004-0.ts"]
    );
    if have_ffprobe() {
        // The second file holds the input's audio from the first file's end (4.52 s) on.
        let a: Vec<ProbePacket> = of(&probe_packets(&input), "audio")
            .into_iter()
            .filter(|p| p.dts_ms.is_some_and(|d| d >= 4_520))
            .collect();
        let second = &files(&dir, "flv")[1];
        assert_same_packets(&a, &of(&probe_packets(second), "audio"), true, "audio");
    }
}

/// A slice at 4 s and the codec change at 4.52 s open two files in the same wall-clock second:
/// the second numbers its HLS segments on from the first's, in both segment formats, and its
/// playlist plays the segments it names.
#[test]
fn files_that_start_in_one_second_number_their_segments_apart() {
    let input = testdata("late-track/late-audio-1764072000.flv");
    for (segments, ext) in [("ts", "ts"), ("fmp4", "m4s")] {
        let dir = scratch(&format!("e2e-one-second-{segments}"));
        let args = [input.to_str().unwrap(), "--formats", "hls,mp4,flv"];
        let out = record(
            &dir,
            &[&args[..], &["--slice", "4s", "--hls-segments", segments]].concat(),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{segments}: {stderr}");
        let names = |ext| -> Vec<String> {
            files(&dir, ext)
                .iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        let spans = [
            "1764072000-1764072004",
            "1764072004-1764072004",
            "1764072004-1764072006",
        ];
        let want: Vec<String> = spans
            .iter()
            .map(|s| format!("late-audio-{s}.m3u8"))
            .collect();
        assert_eq!(names("m3u8"), want, "{segments}");
        let want: Vec<String> = ["1764072000-0", "1764072004-0", "1764072004-1"]
            .iter()
            .map(|s| format!("late-audio-{s}.{ext}"))
            .collect();
        assert_eq!(names(ext), want, "{segments}");
        let playlist = &files(&dir, "m3u8")[2];
        let text = std::fs::read_to_string(playlist).unwrap();
        assert!(
            text.contains(&format!("\nlate-audio-1764072004-1.{ext}\n")),
            "{text}"
        );
        if segments == "fmp4" {
            assert!(
                text.contains("URI=\"late-audio-1764072004-1-init.mp4\""),
                "{text}"
            );
        }
        // A rerun over the same directory finds every name with the same bytes.
        let again = record(
            &dir,
            &[&args[..], &["--slice", "4s", "--hls-segments", segments]].concat(),
        );
        let stderr = String::from_utf8_lossy(&again.stderr);
        assert_eq!(again.status.code(), Some(3), "{segments} rerun: {stderr}");
        assert_eq!(names(ext), want, "{segments} rerun");
        if have_ffprobe() {
            let audio = of(&probe_packets(playlist), "audio");
            assert!(
                !audio.is_empty(),
                "{segments}: the third file's playlist plays its audio"
            );
        }
    }
}

/// Two pushes of 0.3 s, the second 0.6 s after the first at another picture size
/// (`scripts/gen-same-second.sh`): two files that both start and end in the same second. The
/// second is numbered on from the first's name in every format, and a rerun finds the same names.
#[test]
fn files_that_start_and_end_in_one_second_are_numbered_apart() {
    let dir = scratch("e2e-same-second");
    let inputs = [
        testdata("same-second/cam-1764072000.flv"),
        testdata("same-second/cam-1764072000600.flv"),
    ];
    let mut args: Vec<&str> = inputs.iter().map(|p| p.to_str().unwrap()).collect();
    args.extend(["--formats", "hls,mp4,flv"]);
    for run in ["run", "rerun"] {
        let out = record(&dir, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{run}: {stderr}");
        let keys: Vec<String> = stdout_lines(&out)
            .iter()
            .flat_map(|c| {
                let items = c.get("itmes").or_else(|| c["details"].get("items"));
                let items = items
                    .and_then(|i| i.as_array())
                    .cloned()
                    .unwrap_or_default();
                items.into_iter().map(|i| {
                    let key = i.get("keys").map_or(&i["dstpath"], |k| &k[0]);
                    key.as_str().unwrap().to_string()
                })
            })
            .collect();
        for ext in ["m3u8", "mp4", "flv"] {
            let want = [
                format!("cam-1764072000-1764072000.{ext}"),
                format!("cam-1764072000-1764072000_1.{ext}"),
            ];
            let names: Vec<String> = files(&dir, ext)
                .iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect();
            assert_eq!(names, want, "{run}");
            for name in &want {
                assert!(
                    keys.iter().any(|k| k.ends_with(&format!("/{name}"))),
                    "{run}: a callback names {name}: {keys:?}"
                );
            }
        }
    }
    if !have_ffprobe() {
        return;
    }
    for (ext, payloads) in [("mp4", true), ("flv", true), ("m3u8", false)] {
        for (file, input) in files(&dir, ext).iter().zip(&inputs) {
            let (src, out) = (probe_packets(input), probe_packets(file));
            let what = format!("{} of {}", file.display(), input.display());
            assert_same_packets(&of(&src, "video"), &of(&out, "video"), payloads, &what);
        }
    }
}

#[test]
fn dry_run_writes_nothing() {
    let dir = scratch("e2e-dry");
    let input = testdata("studio-1764072000.flv");
    let out = record(
        &dir,
        &[
            input.to_str().unwrap(),
            "--dry-run",
            "--formats",
            "flv,mp4",
            "--slice",
            "10s",
        ],
    );
    assert!(out.status.success());
    let plan = String::from_utf8_lossy(&out.stdout);
    assert_eq!(plan.lines().count(), 6, "{plan}");
    assert!(plan.contains(
        "record/live/studio/mp4/studio-1764072000-1764072010.mp4\topened: first-push\tclosed: slice"
    ));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn metadata_duration_and_keyframe_index() {
    let dir = scratch("e2e-meta");
    let input = testdata("studio-1764072000.flv");
    let out = record(&dir, &[input.to_str().unwrap(), "--formats", "flv"]);
    assert!(out.status.success());
    let path = &files(&dir, "flv")[0];
    let bytes = std::fs::read(path).unwrap();
    // The first tag after the header is onMetaData.
    assert_eq!(bytes[13], 18, "script tag first");
    let size = u32::from_be_bytes([0, bytes[14], bytes[15], bytes[16]]) as usize;
    let values = kls_rec::amf0::decode_all(&bytes[24..24 + size]).unwrap();
    assert_eq!(values[0].as_str(), Some("onMetaData"));
    let meta = &values[1];
    assert_eq!(
        meta.get("filesize").and_then(|v| v.as_f64()),
        Some(bytes.len() as f64)
    );
    let kf = meta.get("keyframes").expect("keyframes index");
    let positions = match kf.get("filepositions") {
        Some(kls_rec::amf0::Value::StrictArray(v)) => v.clone(),
        other => panic!("filepositions: {other:?}"),
    };
    assert_eq!(positions.len(), 15, "a keyframe every 2 s for 30 s");
    for p in positions {
        let pos = p.as_f64().unwrap() as usize;
        assert_eq!(bytes[pos], 9, "video tag at {pos}");
        assert_eq!(bytes[pos + 11] >> 4, 1, "keyframe at {pos}");
    }
    let duration = meta.get("duration").and_then(|v| v.as_f64()).unwrap();
    assert!((duration - 30.0).abs() < 0.1, "{duration}");
    if have_ffprobe() {
        let probe = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "format=duration",
                "-of",
                "csv=p=0",
            ])
            .arg(path)
            .output()
            .unwrap();
        let d: f64 = String::from_utf8_lossy(&probe.stdout)
            .trim()
            .parse()
            .unwrap();
        assert!(
            (d - duration).abs() < 0.001,
            "ffprobe reads the duration from onMetaData: {d}"
        );
    }
}

/// A fixture with damage applied: returns its path.
fn damaged(name: &str, f: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut bytes = std::fs::read(testdata("studio-1764072000.flv")).unwrap();
    f(&mut bytes);
    let dir = scratch(&format!("damaged-{name}"));
    let path = dir.join(format!("{name}-1764072000.flv"));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_truncated_input_is_recovered_and_reported() {
    let input = damaged("trunc", |b| b.truncate(b.len() * 2 / 3 + 5));
    let dir = scratch("e2e-trunc");
    let out = record(&dir, &[input.to_str().unwrap(), "--formats", "flv"]);
    assert_eq!(out.status.code(), Some(3), "damaged input exits 3");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at byte "), "{err}");
    assert_eq!(files(&dir, "flv").len(), 1, "the valid part is recorded");
}

#[test]
fn a_corrupted_tag_size_is_skipped_and_reported() {
    // Find a tag in the middle and give it an impossible DataSize.
    let bytes = std::fs::read(testdata("studio-1764072000.flv")).unwrap();
    let mut pos = 13;
    let mut tags = Vec::new();
    while pos + 11 <= bytes.len() {
        tags.push(pos);
        let size = u32::from_be_bytes([0, bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]]) as usize;
        pos += 11 + size + 4;
    }
    let victim = tags[tags.len() / 2];
    let input = damaged("badsize", |b| {
        b[victim + 1..victim + 4].copy_from_slice(&[0xFF, 0xFF, 0xF0]);
    });
    let dir = scratch("e2e-badsize");
    let out = record(&dir, &[input.to_str().unwrap(), "--formats", "flv"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("at byte {victim}")),
        "names the damaged tag's offset: {err}"
    );
    if have_ffprobe() {
        let a = probe_packets(&testdata("studio-1764072000.flv"));
        let total: usize = files(&dir, "flv")
            .iter()
            .map(|p| probe_packets(p).len())
            .sum();
        // One tag lost, everything after it recovered.
        assert!(
            total + 2 >= a.len() && total < a.len(),
            "{total} of {}",
            a.len()
        );
    }
}

#[test]
fn exit_status_two_on_usage_errors() {
    assert_eq!(kls_rec(&["record"]).status.code(), Some(2));
    assert_eq!(
        kls_rec(&["record", "x.flv", "--slice", "soon"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        kls_rec(&["record", "x.flv", "--formats", "avi"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn an_unreadable_input_is_a_failure_naming_it() {
    let dir = scratch("e2e-missing");
    let out = record(
        &dir,
        &["/nonexistent/cam-1764072000.flv", "--formats", "flv"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/cam-1764072000.flv"));
}

//! `kls-rec inspect`: ffprobe's values in `--json`, `--rules` equal to `record --dry-run
//! --explain`, damage and RTMP publishes in the report.

use std::path::{Path, PathBuf};
use std::process::Output;

use kls_rec::testutil::{have_ffprobe, probe_json, recording_files, run_binary, scratch, testdata};
use serde_json::Value;

fn kls_rec(args: &[&str]) -> Output {
    run_binary(env!("CARGO_BIN_EXE_kls-rec"), args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn inspect_json(path: &Path) -> Value {
    let out = kls_rec(&["inspect", "--json", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// The fields README "Inspecting inputs and recordings" says must equal ffprobe 5.1's. A stream's
/// `duration` and `bit_rate` are compared as printed, absence included: ffprobe prints them for
/// some containers only (MP4 both, MPEG-TS the duration and an audio bit rate, FLV and HLS a bit
/// rate at most).
fn assert_like_ffprobe(path: &Path) {
    let ours = inspect_json(path);
    let theirs = probe_json(path, &["-count_packets"]);
    let name = path.display();
    for k in ["format_name", "nb_streams", "size"] {
        assert_eq!(ours["format"][k], theirs["format"][k], "{name}: format.{k}");
    }
    let duration = |v: &Value| {
        v["format"]["duration"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap()
    };
    assert!(
        (duration(&ours) - duration(&theirs)).abs() <= 0.05,
        "{name}: duration {} vs {}",
        ours["format"]["duration"],
        theirs["format"]["duration"]
    );
    let (a, b) = (
        ours["streams"].as_array().unwrap(),
        theirs["streams"].as_array().unwrap(),
    );
    assert_eq!(a.len(), b.len(), "{name}: streams");
    for (s, t) in a.iter().zip(b) {
        if ours["format"]["format_name"] == "mpegts" {
            assert_eq!(s["id"], t["id"], "{name}: stream {}: id", t["index"]);
        }
        if t["codec_type"] != "video" && t["codec_type"] != "audio" {
            // Data streams: listed, named and counted as ffprobe does; no timing.
            for k in ["index", "codec_name", "codec_type", "nb_read_packets"] {
                assert_eq!(s[k], t[k], "{name}: stream {}: {k}", t["index"]);
            }
            continue;
        }
        for k in [
            "index",
            "codec_name",
            "codec_type",
            "profile",
            "width",
            "height",
            "r_frame_rate",
            "sample_rate",
            "channels",
            "nb_read_packets",
            "duration",
            "bit_rate",
        ] {
            assert_eq!(s[k], t[k], "{name}: stream {}: {k}", t["index"]);
        }
    }
}

/// Every FLV fixture (ffprobe 5.1 does not know HEVC in FLV, so `testdata/hevc/*.flv` are left
/// out) and the HEVC MP4.
#[test]
fn json_equals_ffprobe_on_fixtures() {
    if !have_ffprobe() {
        return;
    }
    let mut inputs: Vec<PathBuf> = Vec::new();
    for dir in [testdata(""), testdata("push")] {
        inputs.extend(
            std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "flv")),
        );
    }
    inputs.sort();
    assert!(inputs.len() >= 8, "{inputs:?}");
    inputs.push(testdata("hevc/source.mp4"));
    // ffmpeg-written MPEG-TS (several AAC frames per PES) with SCTE-35, timed ID3 and KLV PIDs.
    inputs.push(testdata("data-streams/cue-1764072000.ts"));
    inputs.push(testdata("data-streams/klv-1764072000.ts"));
    // Two video PIDs, the audio's listed between them.
    inputs.push(testdata("ts/tracks/twovideo-1764072000.ts"));
    for p in &inputs {
        assert_like_ffprobe(p);
    }
}

#[test]
fn json_equals_ffprobe_on_recordings() {
    if !have_ffprobe() {
        return;
    }
    let dir = scratch("inspect-recordings");
    for name in ["studio", "radio", "silent", "mp3"] {
        let input = testdata(&format!("{name}-1764072000.flv"));
        let out = kls_rec(&[
            "record",
            "-q",
            "--formats",
            "hls,mp4,flv",
            "-o",
            dir.to_str().unwrap(),
            input.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    // Playlists, MP4, FLV, and the MPEG-TS segments on their own; AAC and MP3, with and without
    // video.
    let files = recording_files(&dir);
    let ts = files
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "ts"))
        .count();
    assert_eq!((files.len() - ts, ts), (12, 9), "{files:?}");
    for f in &files {
        assert_like_ffprobe(f);
    }
}

/// Recordings with several tracks of a kind (two AAC tracks; two H.264 tracks), as MP4 and as
/// MPEG-TS HLS: every stream, the further ones included, as ffprobe lists it.
#[test]
fn json_equals_ffprobe_on_multi_track_recordings() {
    if !have_ffprobe() {
        return;
    }
    let dir = scratch("inspect-multi-track");
    for input in [
        "ertmp/h264-2aac-1764072000.flv",
        "ts/tracks/twovideo-1764072000.ts",
    ] {
        let out = kls_rec(&[
            "record",
            "-q",
            "--formats",
            "hls,mp4",
            "--hls-segments",
            "ts",
            "-o",
            dir.to_str().unwrap(),
            testdata(input).to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let files = recording_files(&dir);
    assert_eq!(files.len(), 6, "{files:?}");
    for f in &files {
        assert_like_ffprobe(f);
    }
}

#[test]
fn json_lines_one_object_per_input() {
    let a = testdata("radio-1764072000.flv");
    let b = testdata("silent-1764072000.flv");
    let out = kls_rec(&[
        "inspect",
        "--json",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["streams"][0]["codec_name"], "aac");
    assert_eq!(lines[0]["streams"][0]["sample_rate"], "44100");
    assert_eq!(lines[1]["streams"][0]["profile"], "Main");
    assert_eq!(lines[1]["format"]["filename"], b.to_str().unwrap());
}

/// `inspect --rules` prints what `record --dry-run --explain` prints, stream for stream.
#[test]
fn rules_equal_record_dry_run() {
    let mut inputs: Vec<String> = ["1764075600", "1764075670", "1764075980"]
        .iter()
        .map(|t| {
            testdata(&format!("push/show-{t}.flv"))
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let log = testdata("push/pushes.jsonl");
    let settings: [&[&str]; 6] = [
        &[],
        &["--splice-window", "0"],
        &["--slice", "5s"],
        &["--splice-window", "2m"],
        &["--period", "15s", "--splice-window", "10m"],
        &[
            "--formats",
            "hls,mp4,flv",
            "--app",
            "studio",
            "--slice",
            "8s",
        ],
    ];
    for (i, s) in settings.iter().enumerate() {
        if i == 1 {
            // A log without media drives the rules as well.
            inputs.push(log.to_str().unwrap().to_string());
        }
        let mut inspect: Vec<&str> = vec!["inspect", "--rules", "-q"];
        let mut record: Vec<&str> = vec!["record", "--dry-run", "--explain", "-q"];
        for v in [&mut inspect, &mut record] {
            v.extend_from_slice(s);
            v.extend(inputs.iter().map(String::as_str));
        }
        let (a, b) = (kls_rec(&inspect), kls_rec(&record));
        assert_eq!(a.status.code(), b.status.code(), "{s:?}: {}", stderr(&a));
        assert_eq!(stdout(&a), stdout(&b), "{s:?}: plans differ");
        assert_eq!(stderr(&a), stderr(&b), "{s:?}: decisions differ");
        assert!(stdout(&a).contains("\topened: "), "{s:?}: {}", stdout(&a));
        assert!(stderr(&a).contains("open  file #"), "{s:?}: {}", stderr(&a));
    }
}

#[test]
fn rules_draw_a_timeline() {
    let dir = scratch("inspect-timeline");
    let svg = dir.join("t.svg");
    let input = testdata("push/show-1764075600.flv");
    let out = kls_rec(&[
        "inspect",
        "--rules",
        "--timeline",
        svg.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    // A dry run writes no recording.
    assert!(!dir.join("record").exists());
}

/// Bytes overwritten in the middle of an FLV: the report names the damage and its byte offset,
/// and the exit status says the input was damaged.
#[test]
fn damage_is_reported_with_its_offset() {
    let dir = scratch("inspect-damage");
    let mut bytes = std::fs::read(testdata("silent-1764072000.flv")).unwrap();
    let (from, len) = (80_000usize, 300usize);
    bytes[from..from + len].fill(0xEE);
    let path = dir.join("broken-1764072000.flv");
    std::fs::write(&path, &bytes).unwrap();
    let out = kls_rec(&["inspect", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = stdout(&out);
    let offsets: Vec<u64> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("damage") && l.contains("at byte "))
        .filter_map(|l| {
            let rest = &l[l.find("at byte ")? + 8..];
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert!(!offsets.is_empty(), "{text}");
    // The damage begins at the tag the bytes fell into: within one tag (< 64 KiB) before them.
    assert!(
        offsets
            .iter()
            .any(|&o| o <= (from + len) as u64 && o + 65_536 >= from as u64),
        "{offsets:?}\n{text}"
    );
    // What is valid after the damage is still counted.
    assert!(text.contains(" keyframes"), "{text}");
    // --json says so too: the count and the reports with their offsets.
    let out = kls_rec(&["inspect", "--json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let reports = v["damage"]["reports"].as_array().unwrap();
    assert!(v["damage"]["count"].as_u64().unwrap() >= reports.len() as u64);
    assert!(
        reports
            .iter()
            .any(|r| r.as_str().unwrap().contains("at byte ")),
        "{v}"
    );
}

/// Data PIDs are listed as ffprobe lists them, and reported as not recorded, not as damage.
#[test]
fn data_streams_are_listed_and_not_damage() {
    let path = testdata("data-streams/cue-1764072000.ts");
    let v = inspect_json(&path);
    assert!(v.get("damage").is_none(), "{v}");
    assert_eq!(v["format"]["nb_streams"], 4);
    assert_eq!(v["streams"][3]["codec_name"], "timed_id3");
    assert_eq!(
        v["not_recorded"][1]["what"],
        "PID 0x0103 timed ID3 (stream_type 0x15)"
    );
    let out = kls_rec(&["inspect", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("#2 data scte_35, PID 0x102, 4 packets"),
        "{text}"
    );
    assert!(text.contains("not recorded PID 0x0102 SCTE-35"), "{text}");
    assert!(text.contains("damage      none"), "{text}");
}

#[test]
fn rtmp_dump_lists_its_publish() {
    let input = testdata("rtmp/show-1764075600.rtmp");
    let out = kls_rec(&["inspect", input.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(": RTMP dump, "), "{text}");
    assert!(
        text.contains(r#"publish     #0 app "live" stream "show" vdoid "demo42""#),
        "{text}"
    );
    assert!(text.contains("tcUrl rtmp://"), "{text}");
    assert!(text.contains("push #0  live/show?vdoid=demo42"), "{text}");
    assert!(text.contains("h264 High"), "{text}");
}

#[test]
fn unreadable_input_fails_and_others_still_print() {
    let dir = scratch("inspect-bad");
    let junk = dir.join("junk.bin");
    std::fs::write(&junk, b"nothing to see").unwrap();
    let good = testdata("radio-1764072000.flv");
    let out = kls_rec(&["inspect", junk.to_str().unwrap(), good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("junk.bin"), "{}", stderr(&out));
    assert!(stdout(&out).contains("aac LC, 44100 Hz, 2 channels"));
}

//! Golden outputs: every fixture recorded in every format, inspected, explained and spliced,
//! each file, stdout, stderr and exit status reduced to an MD5 and compared with the committed
//! list `tests/golden.md5`. A change of any output byte, callback, `--explain` line or
//! `inspect --json` field shows here; the list also holds each writer's `FORMAT_VERSION`, and a
//! writer whose bytes changed without a bump of its version is refused.
//!
//! `REGENERATE_GOLDEN=1 cargo test --test golden` rewrites the list (and still refuses bytes
//! that changed under an unchanged version).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use kls_rec::testutil::{cam_pcapng, recording_files, run_binary, scratch, show_av1_pushes};

const LIST: &str = "tests/golden.md5";

fn kls_rec(args: &[String]) -> Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_binary(env!("CARGO_BIN_EXE_kls-rec"), &args)
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One run of the binary: its name in the list and its arguments (`{out}` is its output root).
struct Case {
    name: String,
    args: Vec<String>,
    /// Whether the run writes into `{out}` (record, splice) or only prints (inspect).
    writes: bool,
}

fn case(name: &str, args: &[&str], writes: bool) -> Case {
    Case {
        name: name.to_string(),
        args: args.iter().map(|a| a.to_string()).collect(),
        writes,
    }
}

/// Every input fixture with the flags that pin what a name or mtime would otherwise decide.
fn inputs() -> Vec<(&'static str, Vec<&'static str>)> {
    let fixed = vec!["--start-time", "1764072000"];
    vec![
        ("studio", vec!["testdata/studio-1764072000.flv"]),
        ("mp3", vec!["testdata/mp3-1764072000.flv"]),
        ("radio", vec!["testdata/radio-1764072000.flv"]),
        ("reschange", vec!["testdata/reschange-1764072000.flv"]),
        ("silent", vec!["testdata/silent-1764072000.flv"]),
        ("hevc-cdn", vec!["testdata/hevc/cdn-1764072000.flv"]),
        ("hevc-ertmp", vec!["testdata/hevc/ertmp-1764072000.flv"]),
        (
            "hevc-mp4",
            [&["testdata/hevc/source.mp4"][..], &fixed].concat(),
        ),
        (
            "push",
            vec![
                "testdata/push/show-1764075600.flv",
                "testdata/push/show-1764075670.flv",
                "testdata/push/show-1764075980.flv",
            ],
        ),
        ("push-csv", vec!["testdata/push/pushes-media.csv"]),
        ("rtmp", vec!["testdata/rtmp/show-1764075600.rtmp"]),
        ("pcap", vec!["testdata/capture/cam.pcap"]),
        ("pcapng", vec![built_path(cam_pcapng())]),
        (
            "pushed",
            [&["testdata/capture/pushed.flv"][..], &fixed].concat(),
        ),
        ("late-video", vec!["testdata/late-video-1764072000.flv"]),
        (
            "late-track",
            vec!["testdata/late-track/late-audio-1764072000.flv"],
        ),
        (
            "same-second",
            vec![
                "testdata/same-second/cam-1764072000.flv",
                "testdata/same-second/cam-1764072000600.flv",
            ],
        ),
        (
            "annexb avc",
            vec!["testdata/annexb/avc-annexb-1764072000.flv"],
        ),
        (
            "annexb avc-inband",
            vec!["testdata/annexb/avc-inband-1764072000.flv"],
        ),
        (
            "annexb badrecord",
            vec!["testdata/annexb/badrecord-1764072000.flv"],
        ),
        (
            "annexb hevc",
            vec!["testdata/annexb/hevc-annexb-1764072000.flv"],
        ),
        (
            "annexb hevc-inband",
            vec!["testdata/annexb/hevc-inband-1764072000.flv"],
        ),
        (
            "audio-lag ts",
            vec!["testdata/audio-lead/lag-1764072000.ts"],
        ),
        (
            "audio-lead flv",
            vec!["testdata/audio-lead/lead-1764072000.flv"],
        ),
        (
            "audio-lead ts",
            vec!["testdata/audio-lead/lead-1764072000.ts"],
        ),
        (
            "ts two-video",
            vec!["testdata/ts/tracks/twovideo-1764072000.ts"],
        ),
        (
            "ts silent-first-video",
            vec!["testdata/ts/tracks/silentfirst-1764072000.ts"],
        ),
        (
            "data-streams cue",
            vec!["testdata/data-streams/cue-1764072000.ts"],
        ),
        (
            "data-streams klv",
            vec!["testdata/data-streams/klv-1764072000.ts"],
        ),
        (
            "single aacshort",
            vec!["testdata/single/aacshort-1764072000.flv"],
        ),
        ("single mp3", vec!["testdata/single/mp3-1764072000.flv"]),
        (
            "single mp3short",
            vec!["testdata/single/mp3short-1764072000.flv"],
        ),
        (
            "single videoshort",
            vec!["testdata/single/videoshort-1764072000.flv"],
        ),
        ("ts apple h264", vec!["testdata/ts/appleh264-1764072000.ts"]),
        ("ts apple hevc", vec!["testdata/ts/applehevc-1764072000.ts"]),
        (
            "ts apple untimed",
            vec!["testdata/ts/appleuntimed-1764072000.ts"],
        ),
        (
            "ts apple hls",
            vec!["testdata/ts/applehls/applehls-1764072000.m3u8"],
        ),
        (
            "ts src h264",
            [&["testdata/ts/src-h264.ts"][..], &fixed].concat(),
        ),
        (
            "ts src hevc",
            [&["testdata/ts/src-hevc.ts"][..], &fixed].concat(),
        ),
        (
            "ertmp av1-opus",
            vec!["testdata/ertmp/av1-opus-1764072000.flv"],
        ),
        (
            "ertmp vp9-flac",
            vec!["testdata/ertmp/vp9-flac-1764072000.flv"],
        ),
        (
            "ertmp hevc-ac3",
            vec!["testdata/ertmp/hevc-ac3-1764072000.flv"],
        ),
        (
            "ertmp h264-eac3",
            vec!["testdata/ertmp/h264-eac3-1764072000.flv"],
        ),
        (
            "ertmp h264-2aac",
            vec!["testdata/ertmp/h264-2aac-1764072000.flv"],
        ),
        (
            "ertmp av1-aac",
            vec!["testdata/ertmp/av1-aac-1764072000.flv"],
        ),
        (
            "ertmp show-av1",
            vec![
                "testdata/ertmp/show-av1-1764072000.flv",
                built_path(show_av1_pushes()[1]),
            ],
        ),
        (
            "ertmp rtmp",
            [&["testdata/ertmp/rtmp/av1-opus.rtmp"][..], &fixed].concat(),
        ),
        ("ertmp pcap", vec!["testdata/ertmp/ertmp.pcap"]),
    ]
}

/// An input built at test time, as an argument.
fn built_path(path: &'static Path) -> &'static str {
    path.to_str().unwrap()
}

/// The inputs built at test time, each with the path it is named by in the list: an output
/// naming such an input is scrubbed to that path, so that a case's lines do not depend on where
/// its input was built.
fn built_inputs() -> [(&'static Path, &'static str); 2] {
    [
        (cam_pcapng(), "testdata/capture/cam.pcapng"),
        (
            show_av1_pushes()[1],
            "testdata/ertmp/show-av1-1764072062.flv",
        ),
    ]
}

/// Damaged inputs kept from fuzzing: their reports and partial recordings are pinned too.
fn damaged() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("testdata/regress")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "README.md")
        .collect();
    names.sort();
    names
}

fn cases() -> Vec<Case> {
    let all = ["--formats", "hls,mp4,flv", "--explain", "-o", "{out}"];
    let mut cases = Vec::new();
    for (name, args) in inputs() {
        let mut record = vec!["record"];
        record.extend(&args);
        record.extend(all);
        cases.push(case(&format!("record {name}"), &record, true));
        let mut inspect = vec!["inspect", "--json"];
        inspect.extend(&args);
        cases.push(case(&format!("inspect --json {name}"), &inspect, false));
        let mut text = vec!["inspect"];
        text.extend(&args);
        cases.push(case(&format!("inspect {name}"), &text, false));
    }
    for name in damaged() {
        let path = format!("testdata/regress/{name}");
        let record = ["record", &path, "--start-time", "1764072000"];
        cases.push(case(
            &format!("record regress/{name}"),
            &[&record[..], &all].concat(),
            true,
        ));
    }
    let slice = ["record", "testdata/studio-1764072000.flv", "--slice", "10s"];
    cases.push(case(
        "record studio --slice 10s",
        &[&slice[..], &all].concat(),
        true,
    ));
    let dry = [
        "record",
        "testdata/push/pushes.jsonl",
        "--dry-run",
        "--explain",
        "--json",
    ];
    cases.push(case("record --dry-run pushes.jsonl", &dry, false));
    let dry = [
        "record",
        "testdata/capture/cam.jsonl",
        "--dry-run",
        "--explain",
    ];
    cases.push(case("record --dry-run cam.jsonl", &dry, false));
    let rules = [
        "inspect",
        "--rules",
        "--slice",
        "5s",
        "testdata/push/show-1764075600.flv",
    ];
    cases.push(case("inspect --rules", &rules, false));
    cases
}

/// Cases that read the recordings of `record studio` (in `studio`): MPEG-TS/HLS and MP4
/// inputs, and splices of slices.
fn second_stage(studio: &Path, sliced: &Path) -> Vec<Case> {
    let of = |dir: &Path, ext: &str| -> Vec<String> {
        recording_files(dir)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|x| x == ext))
            .map(|p| p.to_string_lossy().into_owned())
            .collect()
    };
    let all = ["--formats", "hls,mp4,flv", "--explain", "-o", "{out}"];
    let mut cases = Vec::new();
    for ext in ["m3u8", "mp4", "flv"] {
        let files = of(studio, ext);
        let mut args = vec!["record".to_string()];
        args.extend(files.iter().cloned());
        args.extend(all.iter().map(|a| a.to_string()));
        cases.push(Case {
            name: format!("record studio's {ext}"),
            args,
            writes: true,
        });
        let mut args = vec!["inspect".to_string(), "--json".to_string()];
        args.extend(files);
        cases.push(Case {
            name: format!("inspect --json studio's {ext}"),
            args,
            writes: false,
        });
        let slices = of(sliced, ext);
        for format in ["mp4", "flv", "hls"] {
            let mut args = vec!["splice".to_string()];
            args.extend(slices.iter().cloned());
            args.extend(["--format", format, "-o", "{out}"].map(String::from));
            cases.push(Case {
                name: format!("splice {ext} slices --format {format}"),
                args,
                writes: true,
            });
        }
    }
    cases
}

/// Runs one case into `root/<n>`; returns its lines of the list, keyed by their names.
fn run(case: &Case, out: &Path, root: &Path, lines: &mut BTreeMap<String, String>) {
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| a.replace("{out}", &out.to_string_lossy()))
        .collect();
    let output = kls_rec(&args);
    let scrub = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes)
            .replace(&*out.to_string_lossy(), "{out}")
            .replace(&*root.to_string_lossy(), "{root}");
        built_inputs().into_iter().fold(text, |t, (path, named)| {
            t.replace(&*path.to_string_lossy(), named)
        })
    };
    let name = &case.name;
    let status = output
        .status
        .code()
        .map_or("signal".into(), |c| c.to_string());
    lines.insert(format!("{name} | exit"), status);
    lines.insert(
        format!("{name} | stdout"),
        md5_hex(scrub(&output.stdout).as_bytes()),
    );
    lines.insert(
        format!("{name} | stderr"),
        md5_hex(scrub(&output.stderr).as_bytes()),
    );
    if case.writes {
        for f in recording_files(out) {
            let rel = f.strip_prefix(out).unwrap().to_string_lossy().into_owned();
            lines.insert(
                format!("{name} | {rel}"),
                md5_hex(&std::fs::read(&f).unwrap()),
            );
        }
    }
}

fn versions() -> BTreeMap<String, String> {
    [
        ("flv", kls_rec::mux::flv::FORMAT_VERSION),
        ("hls", kls_rec::mux::hls::FORMAT_VERSION),
        ("mp4", kls_rec::mux::mp4::FORMAT_VERSION),
    ]
    .into_iter()
    .map(|(f, v)| (format!("FORMAT_VERSION {f}"), v.to_string()))
    .collect()
}

fn current() -> BTreeMap<String, String> {
    let root = scratch("golden");
    let mut lines = versions();
    let mut dirs: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (n, c) in cases().iter().enumerate() {
        let out = root.join(n.to_string());
        run(c, &out, &root, &mut lines);
        dirs.insert(c.name.clone(), out);
    }
    let later = second_stage(&dirs["record studio"], &dirs["record studio --slice 10s"]);
    for (n, c) in later.iter().enumerate() {
        let out = root.join(format!("s{n}"));
        run(c, &out, &root, &mut lines);
    }
    let _ = std::fs::remove_dir_all(&root);
    lines
}

fn parse(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.rsplit_once(" = "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The writer whose bytes a line names, if it names an output file.
fn format_of(key: &str) -> Option<&'static str> {
    let (_, file) = key.split_once(" | ")?;
    ["/flv/", "/hls/", "/mp4/"]
        .into_iter()
        .find(|d| file.contains(d))
        .map(|d| &d[1..4])
}

/// Writers whose files changed while their version stayed.
fn unbumped(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in new {
        let Some(format) = format_of(k) else { continue };
        let version = format!("FORMAT_VERSION {format}");
        if old.get(k).is_some_and(|o| o != v) && old.get(&version) == new.get(&version) {
            out.push(format!("{k} changed but {version} did not"));
        }
    }
    out
}

#[test]
fn every_output_matches_the_committed_list() {
    let new = current();
    let old = parse(&std::fs::read_to_string(LIST).unwrap_or_default());
    let unbumped = unbumped(&old, &new);
    assert!(
        unbumped.is_empty(),
        "output bytes changed without a FORMAT_VERSION bump:\n{}",
        unbumped.join("\n")
    );
    if std::env::var_os("REGENERATE_GOLDEN").is_some() {
        let text: String = new.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
        std::fs::write(LIST, text).unwrap();
        return;
    }
    let mut diff = Vec::new();
    for k in old.keys().chain(new.keys()) {
        if old.get(k) != new.get(k) && !diff.contains(k) {
            diff.push(k.clone());
        }
    }
    let shown: Vec<String> = diff
        .iter()
        .map(|k| format!("{k}: {:?} -> {:?}", old.get(k), new.get(k)))
        .collect();
    assert!(
        diff.is_empty(),
        "{} lines differ from {LIST} (REGENERATE_GOLDEN=1 rewrites it):\n{}",
        diff.len(),
        shown.join("\n")
    );
}

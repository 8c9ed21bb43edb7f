//! Recording HLS, MP4 and FLV with and without the index pass gives the same files, callbacks
//! and messages for every fixture; an input that changes between the passes fails its MP4 and
//! FLV files and nothing else.

use std::path::{Path, PathBuf};

use super::*;
use crate::input::{self, InputOptions, SessionInfo, WallClockSource};
use crate::media::StreamKey;
use crate::record::{NoProgress, Outputs, Summary, record_stream, run};
use crate::testutil::{cam_pcapng, scratch, testdata, tree, with_ext};

/// HLS beside the planned formats, so the write pass has a writer that follows no plan.
const FORMATS: [Format; 3] = [Format::Hls, Format::Mp4, Format::Flv];

/// Runs `f` with its outputs captured: its result, stdout and stderr.
fn captured<T>(f: impl FnOnce(&mut Outputs<'_>) -> T) -> (T, String, String) {
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let result = f(&mut Outputs {
        out: &mut stdout,
        log: &mut stderr,
        progress: &NoProgress,
        delivery: None,
    });
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (result, text(stdout), text(stderr))
}

/// `record --formats hls,mp4,flv` into `out`: the summary, stdout and stderr.
fn record(inputs: &[String], opts: &RecordOptions, out: &Path) -> (Summary, String, String) {
    let opts = RecordOptions {
        out_dir: out.to_path_buf(),
        formats: FORMATS.to_vec(),
        ..opts.clone()
    };
    let (summary, stdout, stderr) = captured(|io| run(inputs, &InputOptions::default(), &opts, io));
    (summary.unwrap(), stdout, stderr)
}

/// Records `inputs` both ways and compares everything; returns the MP4 files written (each
/// beside an FLV file).
fn both_ways(name: &str, inputs: &[PathBuf], opts: &RecordOptions) -> usize {
    let inputs: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    for i in &inputs {
        let sessions = input::open(i, &InputOptions::default()).unwrap();
        let opts = RecordOptions {
            formats: FORMATS.to_vec(),
            ..opts.clone()
        };
        assert!(wanted(&opts, &sessions), "{name}: {i} gets no index pass");
    }
    let dir = scratch(&format!("index-pass-{name}"));
    let spooled = RecordOptions {
        index_pass: false,
        ..opts.clone()
    };
    let (a, a_out, a_err) = record(&inputs, &spooled, &dir.join("spooled"));
    let (b, b_out, b_err) = record(&inputs, opts, &dir.join("planned"));
    assert!(b.failures.is_empty(), "{name}: {:?}", b.failures);
    assert_eq!(a.failures, b.failures, "{name}");
    assert_eq!(a_out, b_out, "{name}: callbacks");
    assert_eq!(a_err, b_err, "{name}: messages");
    let (ta, tb) = (tree(&dir.join("spooled")), tree(&dir.join("planned")));
    assert_eq!(
        ta.keys().collect::<Vec<_>>(),
        tb.keys().collect::<Vec<_>>(),
        "{name}: files"
    );
    for (path, bytes) in &ta {
        assert!(tb[path] == *bytes, "{name}: {} differs", path.display());
    }
    let mp4s = with_ext(&dir.join("planned"), "mp4").len();
    assert_eq!(with_ext(&dir.join("planned"), "flv").len(), mp4s, "{name}");
    let _ = std::fs::remove_dir_all(&dir);
    mp4s
}

#[test]
fn every_fixture_gives_the_same_bytes_with_and_without_the_index_pass() {
    let d = RecordOptions::default();
    let slice = |ms| RecordOptions {
        rules: crate::rules::Settings {
            slice_ms: ms,
            ..Default::default()
        },
        ..RecordOptions::default()
    };
    let t = |names: &[&str]| -> Vec<PathBuf> { names.iter().map(|n| testdata(n)).collect() };
    let pushes = t(&[
        "push/show-1764075600.flv",
        "push/show-1764075670.flv",
        "push/show-1764075980.flv",
    ]);
    let cases: Vec<(&str, Vec<PathBuf>, RecordOptions)> = vec![
        ("studio", t(&["studio-1764072000.flv"]), d.clone()),
        // Several MP4 files per stream: plans handed over one by one.
        ("studio-sliced", t(&["studio-1764072000.flv"]), slice(7_000)),
        ("radio", t(&["radio-1764072000.flv"]), d.clone()),
        ("silent", t(&["silent-1764072000.flv"]), d.clone()),
        ("mp3", t(&["mp3-1764072000.flv"]), d.clone()),
        ("reschange", t(&["reschange-1764072000.flv"]), d.clone()),
        ("hevc-cdn", t(&["hevc/cdn-1764072000.flv"]), d.clone()),
        ("hevc-ertmp", t(&["hevc/ertmp-1764072000.flv"]), d.clone()),
        ("hevc-mp4", t(&["hevc/source.mp4"]), d.clone()),
        ("pushes", pushes.clone(), d.clone()),
        ("pushes-sliced", pushes, slice(4_000)),
        ("rtmp", t(&["rtmp/show-1764075600.rtmp"]), d.clone()),
        ("pcap", t(&["capture/cam.pcap"]), d.clone()),
        ("pcapng", vec![cam_pcapng().to_path_buf()], d.clone()),
        ("log", t(&["push/pushes-media.csv"]), d.clone()),
        // MP4 and HLS leave the Nellymoser track out: the MP4 planned without it.
        (
            "h264-nelly",
            t(&["flash/h264-nelly-1764072000.flv"]),
            d.clone(),
        ),
        // Every stream at once, on two jobs.
        (
            "all",
            t(&[
                "studio-1764072000.flv",
                "radio-1764072000.flv",
                "hevc/cdn-1764072000.flv",
                "capture/cam.pcap",
            ]),
            RecordOptions {
                jobs: 2,
                ..slice(9_000)
            },
        ),
    ];
    for (name, inputs, opts) in &cases {
        assert!(both_ways(name, inputs, opts) > 0, "{name}: no MP4 file");
    }

    // Recordings as inputs: an HLS playlist (MPEG-TS segments) and an MP4.
    let first = scratch("index-pass-recordings");
    let studio = testdata("studio-1764072000.flv").display().to_string();
    record(&[studio], &d, &first);
    let hls = with_ext(&first, "m3u8");
    let mp4 = with_ext(&first, "mp4");
    assert!(both_ways("from-hls", &hls, &d) > 0);
    assert!(both_ways("from-mp4", &mp4, &d) > 0);
    let _ = std::fs::remove_dir_all(&first);
}

#[test]
fn mp4_and_flv_runs_on_rereadable_inputs_get_an_index_pass() {
    let studio = testdata("studio-1764072000.flv").display().to_string();
    let files = input::open(&studio, &InputOptions::default()).unwrap();
    let formats = |formats: &[Format]| RecordOptions {
        formats: formats.to_vec(),
        ..RecordOptions::default()
    };
    let mp4 = formats(&[Format::Mp4]);
    assert!(wanted(&mp4, &files));
    assert!(wanted(&formats(&[Format::Flv]), &files));
    assert!(wanted(&formats(&[Format::Hls, Format::Flv]), &files));
    assert!(wanted(&formats(&FORMATS), &files));
    assert!(!wanted(&formats(&[Format::Hls]), &files));
    let dry = RecordOptions {
        dry_run: true,
        ..mp4.clone()
    };
    assert!(!wanted(&dry, &files));
    // Stdin can be read once: the whole stream keeps the spooling writer.
    let mut sessions = files;
    sessions.extend(input::open("-", &InputOptions::default()).unwrap());
    assert!(!wanted(&mp4, &sessions));
}

/// An input rewritten between the index pass and the write pass (here: cut short) fails its MP4
/// file with an error naming the input; the HLS recording is written and its callback printed
/// (though MP4 comes first), and nothing is left under the MP4's final name or as a temporary.
#[test]
fn an_input_that_changes_between_the_passes_fails_its_mp4_file() {
    changed_between_the_passes(Format::Mp4, "the write pass ended after");
}

/// The same for FLV: the tags written are not the planned ones, so the `onMetaData` written
/// first would be wrong.
#[test]
fn an_input_that_changes_between_the_passes_fails_its_flv_file() {
    changed_between_the_passes(Format::Flv, "where the index pass read");
}

/// Records a stream whose input the write pass finds cut short, as `format` and HLS; `format`
/// fails with an error that says `what`.
fn changed_between_the_passes(format: Format, what: &str) {
    let ext = format.extension();
    let dir = scratch(&format!("index-pass-changed-{ext}"));
    let whole = testdata("studio-1764072000.flv");
    let cut = dir.join("cut.flv");
    let bytes = std::fs::read(&whole).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let name = "studio-1764072000.flv";
    // The index pass reads the whole file, the write pass the cut one.
    let opener = move || {
        let index_pass = std::thread::current().name() == Some(THREAD);
        let path = if index_pass { &whole } else { &cut };
        let found = input::open(&path.display().to_string(), &InputOptions::default())?;
        found.into_iter().next().expect("one session").open()
    };
    let sessions = vec![PendingSession::rereadable(
        SessionInfo {
            key: StreamKey {
                app: "live".into(),
                stream: "studio".into(),
                vdoid: None,
            },
            wall_start_ms: 1_764_072_000_000,
            wall_clock: WallClockSource::FileName,
            played: false,
            input: name.into(),
            index: 0,
            warnings: Vec::new(),
        },
        None,
        Box::new(opener),
    )];
    let out = dir.join("out");
    let opts = RecordOptions {
        out_dir: out.clone(),
        formats: vec![format, Format::Hls],
        ..RecordOptions::default()
    };
    let key = sessions[0].info.key.clone();
    let (result, stdout, _) =
        captured(|io| record_stream(&key, sessions, &opts, io, &mut Summary::default()));
    let callbacks: Vec<&str> = stdout.lines().collect();
    assert!(
        matches!(&callbacks[..], [line] if line.contains(".m3u8")),
        "{stdout}"
    );
    let err = format!("{:#}", result.unwrap_err());
    assert!(
        err.contains(&format!("completing record/live/studio/{ext}/"))
            && err.contains(&format!(
                "{name} changed between the index pass and the write pass"
            ))
            && err.contains(what),
        "{err}"
    );
    let files = tree(&out);
    let names: Vec<String> = files
        .keys()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n.ends_with(".m3u8")), "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| !n.ends_with(&format!(".{ext}")) && !n.starts_with('.')),
        "{names:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

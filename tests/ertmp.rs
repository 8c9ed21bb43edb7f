//! Enhanced RTMP v1/v2 pushes that FFmpeg 8's FLV muxer wrote (`scripts/gen-ertmp.py`): AV1,
//! VP9 and HEVC video by FourCC; Opus, FLAC, AC-3 and E-AC-3 audio by FourCC; a second AAC
//! track, and a second H.264 track, in multitrack tags, each recorded as a track of its own in
//! every format. Every recording is read back by FFmpeg 8 (PyAV) packet for packet against the
//! push, and decoded (issue 16, done-when 1).

mod common;

use std::path::{Path, PathBuf};

use common::pyav;
use common::run::final_files;
use kls_rec::testutil::{
    assert_mediainfo_like_ffprobe, recording_files, run_binary, scratch, show_av1_pushes, testdata,
};

/// Every single-push fixture.
const FIXTURES: [&str; 7] = [
    "av1-opus",
    "vp9-flac",
    "hevc-ac3",
    "h264-eac3",
    "h264-2aac",
    "av1-aac",
    "h264x2-aac",
];

/// The fixtures in `ertmp.pcap`: all but the last, the two-video push, which has a capture of
/// its own.
const CAPTURED: &[&str] = FIXTURES.split_at(FIXTURES.len() - 1).0;

fn fixture(name: &str) -> PathBuf {
    testdata(&format!("ertmp/{name}-1764072000.flv"))
}

/// Records `inputs` in `formats`; returns the output root and the run's stderr.
fn record(name: &str, formats: &str, inputs: &[PathBuf], code: i32) -> (PathBuf, String) {
    record_with(name, formats, &[], inputs, code)
}

/// [`record`] with further options.
fn record_with(
    name: &str,
    formats: &str,
    options: &[&str],
    inputs: &[PathBuf],
    code: i32,
) -> (PathBuf, String) {
    let dir = scratch(&format!("ertmp-{name}-{}", formats.replace(',', "-")));
    let mut args = vec!["record", "--quiet", "--formats", formats, "-o"];
    args.push(dir.to_str().unwrap());
    args.extend_from_slice(options);
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    let out = run_binary(env!("CARGO_BIN_EXE_kls-rec"), &args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{name} {formats}: {stderr}");
    (dir, stderr)
}

/// The files of one extension under an output root; with `init`, HLS init segments too.
fn files_with(dir: &Path, ext: &str, init: bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = recording_files(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .filter(|p| init || !p.to_string_lossy().ends_with("-init.mp4"))
        .collect();
    v.sort();
    v
}

/// The recordings of one format (a playlist for HLS) under an output root.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    files_with(dir, ext, false)
}

/// Recordings of every fixture in `formats`: one file (playlist) each per format, packet-exact
/// by FFmpeg 8 with the source's configuration bytes (except in MPEG-TS, which carries Annex B
/// and ADTS by design), every track of the push (both AAC tracks of the multitrack one),
/// decoding cleanly, with nothing reported; returns the output root.
fn check_packet_exact(python: &Path, name: &str, formats: &str) -> PathBuf {
    let (dir, stderr) = record(name, formats, &[fixture(name)], 0);
    assert!(!stderr.contains("not recorded"), "{name}: {stderr}");
    let source = pyav::probe(python, &fixture(name), false);
    for ext in formats
        .split(',')
        .map(|f| if f == "hls" { "m3u8" } else { f })
    {
        let out = files(&dir, ext);
        assert_eq!(out.len(), 1, "{name} {ext}: {out:?}");
        let fmp4 = !files(&dir, "m4s").is_empty();
        let bytes = ext != "m3u8" || fmp4;
        let theirs = pyav::probe(python, &out[0], true);
        let mut source = source.clone();
        if ext != "flv" {
            vpcc_written_as_sent(&mut source, &dir, &format!("{name} {ext}"));
        }
        pyav::assert_packet_exact(&source, &theirs, bytes, &format!("{name} {ext}"));
    }
    dir
}

#[test]
fn flv_recordings_are_packet_exact_by_ffmpeg8() {
    let Some(python) = pyav::pyav() else { return };
    for name in FIXTURES {
        let dir = check_packet_exact(&python, name, "flv");
        // The FLAC push sends STREAMINFO twice (FFmpeg rewrites it at the end): one stream,
        // one SequenceStart.
        if name == "vp9-flac" {
            let flv = std::fs::read(&files(&dir, "flv")[0]).unwrap();
            let starts = flv.windows(5).filter(|w| *w == b"\x90fLaC").count();
            assert_eq!(starts, 1, "FLAC SequenceStart tags");
        }
    }
}

#[test]
fn mp4_recordings_are_packet_exact_by_ffmpeg8() {
    let Some(python) = pyav::pyav() else { return };
    for name in FIXTURES {
        check_packet_exact(&python, name, "mp4");
    }
}

/// HLS under `auto`: fMP4 segments wherever MPEG-TS cannot carry a track (AV1, VP9, Opus,
/// FLAC) and for HEVC; MPEG-TS for H.264 with AAC or E-AC-3 (ATSC stream type 0x87).
#[test]
fn hls_recordings_are_packet_exact_by_ffmpeg8() {
    let Some(python) = pyav::pyav() else { return };
    for name in FIXTURES {
        let dir = check_packet_exact(&python, name, "hls");
        let fmp4 = !files(&dir, "m4s").is_empty();
        let ts = ["h264-2aac", "h264-eac3", "h264x2-aac"].contains(&name);
        assert_eq!(fmp4, !ts, "{name}: fMP4 segments");
    }
}

/// MPEG-TS HLS both ways: HEVC + AC-3 with `--hls-segments ts`, H.264 + E-AC-3, H.264 with
/// two AAC tracks and two H.264 tracks with AAC (TS under `auto`) are packet-exact by FFmpeg 8,
/// with stream types 0x81 / 0x87 / 0x0F on the audio PID 0x101 (the second AAC track on 0x102),
/// or 0x1B on 0x101 for the second video track, and the playlists, read back, record MP4 and
/// FLV packet-exact to the push, every track, with its audio configuration bytes (`dac3` /
/// `dec3` built from the first syncframe, as from the FLV).
#[test]
fn mpeg_ts_hls_is_written_and_read_back_packet_exact() {
    let Some(python) = pyav::pyav() else { return };
    let cases = [
        ("hevc-ac3", 0x81u8),
        ("h264-eac3", 0x87),
        ("h264-2aac", 0x0F),
        ("h264x2-aac", 0x1B),
    ];
    for (name, stream_type) in cases {
        let (hls, _) = record_with(
            &format!("{name}-ts"),
            "hls",
            &["--hls-segments", "ts"],
            &[fixture(name)],
            0,
        );
        let segments = files(&hls, "ts");
        assert_eq!(segments.len(), 1, "{name}: {segments:?}");
        let ts = std::fs::read(&segments[0]).unwrap();
        // The PMT (second packet) lists PID 0x101 under its stream type.
        let pmt = &ts[188..376];
        let at = pmt.windows(3).position(|w| w == [stream_type, 0xE1, 0x01]);
        assert!(
            at.is_some(),
            "{name}: stream_type 0x{stream_type:02x} in the PMT"
        );
        let source = pyav::probe(&python, &fixture(name), false);
        let playlist = files(&hls, "m3u8").remove(0);
        let theirs = pyav::probe(&python, &playlist, true);
        pyav::assert_packet_exact(&source, &theirs, false, &format!("{name} ts"));
        // MPEG-TS carries video parameter sets in-band, not the record: it is rebuilt from
        // them (README "Inputs"), so only the AC-3 configurations are compared. HEVC's keyframes
        // read back with the record's SEI (x265's) that the writer put in-band before them, as
        // FFmpeg's muxer and reader do: its audio alone is compared.
        let (again, _) = record(&format!("{name}-ts-again"), "mp4,flv", &[playlist], 0);
        let video = name.starts_with("h264");
        let source = without_video_record(source, video);
        for file in files(&again, "mp4").into_iter().chain(files(&again, "flv")) {
            let theirs = without_video_record(pyav::probe(&python, &file, true), video);
            pyav::assert_packet_exact(&source, &theirs, true, &file.display().to_string());
        }
    }
}

/// FFmpeg's MP4 reader does not hand a `vpcC` on as extradata: the box is compared with the
/// source's VP9 SequenceStart here, and left out of the FFmpeg comparison.
fn vpcc_written_as_sent(source: &mut serde_json::Value, dir: &Path, what: &str) {
    for s in source["streams"].as_array_mut().unwrap() {
        if s["codec_name"] != "vp9" {
            continue;
        }
        let sent = s["extradata"].as_str().unwrap().to_string();
        let mut boxes = Vec::new();
        for f in files_with(dir, "mp4", true) {
            let b = std::fs::read(&f).unwrap();
            let at = b.windows(4).position(|w| w == b"vpcC").expect("a vpcC box");
            let size = u32::from_be_bytes(b[at - 4..at].try_into().unwrap()) as usize;
            boxes.push(hex(&b[at + 4..at - 4 + size]));
        }
        assert!(!boxes.is_empty(), "{what}: no MP4 file holds the vpcC");
        for b in boxes {
            assert_eq!(b, sent, "{what}: vpcC");
        }
        s["extradata"] = serde_json::Value::String(String::new());
    }
}

/// A probe without the configuration bytes MPEG-TS does not carry: the video record (rebuilt
/// from in-band parameter sets) and AAC's AudioSpecificConfig (ADTS gives its first two bytes
/// only, README "Outputs"); with `keep_video` false, without its video streams.
fn without_video_record(mut probe: serde_json::Value, keep_video: bool) -> serde_json::Value {
    let streams = probe["streams"].as_array_mut().unwrap();
    streams.retain(|s| keep_video || s["type"] != "video");
    for s in streams {
        if s["type"] == "video" || s["codec_name"] == "aac" {
            s["extradata"] = serde_json::Value::String(String::new());
        }
    }
    probe
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Two AV1 + Opus pushes of one stream, 62 s apart, spliced into one file per format: per
/// track, the first push's packets then the second's, each push packet-exact with its own
/// offset; the HLS playlist (fMP4) marks the splice with one `EXT-X-DISCONTINUITY`.
#[test]
fn two_av1_opus_pushes_splice_packet_exact() {
    let Some(python) = pyav::pyav() else { return };
    let inputs: Vec<PathBuf> = show_av1_pushes().map(Path::to_path_buf).to_vec();
    let (dir, _) = record("show-av1", "flv,mp4,hls", &inputs, 0);
    let pushes: Vec<_> = inputs
        .iter()
        .map(|p| pyav::probe(&python, p, false))
        .collect();
    for ext in ["flv", "mp4", "m3u8"] {
        let out = files(&dir, ext);
        assert_eq!(out.len(), 1, "{out:?}");
        let stem = out[0].file_stem().unwrap().to_string_lossy().into_owned();
        assert_eq!(stem, "show-av1-1764072000-1764072064");
        let theirs = pyav::probe(&python, &out[0], true);
        assert_spliced(&pushes, &theirs, &out[0].display().to_string());
    }
    let playlist = std::fs::read_to_string(&files(&dir, "m3u8")[0]).unwrap();
    assert_eq!(
        playlist.matches("#EXT-X-DISCONTINUITY\n").count(),
        1,
        "{playlist}"
    );
    assert!(playlist.contains("#EXT-X-MAP:"), "{playlist}");
}

/// Asserts that `out` holds, per stream, the packets of each of `pushes` in turn, each push
/// packet-exact to its source.
pub fn assert_spliced(pushes: &[serde_json::Value], out: &serde_json::Value, what: &str) {
    let mut rest = out.clone();
    for (n, push) in pushes.iter().enumerate() {
        let mut part = rest.clone();
        for (i, s) in part["streams"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .enumerate()
        {
            let count = push["streams"][i]["packets"].as_array().unwrap().len();
            let packets = s["packets"].as_array_mut().unwrap();
            assert!(
                packets.len() >= count,
                "{what}: stream {i} ends in push {n}"
            );
            packets.truncate(count);
            let left = rest["streams"][i]["packets"].as_array_mut().unwrap();
            left.drain(..count);
        }
        pyav::assert_packet_exact(push, &part, true, &format!("{what}, push {n}"));
    }
    for s in rest["streams"].as_array().unwrap() {
        assert!(
            s["packets"].as_array().unwrap().is_empty(),
            "{what}: packets after the pushes"
        );
    }
}

/// The raw RTMP dumps of the same pushes (FFmpeg 8 publishing each fixture,
/// `scripts/gen-rtmp-dump.py --pyav`) record byte for byte what the FLV fixtures record, in
/// every format.
#[test]
fn raw_rtmp_dumps_record_what_the_flv_files_record() {
    let (from_flv, _) = record("all-flv", "flv,mp4,hls", &FIXTURES.map(fixture), 0);
    let dumps = FIXTURES.map(|n| testdata(&format!("ertmp/rtmp/{n}.rtmp")));
    let dir = scratch("ertmp-dumps");
    for dump in &dumps {
        let out = run_binary(
            env!("CARGO_BIN_EXE_kls-rec"),
            &[
                "record",
                "--quiet",
                "--formats",
                "flv,mp4,hls",
                "--start-time",
                "1764072000",
                "-o",
                dir.to_str().unwrap(),
                dump.to_str().unwrap(),
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (a, b) = (final_files(&from_flv), final_files(&dir));
    assert_eq!(a.len(), 32, "{a:#?}");
    assert_eq!(a, b);
}

/// A capture of those pushes (`scripts/gen-ertmp-capture.sh`) records the same bytes as each
/// push's raw dump given the capture's clock for it: the first `EXT-X-PROGRAM-DATE-TIME` of
/// the push's playlist, to the millisecond.
#[test]
fn a_capture_records_what_the_raw_dumps_record() {
    let files = capture_against_dumps("ertmp.pcap", CAPTURED);
    assert_eq!(files, 28);
    let files = capture_against_dumps("h264x2-aac.pcap", &["h264x2-aac"]);
    assert_eq!(files, 4);
}

/// Records `capture` and the raw dumps of its pushes `names`; asserts they give the same
/// files and returns how many.
fn capture_against_dumps(capture: &str, names: &[&str]) -> usize {
    let (from_capture, stderr) = record(
        &format!("capture-{capture}"),
        "flv,mp4,hls",
        &[testdata(&format!("ertmp/{capture}"))],
        0,
    );
    assert!(!stderr.contains("not recorded"), "{stderr}");
    let dir = scratch(&format!("ertmp-capture-dumps-{capture}"));
    for &name in names {
        let playlist = files(&from_capture.join(format!("record/live/{name}")), "m3u8");
        assert_eq!(playlist.len(), 1, "{name}: {playlist:?}");
        let text = std::fs::read_to_string(&playlist[0]).unwrap();
        let start = text
            .lines()
            .find_map(|l| l.strip_prefix("#EXT-X-PROGRAM-DATE-TIME:"))
            .expect("a program date-time");
        let dump = testdata(&format!("ertmp/rtmp/{name}.rtmp"));
        let out = run_binary(
            env!("CARGO_BIN_EXE_kls-rec"),
            &[
                "record",
                "--quiet",
                "--formats",
                "flv,mp4,hls",
                "--start-time",
                start,
                "-o",
                dir.to_str().unwrap(),
                dump.to_str().unwrap(),
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (a, b) = (final_files(&from_capture), final_files(&dir));
    assert_eq!(a, b);
    a.len()
}

/// `outMediainfo` of every MP4 and FLV recording says what FFmpeg 8's ffprobe says of the file:
/// codec names, sizes, rates and channels exactly; duration within 0.05 s; bit rates within 1 %.
#[test]
fn out_mediainfo_matches_ffmpeg8() {
    let Some(python) = pyav::pyav() else { return };
    for name in FIXTURES {
        let dir = scratch(&format!("ertmp-mi-{name}"));
        let out = run_binary(
            env!("CARGO_BIN_EXE_kls-rec"),
            &[
                "record",
                "--quiet",
                "--formats",
                "mp4,flv",
                "-o",
                dir.to_str().unwrap(),
                fixture(name).to_str().unwrap(),
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let mut checked = 0;
        for line in stdout.lines() {
            let cb: serde_json::Value = serde_json::from_str(line).unwrap();
            let item = &cb["details"]["items"][0];
            let Some(info) = item["outMediainfo"].as_str() else {
                continue;
            };
            let ours: serde_json::Value = serde_json::from_str(info).unwrap();
            let file = dir.join(item["dstpath"].as_str().unwrap());
            let theirs = pyav::probe(&python, &file, false)["ffprobe"].clone();
            if ["h264-2aac", "h264x2-aac"].contains(&name) {
                // Both audio (video) tracks are streams of the recording.
                assert_eq!(theirs["streams"].as_array().unwrap().len(), 3);
            }
            let what = format!("{name}: {}", file.display());
            assert_mediainfo_like_ffprobe(&ours, &theirs, &what);
            checked += 1;
        }
        assert_eq!(checked, 2, "{name}: {stdout}");
    }
}

/// `inspect --json` of every MP4 and FLV recording names codecs and profiles, and states sizes,
/// rates and channels, as FFmpeg 8's ffprobe does; and those MP4 recordings, read back as
/// inputs, record packet-exact again.
#[test]
fn inspect_names_what_ffmpeg8_names_and_mp4_recordings_read_back() {
    let Some(python) = pyav::pyav() else { return };
    for name in FIXTURES {
        let (dir, _) = record(&format!("{name}-inspect"), "mp4,flv", &[fixture(name)], 0);
        let source = pyav::probe(&python, &fixture(name), false);
        for file in files(&dir, "mp4").into_iter().chain(files(&dir, "flv")) {
            let out = run_binary(
                env!("CARGO_BIN_EXE_kls-rec"),
                &["inspect", "--json", file.to_str().unwrap()],
            );
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let ours: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let theirs = pyav::probe(&python, &file, false)["ffprobe"].clone();
            let what = format!("inspect {}", file.display());
            let (os, ts) = (&ours["streams"], &theirs["streams"]);
            assert_eq!(
                os.as_array().unwrap().len(),
                ts.as_array().unwrap().len(),
                "{what}"
            );
            for (o, t) in os.as_array().unwrap().iter().zip(ts.as_array().unwrap()) {
                for k in ["codec_name", "codec_type", "profile", "width", "height"] {
                    assert_eq!(o.get(k), t.get(k), "{what}: stream {}: {k}", t["index"]);
                }
                for k in ["sample_rate", "channels"] {
                    assert_eq!(o.get(k), t.get(k), "{what}: stream {}: {k}", t["index"]);
                }
            }
        }
        // The MP4 as an input: its own recordings equal the push, packet for packet.
        let mp4 = files(&dir, "mp4").remove(0);
        let (again, _) = record(&format!("{name}-again"), "mp4,flv", &[mp4], 0);
        for file in files(&again, "mp4").into_iter().chain(files(&again, "flv")) {
            let theirs = pyav::probe(&python, &file, true);
            let mut source = source.clone();
            if file.extension().is_some_and(|e| e == "mp4") {
                vpcc_written_as_sent(&mut source, &again, &file.display().to_string());
            }
            pyav::assert_packet_exact(&source, &theirs, true, &file.display().to_string());
        }
    }
}

/// A fixture to HLS in fMP4 segments: what `auto` chooses for all but H.264 + AAC, which is
/// asked for.
fn record_fmp4(name: &str) -> (PathBuf, String) {
    record_with(
        &format!("{name}-fmp4"),
        "hls",
        &["--hls-segments", "fmp4"],
        &[fixture(name)],
        0,
    )
}

/// kls-rec's own fMP4 HLS as an input: each fixture's playlist records to MP4 and FLV
/// packet-exact to the push; the spliced AV1 + Opus playlist (one `EXT-X-DISCONTINUITY`) gives
/// both pushes back, in `record` and in `splice`.
#[test]
fn fmp4_hls_recordings_read_back_packet_exact() {
    let Some(python) = pyav::pyav() else { return };
    for name in [
        "av1-opus",
        "vp9-flac",
        "hevc-ac3",
        "h264-eac3",
        "av1-aac",
        "h264-2aac",
        "h264x2-aac",
    ] {
        let (hls, _) = record_fmp4(name);
        assert!(!files(&hls, "m4s").is_empty(), "{name}: fMP4 segments");
        let playlist = files(&hls, "m3u8").remove(0);
        let (again, _) = record(&format!("{name}-fmp4-again"), "mp4,flv", &[playlist], 0);
        let source = pyav::probe(&python, &fixture(name), false);
        for file in files(&again, "mp4").into_iter().chain(files(&again, "flv")) {
            let theirs = pyav::probe(&python, &file, true);
            let mut source = source.clone();
            if file.extension().is_some_and(|e| e == "mp4") {
                vpcc_written_as_sent(&mut source, &again, &file.display().to_string());
            }
            pyav::assert_packet_exact(&source, &theirs, true, &file.display().to_string());
        }
    }
    let inputs: Vec<PathBuf> = show_av1_pushes().map(Path::to_path_buf).to_vec();
    let pushes: Vec<_> = inputs
        .iter()
        .map(|p| pyav::probe(&python, p, false))
        .collect();
    let (hls, _) = record("show-av1-fmp4", "hls", &inputs, 0);
    let playlist = files(&hls, "m3u8").remove(0);
    let (again, _) = record(
        "show-av1-fmp4-again",
        "flv",
        std::slice::from_ref(&playlist),
        0,
    );
    let flv = files(&again, "flv");
    assert_eq!(flv.len(), 1, "{flv:?}");
    let theirs = pyav::probe(&python, &flv[0], true);
    assert_spliced(&pushes, &theirs, "record of the spliced fMP4 playlist");

    let spliced = scratch("ertmp-fmp4-splice");
    let out = run_binary(
        env!("CARGO_BIN_EXE_kls-rec"),
        &[
            "splice",
            "--format",
            "mp4",
            "-o",
            spliced.to_str().unwrap(),
            playlist.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mp4 = files(&spliced, "mp4");
    assert_eq!(mp4.len(), 1, "{mp4:?}");
    let theirs = pyav::probe(&python, &mp4[0], true);
    assert_spliced(&pushes, &theirs, "splice of the spliced fMP4 playlist");
}

/// The push with two H.264 tracks: in MPEG-TS each a PID of its own ahead of the audio's
/// (0x100, 0x101, then AAC on 0x102, in that PMT order); in MP4 both video `trak`s in one
/// alternate group, only the first enabled; in FLV the second written as the push sent it, a
/// OneTrack Multitrack tag under its track id 1; `inspect` lists both.
#[test]
fn two_video_tracks_are_tracks_of_their_own() {
    let (dir, _) = record(
        "h264x2-aac-layout",
        "flv,mp4,hls",
        &[fixture("h264x2-aac")],
        0,
    );
    let ts = std::fs::read(&files(&dir, "ts")[0]).unwrap();
    let pmt = &ts[188..376];
    let at = |entry: [u8; 3]| pmt.windows(3).position(|w| w == entry);
    let (v0, v1, a) = (
        at([0x1B, 0xE1, 0x00]),
        at([0x1B, 0xE1, 0x01]),
        at([0x0F, 0xE1, 0x02]),
    );
    assert!(v0.is_some() && v0 < v1 && v1 < a, "PMT {v0:?} {v1:?} {a:?}");

    let mp4 = std::fs::read(&files(&dir, "mp4")[0]).unwrap();
    // tkhd (version 0): flags in bytes 1..4 after the type, alternate_group at 34..36.
    let tkhd: Vec<(u32, u16)> = mp4
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"tkhd")
        .map(|(i, _)| {
            let b = &mp4[i + 4..];
            assert_eq!(b[0], 0, "tkhd version");
            let flags = u32::from_be_bytes([0, b[1], b[2], b[3]]);
            (flags, u16::from_be_bytes([b[34], b[35]]))
        })
        .collect();
    assert_eq!(tkhd, [(3, 2), (2, 2), (3, 1)]);

    let flv = std::fs::read(&files(&dir, "flv")[0]).unwrap();
    let track1_start = [&[0x96, 0x00][..], b"avc1", &[1]].concat();
    assert!(
        flv.windows(7).any(|w| w == track1_start),
        "track 1 SequenceStart"
    );
    let out = run_binary(
        env!("CARGO_BIN_EXE_kls-rec"),
        &["inspect", files(&dir, "flv")[0].to_str().unwrap()],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("video track 1"), "{text}");
    assert!(text.contains("96x64"), "{text}");
}

//! End-to-end: `kls-rec record` on the committed packet capture (`testdata/capture/`, made by
//! `scripts/gen-capture.sh`): ffmpeg pushing `pushed.flv` twice to `rtmp://…/live/cam?vdoid=42`
//! with a ~5 s reconnect, captured on loopback, as pcap and as the pcapng built from it at test
//! time (`testutil::cam_pcapng`). Also the capture rewritten with segments reordered, duplicated
//! or dropped, to check reassembly.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::capture::{mangle, read_capture, runs, write_capture};
use kls_rec::testutil::{
    ProbePacket, assert_same_packets, cam_pcapng, have_ffprobe, of, probe_packets, recording_files,
    run_binary, scratch, testdata, with_ext,
};

/// Runs `kls-rec` without the caller's `KLS_REC_*` settings.
fn kls_rec(args: &[&str]) -> Output {
    run_binary(env!("CARGO_BIN_EXE_kls-rec"), args)
}

fn record(input: &Path, dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "record",
        "-o",
        dir.to_str().unwrap(),
        input.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    kls_rec(&args)
}

/// Relative path and bytes of every file under `dir`.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    recording_files(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p.strip_prefix(dir).unwrap().to_path_buf(), bytes)
        })
        .collect()
}

/// `got` holds `expected` `times` times over, each copy shifted by its own constant.
fn assert_repeats(expected: &[ProbePacket], got: &[ProbePacket], times: usize, kind: &str) {
    assert!(!expected.is_empty());
    assert_eq!(got.len(), expected.len() * times, "{kind}: packet count");
    for (copy, got) in got.chunks(expected.len()).enumerate() {
        assert_same_packets(expected, got, true, &format!("{kind} of push {copy}"));
    }
}

#[test]
fn both_pushes_spliced_into_one_file_with_the_pushed_packets() {
    let dir = scratch("e2e-capture-spliced");
    let out = record(
        &testdata("capture/cam.pcap"),
        &dir,
        &["--formats", "flv,hls"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let flv = with_ext(&dir, "flv");
    // The reconnect is well inside the 3 min splice window: one file.
    assert_eq!(flv.len(), 1, "{flv:?}");
    let name = flv[0].strip_prefix(&dir).unwrap().to_str().unwrap();
    assert!(name.starts_with("record/live/cam/flv/cam-"), "{name}");
    assert_eq!(with_ext(&dir, "m3u8").len(), 1);

    // The vdoid from the publish name's query reaches the callbacks.
    let callbacks: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let hls: Vec<_> = callbacks
        .iter()
        .filter(|c| c.get("mediaSize").is_some())
        .collect();
    assert_eq!(hls.len(), 1);
    assert_eq!(hls[0]["itmes"][0]["vdoid"], "42");

    if have_ffprobe() {
        let a = probe_packets(&testdata("capture/pushed.flv"));
        let b = probe_packets(&flv[0]);
        for kind in ["video", "audio"] {
            assert_repeats(&of(&a, kind), &of(&b, kind), 2, kind);
        }
    }
}

#[test]
fn a_small_splice_window_gives_one_file_per_push() {
    let dir = scratch("e2e-capture-two");
    let out = record(
        &testdata("capture/cam.pcap"),
        &dir,
        &["--formats", "flv", "--splice-window", "1s"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let flv = with_ext(&dir, "flv");
    assert_eq!(flv.len(), 2, "{flv:?}");
    if have_ffprobe() {
        let a = probe_packets(&testdata("capture/pushed.flv"));
        for f in &flv {
            let b = probe_packets(f);
            for kind in ["video", "audio"] {
                assert_repeats(&of(&a, kind), &of(&b, kind), 1, kind);
            }
        }
    }
}

#[test]
fn pcapng_and_pcap_give_the_same_files() {
    let (a, b) = (scratch("e2e-capture-pcap"), scratch("e2e-capture-pcapng"));
    let args = ["--formats", "flv,mp4,hls"];
    let out_a = record(&testdata("capture/cam.pcap"), &a, &args);
    let out_b = record(cam_pcapng(), &b, &args);
    assert!(out_a.status.success() && out_b.status.success());
    let (ta, tb) = (tree(&a), tree(&b));
    assert!(!ta.is_empty());
    assert!(ta == tb, "pcap and pcapng outputs differ");
}

#[test]
fn reordered_and_duplicated_segments_give_identical_files() {
    let (header, records) = read_capture(&testdata("capture/cam.pcap"));
    let (mangled, moved) = mangle(&records);
    assert!(moved > 500, "only {moved} segments could move");
    let dir = scratch("e2e-capture-shuffled");
    let path = dir.join("shuffled.pcap");
    write_capture(&path, &header, &mangled);

    let (a, b) = (dir.join("plain"), dir.join("shuffled"));
    let args = ["--formats", "flv,hls"];
    let out_a = record(&testdata("capture/cam.pcap"), &a, &args);
    let out_b = record(&path, &b, &args);
    assert!(out_a.status.success());
    assert!(
        out_b.status.success(),
        "{}",
        String::from_utf8_lossy(&out_b.stderr)
    );
    assert!(tree(&a) == tree(&b), "reordering changed the output");
}

#[test]
fn a_lost_segment_is_reported_by_capture_position_and_the_rest_recovered() {
    let (header, mut records) = read_capture(&testdata("capture/cam.pcap"));
    // A data segment of the first push, about a third of the way in.
    let first_run = runs(&records)
        .into_iter()
        .find(|r| r.len() > 100 && records[r.start].flow.1 == 19350)
        .expect("a long run of client segments");
    let victim = first_run.start + first_run.len() / 3;
    records.remove(victim);
    let dir = scratch("e2e-capture-lost");
    let path = dir.join("lost.pcap");
    write_capture(&path, &header, &records);

    let out_dir = dir.join("out");
    let out = record(&path, &out_dir, &["--formats", "flv"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    // The packet after the hole, numbered as in Wireshark (1-based), is the one named.
    let named = format!("capture packet #{} (", victim + 1);
    assert!(stderr.contains(&named), "{named} not in:\n{stderr}");
    assert!(
        stderr.contains("bytes missing from the capture"),
        "{stderr}"
    );

    let flv = with_ext(&out_dir, "flv");
    assert_eq!(flv.len(), 1, "{flv:?}");
    if have_ffprobe() {
        let a = probe_packets(&testdata("capture/pushed.flv"));
        let b = probe_packets(&flv[0]);
        for kind in ["video", "audio"] {
            let (a, b) = (of(&a, kind), of(&b, kind));
            // Lost: the message(s) the hole cut, and video up to the next keyframe at most.
            let lost = 2 * a.len() - b.len();
            assert!(lost <= 40, "{kind}: {lost} packets lost");
            // The second push is whole.
            let tail = &b[b.len() - a.len()..];
            assert!(
                a.iter().zip(tail).all(|(x, y)| x.hash == y.hash),
                "{kind}: second push damaged"
            );
        }
    }
}

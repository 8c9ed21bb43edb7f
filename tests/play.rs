//! End-to-end: what viewers received (`testdata/play/`, made by `scripts/gen-play-capture.sh`).
//! `edge.pcap` holds, on loopback, ffmpeg publishing `published.flv` as live/cam, an ffmpeg
//! player playing live/show from a listening ffmpeg that serves `published.flv`, curl fetching
//! `/live/hot.flv` (chunked, after a `crossdomain.xml` on the same keep-alive connection), and an
//! unrelated TCP connection; `show.rtmp` is the play's server-to-client bytes, `hot.curl` curl's
//! `-i` copy of the HTTP-FLV response, `play-client.pcap` the play's client-to-server packets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::capture::{mangle, read_capture, write_capture};
use kls_rec::input::pcap::{Delivery, scan};
use kls_rec::testutil::{
    assert_same_packets, have_ffprobe, of, probe_packets, run_binary, scratch, testdata, tree,
    with_ext,
};

fn kls_rec(args: &[&str]) -> Output {
    run_binary(env!("CARGO_BIN_EXE_kls-rec"), args)
}

fn record(inputs: &[PathBuf], dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "record",
        "--formats",
        "hls,mp4,flv",
        "-o",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    let out = kls_rec(&args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The capture time (Unix ms) of the first media of each push of `edge.pcap`, by stream.
fn capture_starts() -> BTreeMap<String, (Delivery, i64)> {
    scan(&testdata("play/edge.pcap"), "edge.pcap")
        .unwrap()
        .pushes
        .into_iter()
        .filter_map(|p| Some((p.name, (p.delivery, p.first_media_ms?))))
        .collect()
}

/// The files under `dir` of one stream (`record/live/{stream}/`).
fn stream_tree(dir: &Path, stream: &str) -> BTreeMap<PathBuf, Vec<u8>> {
    let prefix = PathBuf::from(format!("record/live/{stream}"));
    tree(dir)
        .into_iter()
        .filter(|(p, _)| p.starts_with(&prefix))
        .collect()
}

#[test]
fn a_play_and_an_http_flv_download_record_what_was_published() {
    let dir = scratch("play-edge");
    let out = record(
        &[testdata("play/edge.pcap")],
        &dir,
        &["--explain", "--json"],
    );
    let starts = capture_starts();
    assert_eq!(starts["cam"].0, Delivery::Published);
    assert_eq!(starts["show"].0, Delivery::Played);
    assert_eq!(starts["hot"].0, Delivery::HttpFlv);
    for stream in ["cam", "show", "hot"] {
        let flv = with_ext(&dir, "flv");
        let ours: Vec<_> = flv
            .iter()
            .filter(|p| p.to_str().unwrap().contains(&format!("/live/{stream}/")))
            .collect();
        assert_eq!(ours.len(), 1, "{stream}: {flv:?}");
        // Named by the play's stream key and the capture time of its first media.
        let second = starts[stream].1.div_euclid(1000);
        let name = ours[0].file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with(&format!("{stream}-{second}-")), "{name}");
    }
    // The played and downloaded FLVs are the published one's, byte for byte (an MP4 holds its
    // recording's times).
    let file_of = |stream: &str, ext: &str| {
        let path = with_ext(&dir, ext)
            .into_iter()
            .find(|p| p.to_str().unwrap().contains(&format!("/{stream}/")))
            .unwrap();
        std::fs::read(path).unwrap()
    };
    assert!(
        file_of("show", "flv") == file_of("cam", "flv"),
        "FLV of show"
    );
    assert!(file_of("hot", "flv") == file_of("cam", "flv"), "FLV of hot");

    let stderr = String::from_utf8_lossy(&out.stderr);
    for (stream, played) in [("cam", false), ("show", true), ("hot", true)] {
        let line = stderr
            .lines()
            .find(|l| l.starts_with(&format!("live/{stream}: push #0 from")))
            .unwrap_or_else(|| panic!("{stderr}"));
        assert_eq!(
            line.ends_with("(played: what a viewer received)"),
            played,
            "{line}"
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let played: Vec<bool> = summary["summary"]["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessions"][0]["played"] == true)
        .collect();
    assert_eq!(played.iter().filter(|p| **p).count(), 2, "{summary}");

    if have_ffprobe() {
        let published = probe_packets(&testdata("play/published.flv"));
        for file in with_ext(&dir, "flv").iter().chain(&with_ext(&dir, "mp4")) {
            let got = probe_packets(file);
            for kind in ["video", "audio"] {
                let what = format!("{} {kind}", file.display());
                assert_same_packets(&of(&published, kind), &of(&got, kind), true, &what);
            }
        }
        for playlist in with_ext(&dir, "m3u8") {
            let got = probe_packets(&playlist);
            for kind in ["video", "audio"] {
                let what = format!("{} {kind}", playlist.display());
                // MPEG-TS adds ADTS headers and parameter sets: timing and keys only.
                assert_same_packets(&of(&published, kind), &of(&got, kind), false, &what);
            }
        }
    }
}

#[test]
fn a_raw_server_dump_and_a_curl_copy_record_the_files_of_the_capture() {
    let starts = capture_starts();
    let dir = scratch("play-forms");
    let capture = dir.join("capture");
    let callbacks = record(&[testdata("play/edge.pcap")], &capture, &[]).stdout;
    let theirs = String::from_utf8_lossy(&callbacks);
    for (file, stream) in [("play/show.rtmp", "show"), ("play/hot.curl", "hot")] {
        let own = dir.join(stream);
        let start = starts[stream].1.to_string();
        let out = record(&[testdata(file)], &own, &["--start-time", &start]);
        let want = stream_tree(&capture, stream);
        assert!(!want.is_empty());
        assert!(
            stream_tree(&own, stream) == want,
            "{file}: the capture's files"
        );
        let got = String::from_utf8_lossy(&out.stdout);
        for line in got.lines() {
            assert!(theirs.contains(line), "{file}: callback {line}");
        }
    }
}

#[test]
fn inspect_lists_every_connection_with_its_direction_and_key() {
    let out = kls_rec(&["inspect", testdata("play/edge.pcap").to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let connections: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  connection #"))
        .collect();
    assert_eq!(connections.len(), 4, "{text}");
    for want in [
        "play \"show\"",
        "GET /live/hot.flv?token=abc HTTP/1.1",
        "RTMP publish of live/cam (published, client to server)",
        "RTMP play of live/show (played, server to client)",
        "HTTP-FLV download of live/hot (played, server to client)",
        "(TCP, neither RTMP nor HTTP)",
        "nothing recorded: it carries neither RTMP nor HTTP (client's first bytes \"PING\\r\\n\")",
    ] {
        assert!(text.contains(want), "{want:?} in\n{text}");
    }
    assert_eq!(
        text.matches("    played      what a viewer received")
            .count(),
        2
    );
}

#[test]
fn only_the_client_side_of_a_play_says_so_in_one_line() {
    let capture = testdata("play/play-client.pcap");
    let dir = scratch("play-client");
    for args in [
        vec![
            "record",
            "-o",
            dir.to_str().unwrap(),
            capture.to_str().unwrap(),
        ],
        vec!["inspect", capture.to_str().unwrap()],
    ] {
        let out = kls_rec(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(
            lines[0].contains(
                "nothing to record: the capture holds the client's side of a play of \"show\""
            ),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn inspect_says_a_server_dump_and_a_curl_copy_were_played() {
    for (file, label) in [
        ("play/show.rtmp", "  played      #0"),
        ("play/hot.curl", "HTTP-FLV response (headers kept)"),
    ] {
        let out = kls_rec(&["inspect", testdata(file).to_str().unwrap()]);
        assert!(out.status.success(), "{file}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(label), "{label:?} in\n{text}");
        assert!(
            text.contains("    played      what a viewer received"),
            "{text}"
        );
    }
}

#[test]
fn reordered_and_repeated_segments_of_both_directions_give_the_same_files() {
    let (header, records) = read_capture(&testdata("play/edge.pcap"));
    let (mangled, moved) = mangle(&records);
    assert!(moved > 100, "only {moved} segments could move");
    let dir = scratch("play-shuffled");
    let path = dir.join("shuffled.pcap");
    write_capture(&path, &header, &mangled);
    let (a, b) = (dir.join("plain"), dir.join("shuffled"));
    record(&[testdata("play/edge.pcap")], &a, &[]);
    record(&[path], &b, &[]);
    assert!(tree(&a) == tree(&b), "reordering changed the output");
}

//! The same pushes, captured three ways — a pcap, raw RTMP dumps of the client's bytes, a segment
//! log — give the same decisions and the same files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use kls_rec::input::pcap::flows::{Dir, FlowEvent};
use kls_rec::input::pcap::scan;
use kls_rec::input::pcap::stream::{Item, Pass};
use kls_rec::testutil::{run_binary, scratch, testdata, tree};

fn kls_rec(args: &[&str]) -> Output {
    let out = run_binary(env!("CARGO_BIN_EXE_kls-rec"), args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Each RTMP connection's client-to-server bytes, written as `cam-<first media ms>.rtmp`.
fn dumps(capture: &Path, dir: &Path) -> Vec<PathBuf> {
    let publishes = scan(capture, "capture").unwrap().pushes;
    let mut bytes: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut pass = Pass::open(capture, "capture", None).unwrap();
    while let Some(item) = pass.next_item().unwrap() {
        if let Item::Flow(FlowEvent::Data {
            conn,
            dir: Dir::ClientToServer,
            bytes: b,
            ..
        }) = item
        {
            bytes.entry(conn).or_default().extend_from_slice(&b);
        }
    }
    assert_eq!(bytes.len(), 2, "two connections: a push and its reconnect");
    bytes
        .into_iter()
        .map(|(conn, b)| {
            let p = publishes.iter().find(|p| p.conn == conn).unwrap();
            let path = dir.join(format!("cam-{}.rtmp", p.first_media_ms.unwrap()));
            std::fs::write(&path, b).unwrap();
            path
        })
        .collect()
}

#[test]
fn raw_dumps_of_the_client_bytes_give_the_capture_files() {
    let capture = testdata("capture/cam.pcap");
    let work = scratch("equiv-dumps");
    let dumps = dumps(&capture, &work);
    let (a, b) = (work.join("from-capture"), work.join("from-dumps"));
    let x = kls_rec(&[
        "record",
        "--formats",
        "hls,mp4,flv",
        "-o",
        a.to_str().unwrap(),
        capture.to_str().unwrap(),
    ]);
    let mut args = vec![
        "record",
        "--formats",
        "hls,mp4,flv",
        "-o",
        b.to_str().unwrap(),
    ];
    args.extend(dumps.iter().map(|p| p.to_str().unwrap()));
    let y = kls_rec(&args);
    assert_eq!(x.stdout, y.stdout, "the same callbacks");
    let (ta, tb) = (tree(&a), tree(&b));
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    assert!(ta == tb, "byte-identical files");

    // One dump timed by --start-time instead of its name gives that push's file.
    let first = &dumps[0];
    let ms = first
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .trim_start_matches("cam-")
        .to_string();
    let renamed = work.join("push.rtmp");
    std::fs::copy(first, &renamed).unwrap();
    let (c, d) = (work.join("by-name"), work.join("by-flag"));
    kls_rec(&[
        "record",
        "--formats",
        "flv",
        "-o",
        c.to_str().unwrap(),
        first.to_str().unwrap(),
    ]);
    kls_rec(&[
        "record",
        "--formats",
        "flv",
        "--start-time",
        &ms,
        "-o",
        d.to_str().unwrap(),
        renamed.to_str().unwrap(),
    ]);
    let (tc, td) = (tree(&c), tree(&d));
    assert_eq!(tc.len(), 1);
    assert!(
        tc.values().eq(td.values()),
        "--start-time times a dump as its name does"
    );
}

#[test]
fn a_json_lines_log_of_the_pushes_decides_like_the_capture() {
    let capture = testdata("capture/cam.pcap");
    let log = testdata("capture/cam.jsonl");
    for window in ["3m", "1s"] {
        let x = kls_rec(&[
            "record",
            "--dry-run",
            "--formats",
            "hls,mp4,flv",
            "--splice-window",
            window,
            capture.to_str().unwrap(),
        ]);
        let y = kls_rec(&[
            "record",
            "--dry-run",
            "--formats",
            "hls,mp4,flv",
            "--splice-window",
            window,
            log.to_str().unwrap(),
        ]);
        assert_eq!(
            String::from_utf8_lossy(&x.stdout),
            String::from_utf8_lossy(&y.stdout),
            "window {window}"
        );
        let files = String::from_utf8_lossy(&x.stdout).lines().count();
        assert_eq!(files, if window == "3m" { 3 } else { 6 });
    }
}

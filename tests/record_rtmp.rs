//! End-to-end: `kls-rec record` on a raw RTMP dump of ffmpeg publishing a committed FLV fixture
//! (`testdata/rtmp/`, made by `scripts/gen-rtmp-dump.py`), checked with ffprobe against the FLV.

use std::path::{Path, PathBuf};
use std::process::Output;

use kls_rec::testutil::{ProbePacket, have_ffprobe, probe_packets, run_binary, scratch, testdata};

fn kls_rec(args: &[&str]) -> Output {
    run_binary(env!("CARGO_BIN_EXE_kls-rec"), args)
}

/// Every file under `dir` with the extension, sorted by name.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

fn of(packets: &[ProbePacket], kind: &str) -> Vec<ProbePacket> {
    packets
        .iter()
        .filter(|p| p.codec_type == kind)
        .cloned()
        .collect()
}

#[test]
fn records_an_ffmpeg_publish_dump_to_flv_with_the_fixture_packets() {
    let dir = scratch("e2e-rtmp-dump");
    let dump = testdata("rtmp/show-1764075600.rtmp");
    let out = kls_rec(&[
        "record",
        "-o",
        dir.to_str().unwrap(),
        dump.to_str().unwrap(),
        "--start-time",
        "1764075600",
        "--formats",
        "flv,hls",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    let produced = files(&dir, "flv");
    assert_eq!(produced.len(), 1);
    // The key comes from the dump's connect and publish: app `live`, stream `show`.
    let name = produced[0].strip_prefix(&dir).unwrap().to_str().unwrap();
    assert_eq!(name, "record/live/show/flv/show-1764075600-1764075610.flv");
    // The vdoid from the publish name's query reaches the HLS callback.
    let hls: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|cb: &serde_json::Value| cb.get("mediaSize").is_some())
        .collect();
    assert_eq!(hls.len(), 1);
    assert_eq!(hls[0]["itmes"][0]["vdoid"], "demo42");

    if have_ffprobe() {
        let a = probe_packets(&testdata("push/show-1764075600.flv"));
        let b = probe_packets(&produced[0]);
        for kind in ["video", "audio"] {
            let (a, b) = (of(&a, kind), of(&b, kind));
            assert_eq!(a.len(), b.len(), "{kind}: packet count");
            assert!(!a.is_empty());
            let shift = b[0].dts_ms.unwrap() - a[0].dts_ms.unwrap();
            for (i, (x, y)) in a.iter().zip(&b).enumerate() {
                assert_eq!(
                    (x.size, &x.hash, x.keyframe),
                    (y.size, &y.hash, y.keyframe),
                    "{kind} packet {i}"
                );
                assert_eq!(
                    y.dts_ms.unwrap() - x.dts_ms.unwrap(),
                    shift,
                    "{kind} {i} dts"
                );
                assert_eq!(
                    y.pts_ms.unwrap() - x.pts_ms.unwrap(),
                    shift,
                    "{kind} {i} pts"
                );
            }
        }
    }
}

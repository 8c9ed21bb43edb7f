//! `kls-rec splice`: recordings of one stream joined into one file.

use std::path::{Path, PathBuf};
use std::process::Output;

use kls_rec::testutil::{
    ProbePacket, have_ffprobe, of, probe_packets, recording_files, run_binary, scratch, testdata,
    with_ext,
};

fn kls_rec(args: &[&str]) -> Output {
    run_binary(env!("CARGO_BIN_EXE_kls-rec"), args)
}

/// Slices of the 30 s sample, 10 s each, in every format.
fn slices(name: &str) -> PathBuf {
    let dir = scratch(&format!("splice-slices-{name}"));
    let input = testdata("studio-1764072000.flv");
    let out = kls_rec(&[
        "record",
        "--slice",
        "10s",
        "--formats",
        "hls,mp4,flv",
        "-q",
        "-o",
        dir.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// The joined file carries the parts' packets in order (payloads, keyframes), each part's
/// timestamps shifted by one constant, and the joined timeline never goes backwards.
fn assert_joined(parts: &[PathBuf], joined: &Path, payloads: bool) {
    let got = probe_packets(joined);
    for kind in ["video", "audio"] {
        let want: Vec<ProbePacket> = parts
            .iter()
            .flat_map(|p| of(&probe_packets(p), kind))
            .collect();
        let got = of(&got, kind);
        assert_eq!(want.len(), got.len(), "{kind}: count");
        for (i, (a, b)) in want.iter().zip(&got).enumerate() {
            assert_eq!(a.keyframe, b.keyframe, "{kind} {i}");
            if payloads {
                assert_eq!((a.size, &a.hash), (b.size, &b.hash), "{kind} {i}");
            }
        }
        assert!(
            got.windows(2).all(|w| w[0].dts_ms <= w[1].dts_ms),
            "{kind}: monotonic"
        );
        // Within each part, the shift is constant.
        let mut at = 0;
        for p in parts {
            let n = of(&probe_packets(p), kind).len();
            let shift = got[at].dts_ms.unwrap() - want[at].dts_ms.unwrap();
            for i in at..at + n {
                assert_eq!(
                    got[i].dts_ms.unwrap() - want[i].dts_ms.unwrap(),
                    shift,
                    "{kind} {i} dts"
                );
                assert_eq!(
                    got[i].pts_ms.unwrap() - want[i].pts_ms.unwrap(),
                    shift,
                    "{kind} {i} pts"
                );
            }
            at += n;
        }
    }
}

#[test]
fn two_flv_slices_into_mp4() {
    let dir = slices("flv");
    let flvs = with_ext(&dir, "flv");
    let parts = [flvs[0].clone(), flvs[1].clone()];
    let out_dir = scratch("splice-flv-mp4");
    // Given in reverse: the names' start times order them.
    let out = kls_rec(&[
        "splice",
        "-o",
        out_dir.to_str().unwrap(),
        parts[1].to_str().unwrap(),
        parts[0].to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mp4 = with_ext(&out_dir, "mp4");
    assert_eq!(mp4.len(), 1);
    assert_eq!(
        mp4[0].strip_prefix(&out_dir).unwrap(),
        Path::new("record/live/studio/mp4/studio-1764072000-1764072020.mp4")
    );
    let cb: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cb["type"], "avtrans");
    if have_ffprobe() {
        assert_joined(&parts, &mp4[0], true);
    }
}

#[test]
fn hls_playlists_into_mp4_and_flv() {
    let dir = slices("hls");
    let playlists = with_ext(&dir, "m3u8");
    let flvs = with_ext(&dir, "flv");
    for format in ["mp4", "flv"] {
        let out_dir = scratch(&format!("splice-hls-{format}"));
        let out = kls_rec(&[
            "splice",
            "--format",
            format,
            "-o",
            out_dir.to_str().unwrap(),
            playlists[0].to_str().unwrap(),
            playlists[1].to_str().unwrap(),
            playlists[2].to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let joined = with_ext(&out_dir, format);
        assert_eq!(joined.len(), 1);
        assert!(joined[0].ends_with(format!("studio-1764072000-1764072030.{format}")));
        if have_ffprobe() {
            // The HLS slices carry the FLV slices' packets: the join equals their concatenation.
            assert_joined(&flvs, &joined[0], true);
        }
    }
}

#[test]
fn different_configurations_are_refused_naming_the_fields() {
    let out_dir = scratch("splice-refused");
    let cases = [
        (
            testdata("studio-1764072000.flv"),
            testdata("reschange-1764072000.flv"),
            "resolution 320x240 vs 256x144",
        ),
        (
            testdata("studio-1764072000.flv"),
            testdata("silent-1764072000.flv"),
            "audio track present",
        ),
        (
            testdata("radio-1764072000.flv"),
            testdata("mp3-1764072000.flv"),
            "audio codec",
        ),
    ];
    for (a, b, field) in cases {
        let out = kls_rec(&[
            "splice",
            "--stream",
            "x",
            "-o",
            out_dir.to_str().unwrap(),
            a.to_str().unwrap(),
            b.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(field), "{field}: {err}");
        assert!(recording_files(&out_dir).is_empty(), "nothing written");
    }
    // Files of different streams need a name for the result.
    let out = kls_rec(&[
        "splice",
        "-o",
        out_dir.to_str().unwrap(),
        testdata("studio-1764072000.flv").to_str().unwrap(),
        testdata("radio-1764072000.flv").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("different streams"));
}

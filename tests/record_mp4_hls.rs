//! End-to-end: `kls-rec record` to MP4 and HLS, checked with ffprobe and ffmpeg.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kls_rec::testutil::{
    assert_decodes_cleanly, assert_same_packets, have_ffprobe, of, probe_packets, recording_files,
    scratch, testdata, with_ext,
};

fn record(out_dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_kls-rec"))
        .args(["record", "-o", out_dir.to_str().unwrap()])
        .args(args)
        .output()
        .expect("running kls-rec");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn files(dir: &Path) -> Vec<PathBuf> {
    recording_files(dir)
}

#[test]
fn mp4_and_hls_carry_the_input_packets() {
    if !have_ffprobe() {
        return;
    }
    for sample in [
        "studio-1764072000.flv",
        "radio-1764072000.flv",
        "silent-1764072000.flv",
    ] {
        let dir = scratch(&format!("e2e-mh-{sample}"));
        let input = testdata(sample);
        record(&dir, &[input.to_str().unwrap(), "--formats", "hls,mp4,flv"]);
        let a = probe_packets(&input);
        let mp4 = &with_ext(&dir, "mp4")[0];
        let m3u8 = &with_ext(&dir, "m3u8")[0];
        let (m, h) = (probe_packets(mp4), probe_packets(m3u8));
        for kind in ["video", "audio"] {
            assert_same_packets(
                &of(&a, kind),
                &of(&m, kind),
                true,
                &format!("{sample} mp4 {kind}"),
            );
            // TS payloads carry ADTS headers, AUDs and parameter sets: the muxer's unit tests
            // compare them after stripping; here timing and keyframes.
            assert_same_packets(
                &of(&a, kind),
                &of(&h, kind),
                false,
                &format!("{sample} hls {kind}"),
            );
        }
        for f in with_ext(&dir, "mp4")
            .iter()
            .chain(&with_ext(&dir, "m3u8"))
            .chain(&with_ext(&dir, "flv"))
        {
            assert_decodes_cleanly(f);
        }
    }
}

#[test]
fn three_push_playlist_marks_the_splice_and_keeps_wall_clocks() {
    let dir = scratch("e2e-push-hls");
    let pushes: Vec<String> = [
        "show-1764075600.flv",
        "show-1764075670.flv",
        "show-1764075980.flv",
    ]
    .iter()
    .map(|n| testdata("push").join(n).to_str().unwrap().to_string())
    .collect();
    let mut args: Vec<&str> = pushes.iter().map(|s| s.as_str()).collect();
    args.extend(["--formats", "hls"]);
    let out = record(&dir, &args);
    let playlists = with_ext(&dir, "m3u8");
    assert_eq!(playlists.len(), 2);
    let spliced = std::fs::read_to_string(&playlists[0]).unwrap();
    assert_eq!(
        spliced.matches("#EXT-X-DISCONTINUITY\n").count(),
        1,
        "{spliced}"
    );
    let pdt: Vec<&str> = spliced
        .lines()
        .filter_map(|l| l.strip_prefix("#EXT-X-PROGRAM-DATE-TIME:"))
        .collect();
    // 1764075600 = 2025-11-25T13:00:00Z; the second push starts 70 s later.
    assert_eq!(pdt.first(), Some(&"2025-11-25T13:00:00.000Z"), "{spliced}");
    let after_discontinuity = spliced.split("#EXT-X-DISCONTINUITY\n").nth(1).unwrap();
    assert!(
        after_discontinuity.starts_with("#EXT-X-PROGRAM-DATE-TIME:2025-11-25T13:01:10.000Z"),
        "{after_discontinuity}"
    );
    for line in [
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-ENDLIST",
        "#EXT-X-VERSION:3",
    ] {
        assert!(spliced.contains(line), "{line}");
    }
    // The HLS callback counts the playlist and its segments.
    let cb: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    let total: u64 = files(&dir)
        .iter()
        .filter(|p| p.starts_with(playlists[0].parent().unwrap()))
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with("show-1764075600-")
        })
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert_eq!(cb["mediaSize"], total);
    if have_ffprobe() {
        assert_decodes_cleanly(&playlists[0]);
    }
}

#[test]
fn the_same_command_twice_gives_byte_identical_files() {
    let input = testdata("studio-1764072000.flv");
    let args = [
        input.to_str().unwrap(),
        "--formats",
        "hls,mp4,flv",
        "--slice",
        "10s",
    ];
    let (a, b) = (scratch("e2e-det-a"), scratch("e2e-det-b"));
    let out_a = record(&a, &args);
    let out_b = record(&b, &args);
    assert_eq!(out_a.stdout, out_b.stdout, "callbacks identical");
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.len(), fb.len());
    assert_eq!(
        fa.len(),
        3 * 3 + 3,
        "3 slices × (mp4, flv, m3u8) + one segment each: {fa:?}"
    );
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(x.strip_prefix(&a).unwrap(), y.strip_prefix(&b).unwrap());
        assert!(
            std::fs::read(x).unwrap() == std::fs::read(y).unwrap(),
            "{}",
            x.display()
        );
    }
    // A re-run into the same root finds identical files and leaves them alone.
    let again = record(&a, &args);
    assert_eq!(again.stdout, out_a.stdout);
    assert_eq!(files(&a), fa);
}

//! End-to-end: HEVC in both FLV conventions (CodecID 12, Enhanced RTMP `hvc1`) and MP3.

use std::path::{Path, PathBuf};
use std::process::Command;

use kls_rec::testutil::{
    assert_decodes_cleanly, assert_same_packets, have_ffprobe, of, probe_packets, scratch, testdata,
};

fn record(out_dir: &Path, args: &[&str]) {
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
}

fn find(dir: &Path, ext: &str) -> PathBuf {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext)
                && !p.to_string_lossy().ends_with("-init.mp4")
            {
                return p;
            }
        }
    }
    panic!("no .{ext} under {}", dir.display());
}

#[test]
fn hevc_in_both_flv_conventions_gives_the_source_packets() {
    let source = testdata("hevc/source.mp4");
    let mut mp4s = Vec::new();
    for name in ["cdn-1764072000.flv", "ertmp-1764072000.flv"] {
        let dir = scratch(&format!("e2e-hevc-{name}"));
        record(
            &dir,
            &[
                testdata("hevc").join(name).to_str().unwrap(),
                "--formats",
                "hls,mp4,flv",
            ],
        );
        let (mp4, m3u8, flv) = (find(&dir, "mp4"), find(&dir, "m3u8"), find(&dir, "flv"));
        mp4s.push(std::fs::read(&mp4).unwrap());

        // Our FLV keeps the source's signalling: reading it back gives the same MP4 bytes.
        let again = scratch(&format!("e2e-hevc-again-{name}"));
        record(&again, &[flv.to_str().unwrap(), "--formats", "mp4"]);
        assert!(
            std::fs::read(find(&again, "mp4")).unwrap() == *mp4s.last().unwrap(),
            "{name}"
        );
        let flv_bytes = std::fs::read(&flv).unwrap();
        let first_video_tag = 13
            + 11
            + u32::from_be_bytes([0, flv_bytes[14], flv_bytes[15], flv_bytes[16]]) as usize
            + 4;
        let video_flags = flv_bytes[first_video_tag + 11];
        if name.starts_with("ertmp") {
            assert_eq!(video_flags & 0x80, 0x80, "Enhanced RTMP kept");
            assert_eq!(
                &flv_bytes[first_video_tag + 12..first_video_tag + 16],
                b"hvc1"
            );
        } else {
            assert_eq!(video_flags & 0x0F, 12, "CodecID 12 kept");
        }

        if have_ffprobe() {
            let a = probe_packets(&source);
            let (m, h) = (probe_packets(&mp4), probe_packets(&m3u8));
            for kind in ["video", "audio"] {
                assert_same_packets(
                    &of(&a, kind),
                    &of(&m, kind),
                    true,
                    &format!("{name} mp4 {kind}"),
                );
                assert_same_packets(
                    &of(&a, kind),
                    &of(&h, kind),
                    false,
                    &format!("{name} hls {kind}"),
                );
            }
            assert_decodes_cleanly(&mp4);
            assert_decodes_cleanly(&m3u8);
        }
    }
    assert!(mp4s[0] == mp4s[1], "both conventions carry the same media");
}

#[test]
fn mp3_audio_is_carried() {
    let input = testdata("mp3-1764072000.flv");
    let dir = scratch("e2e-mp3");
    record(&dir, &[input.to_str().unwrap(), "--formats", "hls,mp4,flv"]);
    if !have_ffprobe() {
        return;
    }
    let a = probe_packets(&input);
    for ext in ["flv", "mp4"] {
        let out = find(&dir, ext);
        let b = probe_packets(&out);
        for kind in ["video", "audio"] {
            assert_same_packets(
                &of(&a, kind),
                &of(&b, kind),
                true,
                &format!("mp3 {ext} {kind}"),
            );
        }
        assert_decodes_cleanly(&out);
    }
    let m3u8 = find(&dir, "m3u8");
    let h = probe_packets(&m3u8);
    for kind in ["video", "audio"] {
        // MP3 frames travel in TS as they are; video gains AUDs and parameter sets.
        let payloads = kind == "audio";
        assert_same_packets(
            &of(&a, kind),
            &of(&h, kind),
            payloads,
            &format!("mp3 hls {kind}"),
        );
    }
    assert_decodes_cleanly(&m3u8);
}

//! End-to-end: transport streams whose video PES boundaries fall inside access units and NAL
//! units (as Apple's mediafilesegmenter writes them; `scripts/gen-ts-repack.py`) record to
//! HLS, MP4 and FLV with the source's packets, as ffprobe reads the source.

use std::path::{Path, PathBuf};
use std::process::Command;

use kls_rec::testutil::{
    ProbePacket, assert_decodes_cleanly, assert_same_packets, have_ffprobe, of, probe_packets,
    run_binary, scratch, testdata, with_ext,
};

/// (re-packetised input, the ffmpeg-written source it was made from, codec).
const INPUTS: [(&str, &str, &str); 3] = [
    ("ts/appleh264-1764072000.ts", "ts/src-h264.ts", "h264"),
    ("ts/applehevc-1764072000.ts", "ts/src-hevc.ts", "hevc"),
    (
        "ts/applehls/applehls-1764072000.m3u8",
        "ts/src-h264.ts",
        "h264",
    ),
];

fn record(out: &Path, input: &Path, formats: &str) {
    let o = run_binary(
        env!("CARGO_BIN_EXE_kls-rec"),
        &[
            "record",
            "-o",
            out.to_str().unwrap(),
            input.to_str().unwrap(),
            "--formats",
            formats,
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The source's packets as MP4 samples: ffmpeg's remux of the source with the access unit
/// delimiters and parameter sets taken out of the video (they are in the sample entry, as
/// kls-rec writes them).
fn source_samples(dir: &Path, source: &Path, codec: &str) -> Vec<ProbePacket> {
    let out = dir.join("source.mp4");
    let types = match codec {
        "h264" => "7|8|9",
        _ => "32|33|34|35",
    };
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(source)
        .args(["-c", "copy", "-bsf:v"])
        .arg(format!("filter_units=remove_types={types}"))
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "ffmpeg remux of {}", source.display());
    probe_packets(&out)
}

fn only(files: Vec<PathBuf>, what: &str) -> PathBuf {
    assert_eq!(files.len(), 1, "{what}: {files:?}");
    files.into_iter().next().unwrap()
}

/// A recording read back by kls-rec into an MP4 (that decodes cleanly), as ffprobe reads it.
fn read_back(dir: &Path, recording: &Path, what: &str) -> Vec<ProbePacket> {
    let again = dir.join(format!("again-{what}"));
    record(&again, recording, "mp4");
    let back = only(with_ext(&again, "mp4"), what);
    assert_decodes_cleanly(&back);
    probe_packets(&back)
}

/// Audio is untouched by the re-packetising; its times are derived from frame durations where
/// a PES holds several frames, so they may round to another ms: counts, and MP4/FLV payloads.
fn assert_same_audio(
    src: &[ProbePacket],
    samples: &[ProbePacket],
    outs: [(&[ProbePacket], bool, &str); 3],
) {
    let hashes = |p: &[ProbePacket]| p.iter().map(|p| p.hash.clone()).collect::<Vec<_>>();
    for (out, payloads, what) in outs {
        let out = of(out, "audio");
        assert_eq!(out.len(), of(src, "audio").len(), "{what} audio packets");
        if payloads {
            assert!(
                hashes(&out) == hashes(&of(samples, "audio")),
                "{what} audio payloads"
            );
        }
    }
}

#[test]
fn repacketised_ts_records_packet_exact_and_decodes_cleanly() {
    if !have_ffprobe() {
        return;
    }
    for (input, source, codec) in INPUTS {
        let (input, source) = (testdata(input), testdata(source));
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        let dir = scratch(&format!("e2e-tsau-{name}"));
        let src = probe_packets(&source);
        // ffprobe rebuilds access units with its parser: the re-packetised input reads as the
        // source does, so the source's packets are the reference.
        assert_eq!(
            of(&probe_packets(&input), "video"),
            of(&src, "video"),
            "{name}: ffprobe's reading"
        );
        let samples = source_samples(&dir, &source, codec);
        let out = dir.join("out");
        record(&out, &input, "hls,mp4,flv");
        let mp4 = only(with_ext(&out, "mp4"), &name);
        let m3u8 = only(with_ext(&out, "m3u8"), &name);
        let flv = only(with_ext(&out, "flv"), &name);
        let (m, h) = (probe_packets(&mp4), probe_packets(&m3u8));
        // ffprobe 5.1 does not read HEVC in FLV: that FLV is read back by kls-rec.
        let f = match codec {
            "h264" => probe_packets(&flv),
            _ => read_back(&dir, &flv, &format!("{name}-flv")),
        };
        let (want, video) = (of(&src, "video"), of(&samples, "video"));
        assert!(!want.is_empty(), "{name}: video in the source");
        assert_same_packets(&video, &of(&m, "video"), true, &format!("{name} mp4"));
        assert_same_packets(&video, &of(&f, "video"), true, &format!("{name} flv"));
        // The TS carries delimiters and parameter sets as kls-rec writes them: times and key
        // flags against the source's packets, payloads read back (the writer's start codes
        // differ from the source's).
        assert_same_packets(&want, &of(&h, "video"), false, &format!("{name} hls"));
        let back = read_back(&dir, &m3u8, &format!("{name}-hls"));
        assert_same_packets(
            &video,
            &of(&back, "video"),
            true,
            &format!("{name} hls back"),
        );
        assert_same_audio(
            &src,
            &samples,
            [(&m, true, "mp4"), (&f, true, "flv"), (&h, false, "hls")],
        );
        assert_decodes_cleanly(&mp4);
        assert_decodes_cleanly(&m3u8);
        if codec == "h264" {
            assert_decodes_cleanly(&flv);
        }
    }
}

#[test]
fn access_units_without_timestamps_are_timed_as_ffmpeg_remuxes_them() {
    if !have_ffprobe() {
        return;
    }
    let input = testdata("ts/appleuntimed-1764072000.ts");
    let dir = scratch("e2e-tsau-untimed");
    // ffprobe gives the units that start in PES without PTS/DTS no times; ffmpeg's remux the
    // previous DTS plus the last step, presented at that DTS.
    let untimed = of(&probe_packets(&input), "video")
        .iter()
        .filter(|p| p.dts_ms.is_none())
        .count();
    assert_eq!(untimed, 3);
    let reference = of(&source_samples(&dir, &input, "h264"), "video");
    let out = dir.join("out");
    let o = run_binary(
        env!("CARGO_BIN_EXE_kls-rec"),
        &[
            "record",
            "-o",
            out.to_str().unwrap(),
            input.to_str().unwrap(),
            "--formats",
            "hls,mp4,flv",
        ],
    );
    // Reported as damage: exit status 3.
    assert_eq!(o.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        stderr.matches("without a PTS of its own").count(),
        1,
        "{stderr}"
    );
    for ext in ["mp4", "flv"] {
        let f = only(with_ext(&out, ext), ext);
        assert_same_packets(&reference, &of(&probe_packets(&f), "video"), true, ext);
        assert_decodes_cleanly(&f);
    }
    let m3u8 = only(with_ext(&out, "m3u8"), "hls");
    assert_same_packets(
        &reference,
        &of(&probe_packets(&m3u8), "video"),
        false,
        "hls",
    );
    assert_decodes_cleanly(&m3u8);
}

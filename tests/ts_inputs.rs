//! End-to-end MPEG-TS inputs, against ffprobe's reading of the source:
//! - transport streams whose video PES boundaries fall inside access units and NAL units (as
//!   Apple's mediafilesegmenter writes them; `scripts/gen-ts-repack.py`) record to HLS, MP4 and
//!   FLV with the source's packets;
//! - programs with more than one video stream (`scripts/gen-ts-tracks.sh`): every video PID is
//!   a track of its own, numbered in PMT order among the video PIDs whatever the audio's place
//!   between them; each records to MP4 and MPEG-TS HLS with its source packets, and the HLS
//!   reads back the same. A PID the PMT lists that carries no frame gives its place to the next.

use std::path::{Path, PathBuf};
use std::process::Command;

use kls_rec::testutil::{
    ProbePacket, assert_decodes_cleanly, assert_same_packets, have_ffprobe, of, probe_json,
    probe_packets, probe_stream_packets, run_binary, scratch, testdata, with_ext,
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

/// The source's packets as MP4 samples: [`ffmpeg_samples`] of its default streams.
fn source_samples(dir: &Path, source: &Path, codec: &str) -> Vec<ProbePacket> {
    probe_packets(&ffmpeg_samples(dir, source, codec, &[]))
}

/// ffmpeg's own remux to MP4 of the source's `maps` (its default streams with none), with the
/// access unit delimiters and parameter sets taken out of the video (they are in the sample
/// entry, as kls-rec writes them): the samples to expect.
fn ffmpeg_samples(dir: &Path, source: &Path, codec: &str, maps: &[&str]) -> PathBuf {
    let out = dir.join("source.mp4");
    let types = match codec {
        "h264" => "7|8|9",
        _ => "32|33|34|35",
    };
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(source)
        .args(maps.iter().flat_map(|m| ["-map", m]))
        .args(["-c", "copy", "-bsf:v"])
        .arg(format!("filter_units=remove_types={types}"))
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "ffmpeg remux of {}", source.display());
    out
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

fn stream(path: &Path, spec: &str) -> Vec<ProbePacket> {
    probe_stream_packets(path, Some(spec))
}

/// Audio times come from frame durations where a PES holds several AAC frames (ffmpeg's
/// muxer), so they may round to another millisecond than ffmpeg's: count and payloads.
fn assert_same_audio_payloads(a: &[ProbePacket], b: &[ProbePacket], what: &str) {
    let payloads = |p: &[ProbePacket]| {
        p.iter()
            .map(|p| (p.size, p.hash.clone()))
            .collect::<Vec<_>>()
    };
    assert!(!a.is_empty(), "{what}: audio in the source");
    assert!(payloads(a) == payloads(b), "{what}: audio payloads");
}

/// How many streams of a kind (`v`, `a`) ffprobe lists.
fn stream_count(path: &Path, kind: &str) -> usize {
    probe_json(path, &["-select_streams", kind])["streams"]
        .as_array()
        .map_or(0, Vec::len)
}

#[test]
fn every_video_pid_records_as_a_track_of_its_own() {
    if !have_ffprobe() {
        return;
    }
    let source = testdata("ts/tracks/twovideo-1764072000.ts");
    let dir = scratch("e2e-ts-two-video");
    let want = ffmpeg_samples(&dir, &source, "h264", &["0"]);
    let out = dir.join("out");
    record(&out, &source, "mp4,hls");
    let mp4 = only(with_ext(&out, "mp4"), "mp4");
    let m3u8 = only(with_ext(&out, "m3u8"), "m3u8");
    let again = dir.join("again");
    record(&again, &m3u8, "mp4");
    let back = only(with_ext(&again, "mp4"), "hls read back");
    for (file, what) in [(&mp4, "mp4"), (&back, "hls read back")] {
        assert_eq!(stream_count(file, "v"), 2, "{what}: video streams");
        assert_eq!(stream_count(file, "a"), 1, "{what}: audio streams");
        for spec in ["v:0", "v:1"] {
            let (a, b) = (stream(&want, spec), stream(file, spec));
            assert!(!a.is_empty(), "{spec}: packets in the source");
            assert_same_packets(&a, &b, true, &format!("{what} {spec}"));
        }
        assert_same_audio_payloads(&stream(&want, "a:0"), &stream(file, "a:0"), what);
        assert_decodes_cleanly(file);
    }
    // The TS carries the parameter sets in-band as kls-rec writes them: times and key flags.
    for spec in ["v:0", "v:1"] {
        let (a, b) = (stream(&source, spec), stream(&m3u8, spec));
        assert_same_packets(&a, &b, false, &format!("hls {spec}"));
    }
}

#[test]
fn a_silent_video_pid_gives_its_place_to_the_next() {
    if !have_ffprobe() {
        return;
    }
    let source = testdata("ts/tracks/silentfirst-1764072000.ts");
    let dir = scratch("e2e-ts-silent-video");
    // ffmpeg cannot copy a stream it saw no frame of: the second video and the audio.
    let want = ffmpeg_samples(&dir, &source, "h264", &["0:v:1", "0:a"]);
    let out = dir.join("out");
    record(&out, &source, "mp4");
    let mp4 = only(with_ext(&out, "mp4"), "mp4");
    assert_eq!(stream_count(&mp4, "v"), 1, "video streams");
    let (a, b) = (stream(&want, "v:0"), stream(&mp4, "v:0"));
    assert!(!a.is_empty(), "packets of the second video stream");
    assert_same_packets(&a, &b, true, "mp4 video");
    assert_same_audio_payloads(&stream(&want, "a:0"), &stream(&mp4, "a:0"), "mp4");
}

//! End-to-end: video sent without a decoder configuration record (an Annex B sequence header,
//! or none and the parameter sets in-band), a format that cannot be written, and single-track
//! HLS. Fixtures: `scripts/flv-rewrite.py` (see `scripts/gen-testdata.sh`).

use std::path::{Path, PathBuf};
use std::process::Output;

use kls_rec::input::flv::{Tag, TagKind};
use kls_rec::testutil::{
    ProbePacket, assert_decodes_cleanly, assert_same_packets, flv_tags, have_ffprobe, of,
    probe_packets, read_flv, run_binary, scratch, testdata, with_ext,
};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_kls-rec");

/// The four ways of sending video without a record, and what inspect says of each.
const CASES: [(&str, &str); 4] = [
    (
        "avc-annexb",
        "sequence header: Annex B (SPS, PPS) — avcC built for MP4/HLS",
    ),
    (
        "avc-inband",
        "sequence header: none, SPS, PPS in-band in the first keyframe — avcC built for MP4/HLS/FLV",
    ),
    (
        "hevc-annexb",
        "sequence header: Annex B (VPS, SPS, PPS) — hvcC built for MP4/HLS",
    ),
    (
        "hevc-inband",
        "sequence header: none, VPS, SPS, PPS in-band in the first keyframe — hvcC built for \
         MP4/HLS/FLV",
    ),
];

fn fixture(name: &str) -> PathBuf {
    testdata("annexb").join(format!("{name}-1764072000.flv"))
}

fn record(dir: &Path, input: &Path, formats: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "record",
        "-o",
        dir.to_str().unwrap(),
        input.to_str().unwrap(),
        "--formats",
        formats,
    ];
    args.extend_from_slice(extra);
    run_binary(BIN, &args)
}

fn only(dir: &Path, ext: &str) -> PathBuf {
    let files = with_ext(dir, ext);
    assert_eq!(files.len(), 1, "one .{ext} under {}", dir.display());
    files[0].clone()
}

/// (width, height) of the video stream in each avtrans callback's outMediainfo.
fn callback_sizes(stdout: &[u8]) -> Vec<(u64, u64)> {
    let text = String::from_utf8_lossy(stdout);
    let mut sizes = Vec::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        if v["type"] != "avtrans" {
            continue;
        }
        let info = v["details"]["items"][0]["outMediainfo"].as_str().unwrap();
        let info: Value = serde_json::from_str(info).unwrap();
        let video = info["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["codec_type"] == "video")
            .unwrap();
        sizes.push((
            video["width"].as_u64().unwrap(),
            video["height"].as_u64().unwrap(),
        ));
    }
    sizes
}

/// Video tag bodies that carry coded frames (not sequence headers, end of sequence, commands).
fn coded_frame_tags(tags: &[Tag]) -> Vec<&[u8]> {
    tags.iter()
        .filter(|t| t.kind == TagKind::Video)
        .map(|t| t.data.as_slice())
        .filter(|d| match d[0] & 0x80 {
            0 => d[1] == 1,
            _ => matches!(d[0] & 0x0F, 1 | 3),
        })
        .collect()
}

/// The first video tag: the sequence header kls-rec writes.
fn first_video_tag(tags: &[Tag]) -> &[u8] {
    &tags.iter().find(|t| t.kind == TagKind::Video).unwrap().data
}

/// ffprobe's packets of the stream the fixture was made from (ffmpeg reads neither an FLV whose
/// record is missing nor HEVC in FLV): the ffmpeg-written H.264 FLV, or the MP4 the HEVC FLVs
/// were built from; cut to the fixture's length.
fn source_packets(name: &str, kind: &str, count: usize) -> Vec<ProbePacket> {
    let source = match name.starts_with("hevc") {
        true => testdata("hevc/source.mp4"),
        false => testdata("mp3-1764072000.flv"),
    };
    let mut p = of(&probe_packets(&source), kind);
    assert!(
        p.len() >= count,
        "{name} {kind}: the source has the packets"
    );
    p.truncate(count);
    p
}

/// `out` carries `src`'s packets; with in-band parameter sets the first video packet is the
/// source's plus those sets (as the fixture's first keyframe is).
fn assert_carried(src: &[ProbePacket], out: &[ProbePacket], in_band: bool, what: &str) {
    assert_same_packets(src, out, false, what);
    let skip = usize::from(in_band);
    assert_same_packets(&src[skip..], &out[skip..], true, what);
    if in_band {
        assert!(out[0].size > src[0].size, "{what}: in-band sets kept");
    }
}

#[test]
fn video_without_a_record_records_in_every_format() {
    for (name, _) in CASES {
        let dir = scratch(&format!("annexb-{name}"));
        let out = record(&dir, &fixture(name), "hls,mp4,flv", &[]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The callbacks carry the SPS's picture size, not 0x0.
        assert_eq!(
            callback_sizes(&out.stdout),
            [(160, 120), (160, 120)],
            "{name}"
        );
        let (mp4, m3u8, flv) = (only(&dir, "mp4"), only(&dir, "m3u8"), only(&dir, "flv"));

        // FLV: every coded frame as received; an Annex B sequence header as received, or, for
        // in-band parameter sets, the built record as the sequence header the source lacked.
        let source_bytes = std::fs::read(fixture(name)).unwrap();
        let (_, source_tags) = flv_tags(&source_bytes);
        let out_bytes = std::fs::read(&flv).unwrap();
        let (_, out_tags) = flv_tags(&out_bytes);
        assert_eq!(
            coded_frame_tags(&out_tags),
            coded_frame_tags(&source_tags),
            "{name}: FLV coded frames"
        );
        let header = first_video_tag(&out_tags);
        let (config, packets) = read_flv(&fixture(name));
        if name.ends_with("annexb") {
            assert_eq!(
                header,
                first_video_tag(&source_tags),
                "{name}: kept as received"
            );
        } else {
            let record = &config.video.as_ref().unwrap().record;
            assert!(header.ends_with(record), "{name}: built record in the FLV");
            assert_eq!(record[0], 1, "{name}: configurationVersion");
        }

        if !have_ffprobe() {
            continue;
        }
        for kind in ["video", "audio"] {
            let count = packets
                .iter()
                .filter(|p| p.track.to_string() == kind)
                .count();
            let src = source_packets(name, kind, count);
            let m = of(&probe_packets(&mp4), kind);
            let in_band = kind == "video" && name.ends_with("inband");
            assert_carried(&src, &m, in_band, &format!("{name} mp4 {kind}"));
            let h = of(&probe_packets(&m3u8), kind);
            assert_same_packets(&src, &h, false, &format!("{name} hls {kind}"));
        }
        assert_decodes_cleanly(&mp4);
        assert_decodes_cleanly(&m3u8);
        if name == "avc-inband" {
            // With the built record as its sequence header, ffmpeg decodes the FLV too (an FLV
            // with an Annex B sequence header it cannot, the source's or ours).
            assert_decodes_cleanly(&flv);
        }
    }
}

#[test]
fn inspect_and_explain_say_what_was_found() {
    for (name, finding) in CASES {
        let out = run_binary(BIN, &["inspect", fixture(name).to_str().unwrap()]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name}: {text}");
        assert!(text.contains(finding), "{name}: {text}");
        assert!(text.contains("160x120"), "{name}: {text}");

        let dir = scratch(&format!("annexb-explain-{name}"));
        let out = record(&dir, &fixture(name), "flv", &["--dry-run", "--explain"]);
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(
            log.contains(&format!("push #0: {finding}")),
            "{name}: {log}"
        );
    }
    // A record as the source sent it is not called built.
    let out = run_binary(
        BIN,
        &["inspect", testdata("mp3-1764072000.flv").to_str().unwrap()],
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("sequence header:"));
}

#[test]
fn a_format_that_cannot_be_written_costs_the_others_nothing() {
    // configurationVersion 0: FLV carries it, the MPEG-TS writer cannot use it.
    let input = fixture("badrecord");
    let dir = scratch("annexb-badrecord");
    let out = record(&dir, &input, "hls,mp4,flv", &[]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(
        log.contains("badrecord-1764072000.flv: stream live/badrecord: no hls file")
            && log.contains("configurationVersion"),
        "{log}"
    );
    assert_eq!(with_ext(&dir, "m3u8"), Vec::<PathBuf>::new());
    assert_eq!(with_ext(&dir, "ts"), Vec::<PathBuf>::new());
    let flv = only(&dir, "flv");
    only(&dir, "mp4");
    let callbacks = String::from_utf8_lossy(&out.stdout);
    assert_eq!(callbacks.lines().count(), 2, "{callbacks}");
    for key in ["/mp4/", "/flv/"] {
        assert!(callbacks.contains(key), "{callbacks}");
    }
    if have_ffprobe() {
        let (a, b) = (probe_packets(&input), probe_packets(&flv));
        assert_same_packets(&of(&a, "audio"), &of(&b, "audio"), true, "flv audio");
    }
}

#[test]
fn single_track_hls_opens_and_decodes() {
    let inputs = [
        testdata("single/mp3-1764072000.flv"),
        testdata("single/mp3short-1764072000.flv"),
        testdata("single/aacshort-1764072000.flv"),
        testdata("single/videoshort-1764072000.flv"),
        testdata("radio-1764072000.flv"),
        testdata("silent-1764072000.flv"),
    ];
    for input in inputs {
        let name = input.file_stem().unwrap().to_string_lossy().to_string();
        let dir = scratch(&format!("annexb-single-{name}"));
        let out = record(&dir, &input, "hls", &[]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // ffmpeg probes 2048 bytes: a segment shorter than that would be taken for MPEG-PS.
        for ts in with_ext(&dir, "ts") {
            assert!(std::fs::metadata(&ts).unwrap().len() >= 2048, "{name}");
        }
        if !have_ffprobe() {
            continue;
        }
        let m3u8 = only(&dir, "m3u8");
        assert_decodes_cleanly(&m3u8);
        let (a, h) = (probe_packets(&input), probe_packets(&m3u8));
        assert!(!h.is_empty(), "{name}");
        for kind in ["video", "audio"] {
            assert_same_packets(
                &of(&a, kind),
                &of(&h, kind),
                false,
                &format!("{name} {kind}"),
            );
        }
    }
}

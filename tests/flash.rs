//! End-to-end: the Flash-era codecs only FLV carries (`testdata/flash/`, made by
//! `scripts/gen-flash.sh` with ffmpeg 5.1): Sorenson H.263 and Screen video; Nellymoser, Speex,
//! SWF ADPCM, linear PCM and G.711 audio. They are recorded to FLV tag for tag, read back by
//! ffprobe packet for packet, named as ffprobe names them, and left out of MP4 and HLS as lost
//! media (exit status 5, a warning naming the track) while the tracks those formats carry are
//! written as they are (README "Not recorded is not damage"). A raw RTMP dump and a capture of
//! one publish record what its FLV file records.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::run::final_files;
use kls_rec::input::flv::TagKind;
use kls_rec::input::pcap::{Delivery, scan};
use kls_rec::testutil::{
    assert_mediainfo_like_ffprobe, assert_same_packets, flv_tags, have_ffprobe, of, probe_json,
    probe_packets, run_binary, scratch, testdata, with_ext,
};
use serde_json::Value;

/// Every FLV fixture, with its streams' codecs as ffprobe names them.
const FIXTURES: [(&str, &[&str]); 9] = [
    ("spark-nelly", &["flv1", "nellymoser"]),
    ("spark", &["flv1"]),
    ("h264-nelly", &["h264", "nellymoser"]),
    ("spark-speex", &["flv1", "speex"]),
    ("speex", &["speex"]),
    ("screen-adpcm", &["flashsv", "adpcm_swf"]),
    ("pcm", &["pcm_s16le"]),
    ("alaw", &["pcm_alaw"]),
    ("mulaw", &["pcm_mulaw"]),
];

/// The exit status of a run that lost media, as the README documents it.
const LOST_MEDIA: i32 = 5;

fn fixture(name: &str) -> PathBuf {
    testdata(&format!("flash/{name}-1764072000.flv"))
}

/// Records `inputs` in `formats` with further `options`, expecting exit status `code`; returns
/// the output root and the run's stdout and stderr.
fn record(
    name: &str,
    formats: &str,
    options: &[&str],
    inputs: &[PathBuf],
    code: i32,
) -> (PathBuf, String, String) {
    let dir = scratch(&format!("flash-{name}-{}", formats.replace(',', "-")));
    let mut args = vec!["record", "--quiet", "--formats", formats, "-o"];
    args.push(dir.to_str().unwrap());
    args.extend_from_slice(options);
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    let out = run_binary(env!("CARGO_BIN_EXE_kls-rec"), &args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{name} {formats}: {stderr}");
    (dir, stdout, stderr)
}

/// The one recording of extension `ext` under an output root.
fn only(dir: &Path, ext: &str) -> PathBuf {
    let files = with_ext(dir, ext);
    assert_eq!(files.len(), 1, "{ext}: {files:?}");
    files[0].clone()
}

/// One audio or video tag as a player takes it.
#[derive(Debug, PartialEq)]
struct MediaTag {
    dts_ms: u32,
    size: usize,
    /// Video FrameType 1; every audio tag.
    key: bool,
    /// The SI24 CompositionTime of an H.264 NALU tag (CodecID 7, AVCPacketType 1); 0 otherwise.
    composition_ms: i32,
    payload: Vec<u8>,
}

/// The media tags of an FLV, per track (audio, video), in file order.
fn media_tags(path: &Path) -> BTreeMap<&'static str, Vec<MediaTag>> {
    let bytes = std::fs::read(path).unwrap();
    let mut tracks: BTreeMap<&'static str, Vec<MediaTag>> = BTreeMap::new();
    for tag in flv_tags(&bytes).1 {
        let (track, key, composition_ms) = match tag.kind {
            TagKind::Script => continue,
            TagKind::Audio => ("audio", true, 0),
            TagKind::Video => {
                let first = tag.data.first().copied().unwrap_or_default();
                let composition = match tag.data.get(1..5) {
                    Some([1, c @ ..]) if first & 0x0F == 7 => {
                        // SI24: sign-extended from the top byte.
                        i32::from_be_bytes([c[0], c[0], c[1], c[2]]) << 8 >> 8
                    }
                    _ => 0,
                };
                ("video", first >> 4 == 1, composition)
            }
        };
        tracks.entry(track).or_default().push(MediaTag {
            dts_ms: tag.timestamp_ms,
            size: tag.data.len(),
            key,
            composition_ms,
            payload: tag.data,
        });
    }
    tracks
}

/// The FLV recording of every fixture has its media tags as they came, per track: size,
/// payload, DTS, composition offset and key flag; FLV alone loses nothing (exit status 0).
#[test]
fn flv_recordings_carry_every_media_tag_as_it_came() {
    for (name, codecs) in FIXTURES {
        let (dir, _, stderr) = record(name, "flv", &[], &[fixture(name)], 0);
        assert!(!stderr.contains("warning"), "{name}: {stderr}");
        let (source, ours) = (media_tags(&fixture(name)), media_tags(&only(&dir, "flv")));
        assert_eq!(source.len(), codecs.len(), "{name}: tracks");
        assert_eq!(
            source.keys().collect::<Vec<_>>(),
            ours.keys().collect::<Vec<_>>(),
            "{name}: tracks"
        );
        for (track, tags) in &source {
            let what = format!("{name} {track}");
            let out = &ours[track];
            assert_eq!(tags.len(), out.len(), "{what}: tag count");
            for (i, (a, b)) in tags.iter().zip(out).enumerate() {
                assert_eq!(
                    (a.dts_ms, a.size, a.key, a.composition_ms),
                    (b.dts_ms, b.size, b.key, b.composition_ms),
                    "{what}: tag {i}"
                );
                assert!(a.payload == b.payload, "{what}: tag {i} payload");
            }
        }
    }
}

/// ffprobe (5.1 decodes every one of these codecs) reads the same packets from each FLV
/// recording as from its input, stream by stream: times, sizes, data hashes and key flags.
#[test]
fn ffprobe_reads_each_flv_recording_as_its_input() {
    if !have_ffprobe() {
        return;
    }
    for (name, _) in FIXTURES {
        let (dir, _, _) = record(&format!("{name}-probe"), "flv", &[], &[fixture(name)], 0);
        let (source, ours) = (
            probe_packets(&fixture(name)),
            probe_packets(&only(&dir, "flv")),
        );
        assert!(!source.is_empty(), "{name}: no packets");
        for kind in ["video", "audio"] {
            let (a, b) = (of(&source, kind), of(&ours, kind));
            assert_eq!(a.len(), b.len(), "{name} {kind}: packet count");
            for (i, (a, b)) in a.iter().zip(&b).enumerate() {
                assert_eq!(a, b, "{name} {kind}: packet {i}");
            }
        }
    }
}

/// H.264 with Nellymoser to every format: the FLV has both tracks; the MP4 and the HLS
/// recording have the video, packet for packet, and leave the Nellymoser track out, each with a
/// warning naming the track; the run ends with exit status 5 and `--json` counts the lost media.
#[test]
fn mp4_and_hls_keep_the_video_and_leave_out_what_only_flv_carries() {
    let name = "h264-nelly";
    let (dir, stdout, stderr) = record(
        name,
        "flv,mp4,hls",
        &["--json"],
        &[fixture(name)],
        LOST_MEDIA,
    );
    for format in ["mp4", "hls"] {
        let warning = stderr
            .lines()
            .find(|l| l.contains(&format!("cannot be recorded in {format}")))
            .unwrap_or_else(|| panic!("no {format} warning: {stderr}"));
        assert!(warning.starts_with("warning: "), "{warning}");
        assert!(
            warning.contains("lost media: audio nellymoser"),
            "{warning}"
        );
        assert!(warning.contains("stream live/h264-nelly"), "{warning}");
    }
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["summary"]["lost_media"], 2, "{summary}");
    assert_eq!(summary["summary"]["damage"], 0, "{summary}");
    assert_eq!(summary["summary"]["exit_status"], LOST_MEDIA, "{summary}");
    assert_eq!(
        summary["summary"]["files"].as_array().unwrap().len(),
        3,
        "{summary}"
    );

    let (flv, mp4, playlist) = (only(&dir, "flv"), only(&dir, "mp4"), only(&dir, "m3u8"));
    assert_eq!(media_tags(&flv).len(), 2, "FLV tracks");
    if !have_ffprobe() {
        return;
    }
    let source = probe_packets(&fixture(name));
    let streams = |file: &Path| -> Vec<String> {
        let v = probe_json(file, &[]);
        (v["streams"].as_array().unwrap().iter())
            .map(|s| s["codec_name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(streams(&mp4), ["h264"], "MP4 streams");
    assert_eq!(streams(&playlist), ["h264"], "HLS streams");
    let video = of(&source, "video");
    assert_same_packets(
        &video,
        &of(&probe_packets(&mp4), "video"),
        true,
        "MP4 video",
    );
    // MPEG-TS segments carry H.264 in Annex B: the same packets, times and keyframes.
    assert_same_packets(
        &video,
        &of(&probe_packets(&playlist), "video"),
        false,
        "HLS video",
    );
    assert_eq!(of(&probe_packets(&mp4), "audio"), [], "MP4 audio");
}

/// A push of only FLV-only codecs asked for in MP4 and HLS writes no MP4 and no HLS file: every
/// track of each is reported once, exit status 5; the FLV is written as in an FLV-only run.
#[test]
fn formats_that_carry_none_of_the_tracks_write_no_file() {
    let name = "spark-nelly";
    let (dir, _, stderr) = record(name, "flv,mp4,hls", &[], &[fixture(name)], LOST_MEDIA);
    for format in ["mp4", "hls"] {
        for track in ["video flv1", "audio nellymoser"] {
            let said = format!("lost media: {track} cannot be recorded in {format}");
            let lines = stderr.lines().filter(|l| l.contains(&said)).count();
            assert_eq!(lines, 1, "{said}: {stderr}");
        }
    }
    assert!(stderr.contains("no mp4 file is written"), "{stderr}");
    assert_eq!(with_ext(&dir, "mp4"), Vec::<PathBuf>::new());
    assert_eq!(with_ext(&dir, "m3u8"), Vec::<PathBuf>::new());
    let (alone, _, _) = record(&format!("{name}-alone"), "flv", &[], &[fixture(name)], 0);
    assert_eq!(final_files(&dir), final_files(&alone));
}

/// `inspect --json` lists each stream as ffprobe does: in ffprobe's order, with its codec name,
/// size, rate, channels and packet count.
#[test]
fn inspect_names_the_codecs_as_ffprobe_does() {
    for (name, codecs) in FIXTURES {
        let file = fixture(name);
        let out = run_binary(
            env!("CARGO_BIN_EXE_kls-rec"),
            &["inspect", "--json", file.to_str().unwrap()],
        );
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ours: Value = serde_json::from_slice(&out.stdout).unwrap();
        let ours = ours["streams"].as_array().unwrap().clone();
        let mut named: Vec<&str> = ours
            .iter()
            .map(|s| s["codec_name"].as_str().unwrap())
            .collect();
        named.sort_unstable();
        let mut expected = codecs.to_vec();
        expected.sort_unstable();
        assert_eq!(named, expected, "{name}");
        if !have_ffprobe() {
            continue;
        }
        // Numbered as ffprobe numbers them: in the order of their first tags (the Sorenson
        // video after the Nellymoser or Speex audio that comes first).
        let theirs = probe_json(&file, &["-count_packets"]);
        let theirs = theirs["streams"].as_array().unwrap();
        assert_eq!(ours.len(), theirs.len(), "{name}: streams");
        for (o, t) in ours.iter().zip(theirs) {
            let what = format!("{name}: stream {}", t["index"]);
            for k in ["index", "codec_type", "codec_name", "width", "height"] {
                assert_eq!(o.get(k), t.get(k), "{what}: {k}");
            }
            for k in ["sample_rate", "channels", "nb_read_packets"] {
                assert_eq!(o.get(k), t.get(k), "{what}: {k}");
            }
        }
    }
}

/// The raw RTMP dump of the Sorenson + Nellymoser push (ffmpeg 5.1 publishing the FLV fixture,
/// `scripts/gen-rtmp-dump.py`) records byte for byte what the FLV fixture records.
#[test]
fn a_raw_rtmp_dump_records_what_its_flv_file_records() {
    let name = "spark-nelly";
    let dump = testdata(&format!("flash/rtmp/{name}-1764072000.rtmp"));
    let start = ["--start-time", "1764072000"];
    let (from_dump, _, stderr) = record(&format!("{name}-dump"), "flv", &start, &[dump], 0);
    assert!(!stderr.contains("warning"), "{stderr}");
    let (from_flv, _, _) = record(&format!("{name}-file"), "flv", &[], &[fixture(name)], 0);
    let files = final_files(&from_flv);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(final_files(&from_dump), files);
}

/// A capture on loopback of that publish (`scripts/gen-flash.sh`) records the same bytes as the
/// raw dump given the capture's clock for it (the capture time of its first media), and so the
/// FLV fixture's media tags.
#[test]
fn a_capture_records_what_the_raw_dump_records() {
    let name = "spark-nelly";
    let capture = testdata("flash/flash.pcap");
    let (from_capture, _, stderr) = record(
        &format!("{name}-capture"),
        "flv",
        &[],
        std::slice::from_ref(&capture),
        0,
    );
    assert!(!stderr.contains("warning"), "{stderr}");
    let pushes = scan(&capture, "flash.pcap").unwrap().pushes;
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    assert_eq!(pushes[0].delivery, Delivery::Published);
    let start = pushes[0]
        .first_media_ms
        .expect("media in the capture")
        .to_string();
    let dump = testdata(&format!("flash/rtmp/{name}-1764072000.rtmp"));
    let options = ["--start-time", start.as_str()];
    let (from_dump, _, _) = record(&format!("{name}-dump-at"), "flv", &options, &[dump], 0);
    let files = final_files(&from_capture);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(final_files(&from_dump), files);
    assert!(
        media_tags(&only(&from_capture, "flv")) == media_tags(&fixture(name)),
        "media tags of the capture's FLV"
    );
}

/// `outMediainfo` of each recording, the FLV of every fixture and the MP4 that left out the
/// Nellymoser track, says what ffprobe says of the file: codec names, sizes, rates and channels
/// exactly; duration within 0.05 s; bit rates within 1 %.
#[test]
fn out_mediainfo_matches_ffprobe() {
    if !have_ffprobe() {
        return;
    }
    for (name, _) in FIXTURES {
        let formats = if name == "h264-nelly" {
            "flv,mp4"
        } else {
            "flv"
        };
        let code = if name == "h264-nelly" { LOST_MEDIA } else { 0 };
        let (dir, stdout, _) = record(&format!("{name}-mi"), formats, &[], &[fixture(name)], code);
        let mut checked = 0;
        for line in stdout.lines() {
            let cb: Value = serde_json::from_str(line).unwrap();
            let item = &cb["details"]["items"][0];
            let info = item["outMediainfo"].as_str().expect("an outMediainfo");
            let ours: Value = serde_json::from_str(info).unwrap();
            let file = dir.join(item["dstpath"].as_str().unwrap());
            let theirs = probe_json(&file, &[]);
            assert_mediainfo_like_ffprobe(&ours, &theirs, &format!("{name}: {}", file.display()));
            checked += 1;
        }
        assert_eq!(checked, formats.split(',').count(), "{name}: {stdout}");
    }
}

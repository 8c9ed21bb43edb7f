//! Streams that are not recorded are not damage (SCTE-35, timed ID3 and KLV PIDs beside the
//! media of an MPEG-TS): reported once, exit status 0, the media recorded whole; `inspect`
//! lists them as ffprobe does.

use std::process::Output;

use kls_rec::testutil::{
    assert_decodes_cleanly, assert_same_packets, have_ffprobe, of, probe_json, probe_packets,
    run_binary, scratch, testdata, with_ext,
};
use serde_json::Value;

fn kls_rec(args: &[&str]) -> Output {
    run_binary(env!("CARGO_BIN_EXE_kls-rec"), args)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The last stdout line: the `--json` summary.
fn summary(o: &Output) -> Value {
    let text = String::from_utf8_lossy(&o.stdout);
    serde_json::from_str(text.lines().last().unwrap()).unwrap()
}

#[test]
fn data_pids_are_not_recorded_and_not_damage() {
    let dir = scratch("data-pids");
    let input = testdata("data-streams/cue-1764072000.ts");
    let out = kls_rec(&[
        "record",
        "-q",
        "--json",
        "--formats",
        "mp4,hls",
        "-o",
        dir.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let notes: Vec<String> = err
        .lines()
        .filter(|l| l.contains("not recorded"))
        .map(|l| l.replace(input.to_str().unwrap(), "IN"))
        .collect();
    assert_eq!(
        notes,
        [
            "note: IN: not recorded: PID 0x0102 SCTE-35 (stream_type 0x86); first seen at byte 376",
            "note: IN: not recorded: PID 0x0103 timed ID3 (stream_type 0x15); first seen at byte 376",
        ],
        "{err}"
    );
    assert!(!err.contains("dropped"), "{err}");
    let s = &summary(&out)["summary"];
    assert_eq!(
        (s["damage"].as_u64(), s["not_recorded"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(s["exit_status"], 0);
    let listed = &s["streams"][0]["not_recorded"];
    assert_eq!(
        listed[1]["what"], "PID 0x0103 timed ID3 (stream_type 0x15)",
        "{listed}"
    );
    assert_eq!(listed[1]["offset"], 376);
    if !have_ffprobe() {
        return;
    }
    // The media is recorded whole: every video packet at one timestamp offset, every audio
    // frame (ffprobe's per-frame audio times in the TS are interpolated, so they are not
    // compared to the millisecond here).
    let mp4 = &with_ext(&dir, "mp4")[0];
    let (a, b) = (probe_packets(&input), probe_packets(mp4));
    assert_same_packets(&of(&a, "video"), &of(&b, "video"), false, "video");
    assert_eq!(
        of(&a, "audio").len(),
        of(&b, "audio").len(),
        "audio packets"
    );
    assert_eq!(of(&b, "audio").len(), 174);
    assert_decodes_cleanly(mp4);
    assert_eq!(probe_json(mp4, &[])["streams"].as_array().unwrap().len(), 2);
}

#[test]
fn klv_is_not_recorded_either() {
    let dir = scratch("data-klv");
    let input = testdata("data-streams/klv-1764072000.ts");
    let out = kls_rec(&[
        "record",
        "-q",
        "--dry-run",
        "-o",
        dir.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("not recorded: PID 0x0104 KLV (stream_type 0x06)"),
        "{err}"
    );
    assert_eq!(err.matches("not recorded").count(), 3, "{err}");
}

/// In an HLS run the data PIDs are named once for the whole playlist, not as a dropped segment.
#[test]
fn data_pids_in_hls_segments_are_named_once() {
    let dir = scratch("data-hls");
    let seg = dir.join("fileSequence0.ts");
    std::fs::copy(testdata("data-streams/cue-1764072000.ts"), &seg).unwrap();
    let playlist = dir.join("cue-1764072000.m3u8");
    std::fs::write(
        &playlist,
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:5\n#EXTINF:4.0,\nfileSequence0.ts\n\
         #EXT-X-ENDLIST\n",
    )
    .unwrap();
    let out = kls_rec(&[
        "record",
        "-q",
        "--dry-run",
        "-o",
        dir.join("out").to_str().unwrap(),
        playlist.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(err.matches("not recorded").count(), 2, "{err}");
    assert!(
        err.contains("not recorded: PID 0x0103 timed ID3 (stream_type 0x15)"),
        "{err}"
    );
    assert!(!err.contains("dropped"), "{err}");
}

/// An FLV whose audio track is a SoundFormat kls-rec does not read (15, device-specific sound)
/// and which carries Enhanced RTMP frames of an unread FourCC (`vp08`): the H.264 is recorded,
/// exit status 0.
#[test]
fn flv_codecs_not_read_are_not_damage() {
    let dir = scratch("data-flv");
    let mut flv = std::fs::read(testdata("silent-1764072000.flv")).unwrap();
    for (kind, body) in [
        (8u8, &[0xF2, 0x55][..]),
        (9, &[0x91, b'v', b'p', b'0', b'8', 0, 0, 0, 7][..]),
    ] {
        let size = (body.len() as u32).to_be_bytes();
        let mut tag = vec![kind, size[1], size[2], size[3], 0, 0, 40, 0, 0, 0, 0];
        tag.extend_from_slice(body);
        tag.extend_from_slice(&(11 + body.len() as u32).to_be_bytes());
        flv.extend_from_slice(&tag);
    }
    let input = dir.join("mixed-1764072000.flv");
    std::fs::write(&input, &flv).unwrap();
    let out = kls_rec(&[
        "record",
        "-q",
        "--json",
        "--formats",
        "flv",
        "-o",
        dir.join("out").to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("not recorded: audio SoundFormat 15 (device-specific sound"),
        "{err}"
    );
    assert!(
        err.contains("not recorded: Enhanced RTMP video FourCC \"vp08\""),
        "{err}"
    );
    assert_eq!(summary(&out)["summary"]["not_recorded"], 2);
}

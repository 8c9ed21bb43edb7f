use std::io::Cursor;

use super::*;
use crate::testutil::testdata;

#[test]
fn atof_like_ffmpeg() {
    assert_eq!(leading_float("10.000"), 10.0);
    assert_eq!(leading_float(" 4.5,title"), 4.5);
    assert_eq!(leading_float("abc"), 0.0);
    assert_eq!(leading_float("-1.5x"), -1.5);
    assert_eq!(leading_float(""), 0.0);
}

/// An FLV tag: header, body, PreviousTagSize.
fn tag(kind: u8, ts: u32, body: &[u8]) -> Vec<u8> {
    let mut t = vec![kind];
    t.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    t.extend_from_slice(&ts.to_be_bytes()[1..]);
    t.push((ts >> 24) as u8);
    t.extend_from_slice(&[0, 0, 0]);
    t.extend_from_slice(body);
    t.extend_from_slice(&(body.len() as u32 + 11).to_be_bytes());
    t
}

#[test]
fn last_tag_steps_back_over_zero_timestamps() {
    let mut f = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
    f.extend(tag(9, 0x0100_0040, &[0x17, 1, 0, 0, 0]));
    f.extend(tag(8, 0, &[0xaf, 1]));
    assert_eq!(
        last_tag_ms(&mut Cursor::new(&f)).unwrap(),
        Some(0x0100_0040)
    );
    // A final PreviousTagSize that leads nowhere: unknown, not a panic.
    let mut bad = f.clone();
    let n = bad.len();
    bad[n - 4..].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    assert_eq!(last_tag_ms(&mut Cursor::new(&bad)).unwrap(), None);
    for cut in 0..f.len() {
        let _ = last_tag_ms(&mut Cursor::new(&f[..cut]));
    }
}

#[test]
fn fixtures_are_recognised() {
    let cases = [
        ("studio-1764072000.flv", Container::Flv),
        ("hevc/source.mp4", Container::Mp4),
        ("rtmp/show-1764075600.rtmp", Container::RtmpDump),
        ("push/pushes.jsonl", Container::SegmentLog),
    ];
    for (name, want) in cases {
        let (got, size) = sniff(&testdata(name)).unwrap();
        assert_eq!(got, want, "{name}");
        assert!(size > 0);
    }
}

#[test]
fn studio_counts() {
    let path = testdata("studio-1764072000.flv");
    let ins = inspect(path.to_str().unwrap(), &InputOptions::default()).unwrap();
    assert_eq!(ins.container, Container::Flv);
    assert_eq!(ins.sessions.len(), 1);
    let scan = ins.sessions[0].scan.as_ref().unwrap();
    assert_eq!((scan.video.packets, scan.audio.packets), (750, 1293));
    // A keyframe every 2 s at 25 fps.
    assert_eq!(scan.video.keyframes, 15);
    assert_eq!(
        (scan.video.gop.min_frames, scan.video.gop.max_frames),
        (50, 50)
    );
    assert_eq!(scan.video.gap_count + scan.audio.gap_count, 0);
    let p = probe(&ins);
    assert_eq!(p.format.duration.as_deref(), Some("29.960000"));
    assert_eq!(p.streams[0].profile.as_deref(), Some("High"));
    assert_eq!(p.streams[1].profile.as_deref(), Some("LC"));
    let text = text::render(&ins, &p);
    assert!(text.contains("push #0  live/studio"), "{text}");
    // The stream bit rates `--json` prints (onMetaData's data rates × 1024), in the report too.
    assert_eq!(p.streams[0].bit_rate.as_deref(), Some("80000"));
    assert!(
        text.contains("  stream      #0 video h264, bit rate 80000 bit/s\n"),
        "{text}"
    );
    assert!(
        text.contains("2025-11-25 12:00:00.000 UTC (from the file name)"),
        "{text}"
    );
}

/// Cut anywhere, a fixture is inspected or refused with an error, never a panic.
#[test]
fn truncated_inputs_never_panic() {
    let dir = crate::testutil::scratch("inspect-truncated");
    for name in [
        "radio-1764072000.flv",
        "hevc/source.mp4",
        "rtmp/show-1764075600.rtmp",
    ] {
        let bytes = std::fs::read(testdata(name)).unwrap();
        let ext = Path::new(name).extension().unwrap().to_str().unwrap();
        for i in 0..24 {
            let cut = bytes.len() * i / 24 + i;
            let path = dir.join(format!("cut-{i}.{ext}"));
            std::fs::write(&path, &bytes[..cut.min(bytes.len())]).unwrap();
            if let Ok(ins) = inspect(path.to_str().unwrap(), &InputOptions::default()) {
                let p = probe(&ins);
                let _ = text::render(&ins, &p);
                let _ = serde_json::to_string(&p).unwrap();
            }
        }
    }
}

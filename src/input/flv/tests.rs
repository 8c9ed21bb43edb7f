//! FLV reader tests: the fixtures against ffprobe, damage on fixture bytes, and streams built
//! byte by byte for what ffmpeg does not write (HEVC, Enhanced RTMP, MP3, rollover).

use crate::testutil::fixtures::{damage, packets};
use std::sync::Arc;

use md5::{Digest, Md5};

use super::*;
use crate::media::{AudioCodec, CodecConfig, Damage, Event, FlvVideoSignal, TrackKind, VideoCodec};
use crate::testutil;

const FIXTURES: [&str; 7] = [
    "studio-1764072000.flv",
    "radio-1764072000.flv",
    "silent-1764072000.flv",
    "reschange-1764072000.flv",
    "push/show-1764075600.flv",
    "push/show-1764075670.flv",
    "push/show-1764075980.flv",
];

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(testutil::testdata(name)).unwrap()
}

/// Reads a whole session from bytes: its starting configuration and every event.
fn read_all(bytes: &[u8]) -> (Arc<CodecConfig>, Vec<Event>) {
    let mut s = FlvSession::new(bytes, "test").unwrap();
    let config = s.config().clone();
    let mut events = Vec::new();
    while let Some(e) = s.next_event().unwrap() {
        events.push(e);
    }
    assert_eq!(s.position(), bytes.len() as u64);
    (config, events)
}

/// (offset, total length with the PreviousTagSize after it, kind) of every tag of a clean file.
fn tag_spans(bytes: &[u8]) -> Vec<(usize, usize, TagKind)> {
    let (mut r, d) = TagReader::new(bytes, "test").unwrap();
    assert!(d.is_empty());
    let mut out = Vec::new();
    while let Some(e) = r.next_event().unwrap() {
        let TagEvent::Tag(t) = e else {
            panic!("damage in a clean file: {e:?}")
        };
        out.push((t.offset as usize, t.data.len() + 15, t.kind));
    }
    out
}

#[test]
fn fixtures_match_ffprobe() {
    if !testutil::have_ffprobe() {
        return;
    }
    for name in FIXTURES {
        let path = testutil::testdata(name);
        let probe = testutil::probe_packets(&path);
        let (_, events) = read_all(&fixture(name));
        assert!(damage(&events).is_empty(), "{name}: {:?}", damage(&events));
        for (track, kind) in [(TrackKind::Video, "video"), (TrackKind::Audio, "audio")] {
            let ours: Vec<_> = packets(&events)
                .into_iter()
                .filter(|p| p.track.kind == track)
                .map(|p| {
                    let md5: [u8; 16] = Md5::digest(&p.data).into();
                    let hex: String = md5.iter().map(|b| format!("{b:02x}")).collect();
                    testutil::ProbePacket {
                        codec_type: kind.into(),
                        pts_ms: Some(p.pts_90k() / 90),
                        dts_ms: Some(p.dts_90k / 90),
                        size: p.data.len() as u64,
                        keyframe: p.keyframe,
                        hash: format!("MD5:{hex}"),
                    }
                })
                .collect();
            let theirs: Vec<_> = probe
                .iter()
                .filter(|p| p.codec_type == kind)
                .cloned()
                .collect();
            assert_eq!(ours.len(), theirs.len(), "{name} {kind} packet count");
            for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
                assert_eq!(a, b, "{name} {kind} packet {i}");
            }
        }
    }
}

#[test]
fn fixture_counts_and_configurations() {
    // (name, video packets, video keyframes, audio packets, width, height)
    let expected = [
        ("studio-1764072000.flv", 750, 15, 1293, 320, 240),
        ("radio-1764072000.flv", 0, 0, 863, 0, 0),
        ("silent-1764072000.flv", 500, 10, 0, 160, 120),
        ("push/show-1764075600.flv", 250, 5, 432, 160, 120),
    ];
    for (name, video, keys, audio, width, height) in expected {
        let (config, events) = read_all(&fixture(name));
        let p = packets(&events);
        let v: Vec<_> = p
            .iter()
            .filter(|p| p.track.kind == TrackKind::Video)
            .collect();
        assert_eq!(v.len(), video, "{name}");
        assert_eq!(v.iter().filter(|p| p.keyframe).count(), keys, "{name}");
        assert_eq!(p.len() - v.len(), audio, "{name}");
        assert!(damage(&events).is_empty(), "{name}");
        assert!(
            !events.iter().any(|e| matches!(e, Event::Config(_))),
            "{name}"
        );
        assert_eq!(config.video.is_some(), video > 0, "{name}");
        assert_eq!(config.audio.is_some(), audio > 0, "{name}");
        if let Some(vc) = &config.video {
            assert_eq!(vc.codec, VideoCodec::H264);
            assert_eq!(vc.flv_signal, FlvVideoSignal::CodecId);
            assert_eq!((vc.width, vc.height), (width, height), "{name}");
            assert_eq!(vc.record[0], 1, "avcC configurationVersion");
        }
        if let Some(ac) = &config.audio {
            assert_eq!(ac.codec, AudioCodec::Aac);
            assert_eq!((ac.sample_rate, ac.channels), (44_100, 2), "{name}");
            // AAC LC 44.1 kHz stereo, with ffmpeg's explicit SBR-absent sync extension after it.
            assert_eq!(ac.specific, [0x12, 0x10, 0x56, 0xE5, 0x00], "{name}");
            assert_eq!(ac.flv_sound_byte, 0xAF);
        }
        // B-frames: DTS per track non-decreasing, and the first video packet a keyframe.
        for track in [TrackKind::Video, TrackKind::Audio] {
            let dts: Vec<_> = p
                .iter()
                .filter(|p| p.track.kind == track)
                .map(|p| p.dts_90k)
                .collect();
            assert!(dts.windows(2).all(|w| w[0] <= w[1]), "{name} {track}");
        }
        assert!(v.first().is_none_or(|p| p.keyframe));
    }
}

#[test]
fn resolution_change_is_one_config_event() {
    let (config, events) = read_all(&fixture("reschange-1764072000.flv"));
    let vc = config.video.as_ref().unwrap();
    assert_eq!((vc.width, vc.height), (320, 240));
    let changes: Vec<_> = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            Event::Config(c) => Some((i, c)),
            _ => None,
        })
        .collect();
    assert_eq!(
        changes.len(),
        1,
        "the identical AAC header repeat is not a change"
    );
    let (at, new) = &changes[0];
    let nv = new.video.as_ref().unwrap();
    assert_eq!((nv.width, nv.height), (256, 144));
    assert_eq!(new.audio, config.audio);
    // The first video packet after the change is a keyframe at about 6 s.
    let next = events[*at..].iter().find_map(|e| match e {
        Event::Packet(p) if p.track.kind == TrackKind::Video => Some(p),
        _ => None,
    });
    let next = next.unwrap();
    assert!(next.keyframe);
    assert!(
        (5_900..6_200).contains(&(next.dts_90k / 90)),
        "{}",
        next.dts_90k / 90
    );
    assert!(damage(&events).is_empty());
}

#[test]
fn truncation_keeps_every_whole_tag() {
    let clean = fixture("studio-1764072000.flv");
    let spans = tag_spans(&clean);
    for k in [1, 2, 7, 300, spans.len() / 2, spans.len() - 1] {
        let (off, len, _) = spans[k];
        let (_, before) = read_all(&clean[..off]);
        let (_, with_tag) = read_all(&clean[..off + len]);
        // Cut inside the header, inside the body: the tag is lost and reported at its start.
        for cut in [off + 5, off + 11 + (len - 15) / 2] {
            let (_, events) = read_all(&clean[..cut]);
            assert_eq!(packets(&events), packets(&before), "tag {k} cut at {cut}");
            let d = damage(&events);
            assert_eq!(d.len(), 1, "{d:?}");
            assert!(
                matches!(d[0], Damage::Truncated { offset, .. } if *offset == off as u64),
                "{d:?}"
            );
        }
        // Cut inside the PreviousTagSize after it: the tag is whole and kept.
        let cut = off + len - 2;
        let (_, events) = read_all(&clean[..cut]);
        assert_eq!(packets(&events), packets(&with_tag), "tag {k} cut at {cut}");
        let d = damage(&events);
        assert!(
            matches!(d[..], [Damage::Truncated { offset, .. }] if *offset == (off + len - 4) as u64),
            "{d:?}"
        );
        // Cut at a tag boundary: nothing to report.
        assert!(damage(&with_tag).is_empty());
    }
    // Every cut inside the header: an error only for what is not an FLV header.
    for cut in 0..24 {
        match FlvSession::new(&clean[..cut], "test") {
            Err(e) => assert!(cut < 9, "cut {cut}: {e}"),
            Ok(mut s) => while s.next_event().unwrap().is_some() {},
        }
    }
}

/// The clean file without tag `k`.
fn without_tag(clean: &[u8], spans: &[(usize, usize, TagKind)], k: usize) -> Vec<u8> {
    let (off, len, _) = spans[k];
    [&clean[..off], &clean[off + len..]].concat()
}

#[test]
fn a_corrupted_data_size_loses_only_its_tag() {
    let clean = fixture("studio-1764072000.flv");
    let spans = tag_spans(&clean);
    for (k, new_size) in [(500, Some(0xFF_FFFF)), (901, None), (1200, Some(3))] {
        let (off, len, _) = spans[k];
        let size = len - 15;
        let new_size = new_size.unwrap_or(size + 1000);
        let mut bad = clean.clone();
        bad[off + 1..off + 4].copy_from_slice(&(new_size as u32).to_be_bytes()[1..]);
        let (_, expected) = read_all(&without_tag(&clean, &spans, k));
        let (_, events) = read_all(&bad);
        assert_eq!(packets(&events), packets(&expected), "tag {k}");
        assert_eq!(
            damage(&events),
            [&Damage::Skipped {
                offset: off as u64,
                len: len as u64,
                what: format!(
                    "tag of type {} with DataSize {new_size} {}",
                    clean[off],
                    if off + 15 + new_size > clean.len() {
                        "runs past the end of the input".to_string()
                    } else {
                        let e = off + 11 + new_size;
                        let v = u32::from_be_bytes(bad[e..e + 4].try_into().unwrap());
                        format!("is followed by PreviousTagSize {v}")
                    }
                ),
            }],
            "tag {k}"
        );
    }
}

/// Deterministic bytes that are not FLV (a linear congruential generator).
fn garbage(n: usize) -> Vec<u8> {
    let mut x: u32 = 12345;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect()
}

/// Reads `bad` and checks that it gives `expected`'s packets and one skip, of the `(offset, len)`
/// bytes given.
fn assert_one_skip(bad: &[u8], expected: &[Event], (offset, len): (usize, usize), case: &str) {
    let (_, events) = read_all(bad);
    assert_eq!(packets(&events), packets(expected), "{case}");
    let d = damage(&events);
    assert!(
        matches!(d[..], [Damage::Skipped { offset: o, len: l, .. }] if *o == offset as u64 && *l == len as u64),
        "{case}: {d:?}"
    );
}

#[test]
fn garbage_between_tags_is_skipped() {
    let clean = fixture("studio-1764072000.flv");
    let spans = tag_spans(&clean);
    let (_, expected) = read_all(&clean);
    let (off, _, _) = spans[640];
    let bad = [&clean[..off], &garbage(1024), &clean[off..]].concat();
    assert_one_skip(&bad, &expected, (off, 1024), "garbage before tag 640");
}

#[test]
fn garbage_inside_a_tag_loses_that_tag() {
    let clean = fixture("studio-1764072000.flv");
    let spans = tag_spans(&clean);
    let k = 777;
    let (off, len, _) = spans[k];
    let bad = [&clean[..off + 20], &garbage(1024), &clean[off + 20..]].concat();
    let (_, expected) = read_all(&without_tag(&clean, &spans, k));
    assert_one_skip(&bad, &expected, (off, len + 1024), "garbage inside tag 777");
}

#[test]
fn a_bad_previous_tag_size_loses_nothing() {
    let clean = fixture("studio-1764072000.flv");
    let spans = tag_spans(&clean);
    let (_, expected) = read_all(&clean);
    for k in [3, 1000, spans.len() - 1] {
        let (off, len, _) = spans[k];
        let field = off + len - 4;
        let mut bad = clean.clone();
        bad[field..field + 4].copy_from_slice(&[0xDE, 0xAD, 0xBE, 0xEF]);
        assert_one_skip(&bad, &expected, (field, 4), &format!("tag {k}"));
    }
}

#[test]
fn random_damage_never_panics() {
    let clean = fixture("silent-1764072000.flv");
    let noise = garbage(4096);
    for i in 0..60usize {
        let mut bad = clean.clone();
        // Overwrite a few runs of bytes, then maybe truncate.
        for j in 0..(1 + i % 4) {
            let at = (i * 7919 + j * 104_729) % bad.len();
            let n = (1 + (i * 31 + j) % 40).min(bad.len() - at);
            let src = (i * 97 + j * 13) % (noise.len() - n);
            bad[at..at + n].copy_from_slice(&noise[src..src + n]);
        }
        if i % 3 == 0 {
            bad.truncate((i * 6151) % bad.len());
        }
        if let Ok(mut s) = FlvSession::new(&bad[..], "fuzz") {
            let mut last = [i64::MIN; 2];
            while let Some(e) = s.next_event().unwrap() {
                if let Event::Packet(p) = e {
                    let t = p.track.kind as usize;
                    assert!(p.dts_90k >= last[t], "case {i}: DTS went backwards");
                    last[t] = p.dts_90k;
                }
            }
        }
    }
}

#[test]
fn opening_names_the_stream_and_its_wall_clock() {
    let path = testutil::testdata("studio-1764072000.flv");
    let s = open_path(&path, &InputOptions::default()).unwrap();
    assert_eq!(s.info.key.to_string(), "live/studio");
    assert_eq!(s.info.wall_start_ms, 1_764_072_000_000);
    assert_eq!(s.info.wall_clock, WallClockSource::FileName);
    assert!(s.info.warnings.is_empty());
    assert_eq!(s.size_hint, Some(461_170));
    let mut r = s.open().unwrap();
    assert!(r.config().video.is_some() && r.config().audio.is_some());
    let mut n = 0;
    while r.next_event().unwrap().is_some() {
        n += 1;
    }
    assert_eq!(n, 750 + 1293);
    assert_eq!(r.position(), 461_170);

    let opts = InputOptions {
        app: Some("tv".into()),
        stream: Some("news".into()),
        vdoid: Some("v1".into()),
        start_time_ms: Some(1_000),
        s3: None,
    };
    let s = open_path(&path, &opts).unwrap();
    assert_eq!(s.info.key.to_string(), "tv/news?vdoid=v1");
    assert_eq!(
        (s.info.wall_start_ms, s.info.wall_clock),
        (1_000, WallClockSource::Flag)
    );
}

/// Writes `bytes` to `path` and sets its modification time.
fn write_modified_at(path: &std::path::Path, bytes: &[u8], mtime: std::time::SystemTime) {
    std::fs::write(path, bytes).unwrap();
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(mtime).unwrap();
}

#[test]
fn without_a_time_in_the_name_the_wall_clock_is_mtime_minus_duration() {
    let dir = testutil::scratch("flv-mtime");
    let path = dir.join("clip.flv");
    let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_764_072_100);
    write_modified_at(&path, &fixture("silent-1764072000.flv"), mtime);
    let s = open_path(&path, &InputOptions::default()).unwrap();
    assert_eq!(s.info.key.stream, "clip");
    assert_eq!(s.info.wall_clock, WallClockSource::ModifiedTime);
    // 500 frames at 25 fps: the last one 19.96 s after the first.
    assert_eq!(s.info.wall_start_ms, 1_764_072_100_000 - 19_960);
    assert_eq!(s.info.warnings.len(), 1);
    assert!(
        s.info.warnings[0].contains("modification time"),
        "{:?}",
        s.info.warnings
    );

    // A truncated tail: the duration is no longer readable from the last tag.
    let bytes = fixture("silent-1764072000.flv");
    write_modified_at(&path, &bytes[..bytes.len() - 100], mtime);
    let s = open_path(&path, &InputOptions::default()).unwrap();
    assert_eq!(s.info.wall_clock, WallClockSource::ModifiedTime);
    assert!(s.info.wall_start_ms <= 1_764_072_100_000);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stdin_without_flags_is_guessed_and_said_so() {
    let s = open_stdin(&InputOptions::default()).unwrap();
    assert_eq!(s.info.key.to_string(), "live/stdin");
    assert_eq!(s.info.wall_clock, WallClockSource::ReadTime);
    assert_eq!(s.info.warnings.len(), 2);
    let opts = InputOptions {
        stream: Some("cam".into()),
        start_time_ms: Some(5),
        ..InputOptions::default()
    };
    let s = open_stdin(&opts).unwrap();
    assert_eq!(
        (s.info.wall_start_ms, s.info.wall_clock),
        (5, WallClockSource::Flag)
    );
    assert!(s.info.warnings.is_empty());
}

#[test]
fn a_file_that_is_not_flv_is_an_error() {
    let dir = testutil::scratch("flv-not");
    let path = dir.join("notes-1764072000.flv");
    std::fs::write(&path, b"FLX\x01\x05\x00\x00\x00\x09").unwrap();
    let e = open_path(&path, &InputOptions::default()).unwrap_err();
    assert_eq!(e.offset, Some(0));
    assert!(e.to_string().contains("not an FLV file"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

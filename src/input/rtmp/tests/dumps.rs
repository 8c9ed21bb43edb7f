//! Raw dumps as inputs: publishes become sessions with keys and wall clocks, the summary.

use super::*;
use crate::input::{InputOptions, WallClockSource};
use crate::testutil::scratch;

/// A connection with two publishes of the studio fixture's first and second halves, the second
/// with timestamps continuing (as an encoder that republishes keeps its clock).
fn two_publishes() -> Vec<u8> {
    let tags = fixture_tags(STUDIO);
    let (first, second) = tags.split_at(tags.len() / 2);
    let mut w = Writer::new();
    w.set_chunk_size(4096);
    w.publish_start("live", "cam?vdoid=a1");
    for t in first {
        w.message(&Writer::tag_message(t, 0));
    }
    w.publish_end("cam?vdoid=a1");
    w.publish_start("live", "cam2");
    // The script tag and sequence headers again, then the rest.
    for t in tags.iter().take(3).chain(second) {
        let mut m = Writer::tag_message(t, 0);
        if t.timestamp_ms == 0 {
            m.timestamp_ms = second[0].timestamp_ms;
        }
        w.message(&m);
    }
    w.out
}

#[test]
fn publishes_become_sessions_with_keys_and_wall_clocks() {
    let dir = scratch("rtmp-two-publishes");
    let path = dir.join("conn.rtmp");
    std::fs::write(&path, two_publishes()).unwrap();
    let opts = InputOptions {
        start_time_ms: Some(1_764_072_000_000),
        ..InputOptions::default()
    };
    let sessions = crate::input::open(path.to_str().unwrap(), &opts).unwrap();
    assert_eq!(sessions.len(), 2);
    let (a, b) = (&sessions[0].info, &sessions[1].info);
    assert_eq!((a.key.app.as_str(), a.key.stream.as_str()), ("live", "cam"));
    assert_eq!(a.key.vdoid.as_deref(), Some("a1"));
    assert_eq!(
        (b.key.stream.as_str(), b.key.vdoid.as_deref()),
        ("cam2", None)
    );
    assert_eq!(a.wall_clock, WallClockSource::Flag);
    assert_eq!(a.wall_start_ms, 1_764_072_000_000);
    let tags = fixture_tags(STUDIO);
    let second_ms = i64::from(tags[tags.len() / 2].timestamp_ms);
    assert_eq!(b.wall_start_ms, 1_764_072_000_000 + second_ms);

    let mut all = Vec::new();
    for s in sessions {
        let (config, events) = read_all(&mut *s.open().unwrap());
        assert!(config.video.is_some() && config.audio.is_some());
        assert!(damage(&events).is_empty(), "{:?}", damage(&events));
        all.extend(packets(&events).into_iter().cloned());
    }
    let (_, flv_events) = flv_session(STUDIO);
    let flv: Vec<_> = packets(&flv_events).into_iter().cloned().collect();
    assert_eq!(all.len(), flv.len());
    assert!(all.iter().zip(&flv).all(|(x, y)| x.data == y.data));
}

#[test]
fn wall_clock_from_the_file_name_or_guessed_from_mtime() {
    let dir = scratch("rtmp-wall-clock");
    let named = dir.join("push-1764075600.rtmp");
    let dump = studio_dump(|_| {}, 1, 0);
    std::fs::write(&named, &dump).unwrap();
    let s = open_path(&named, &InputOptions::default()).unwrap();
    assert_eq!(s[0].info.wall_clock, WallClockSource::FileName);
    assert_eq!(s[0].info.wall_start_ms, 1_764_075_600_000);
    assert!(s[0].info.warnings.is_empty());

    let plain = dir.join("push.rtmp");
    std::fs::write(&plain, &dump).unwrap();
    let s = open_path(&plain, &InputOptions::default()).unwrap();
    assert_eq!(s[0].info.wall_clock, WallClockSource::ModifiedTime);
    assert!(s[0].info.warnings[0].contains("modification time"));
    // The key still comes from the dump, not the file name.
    assert_eq!(s[0].info.key.stream, "studio");
}

#[test]
fn summary_lists_publishes() {
    let dir = scratch("rtmp-summary");
    let path = dir.join("conn.rtmp");
    std::fs::write(&path, two_publishes()).unwrap();
    let s = connections_summary(&path).unwrap();
    assert_eq!(s.publishes.len(), 2);
    let p = &s.publishes[0];
    assert_eq!((p.app.as_str(), p.name.as_str()), ("live", "cam"));
    assert_eq!(p.tc_url.as_deref(), Some("rtmp://127.0.0.1:1935/live"));
    assert!(p.unpublished && !s.publishes[1].unpublished);
    assert_eq!(p.first_timestamp_ms, Some(0));
    assert!(p.video_messages > 0 && p.audio_messages > 0 && p.data_messages == 1);
    assert_eq!(s.damage_count, 0);
    let text = s.to_string();
    assert!(text.contains("publish #0 app=\"live\""), "{text}");
    assert!(text.contains("vdoid=\"a1\""), "{text}");
}

#[test]
fn dumps_without_publish_or_media_are_errors() {
    let dir = scratch("rtmp-no-publish");
    let mut w = Writer::new();
    w.command(
        writer::CSID_COMMAND,
        0,
        &[crate::amf0::Value::String("connect".into())],
    );
    let path = dir.join("connect-only.rtmp");
    std::fs::write(&path, &w.out).unwrap();
    let e = crate::input::open(path.to_str().unwrap(), &InputOptions::default()).unwrap_err();
    assert!(e.to_string().contains("no publish command"), "{e}");

    w.publish_start("live", "x");
    std::fs::write(&path, &w.out).unwrap();
    let e = open_path(&path, &InputOptions::default()).unwrap_err();
    assert!(e.to_string().contains("carries media"), "{e}");
}

#[test]
fn real_ffmpeg_publish_dump_equals_its_flv() {
    // ffmpeg 5.1 publishing testdata/push/show-1764075600.flv with -c copy
    // (scripts/gen-rtmp-dump.py): its real chunking, header compression and commands.
    let dump = std::fs::read(testdata("rtmp/show-1764075600.rtmp")).unwrap();
    let (flv_config, flv_events) = flv_session("push/show-1764075600.flv");
    let (config, events) = rtmp_session(&dump, 0);
    assert_eq!(config, flv_config);
    assert!(damage(&events).is_empty(), "{:?}", damage(&events));
    assert_eq!(packets(&events), packets(&flv_events));

    let s = connections_summary(&testdata("rtmp/show-1764075600.rtmp")).unwrap();
    assert_eq!(s.publishes.len(), 1);
    let p = &s.publishes[0];
    assert_eq!((p.app.as_str(), p.name.as_str()), ("live", "show"));
    assert_eq!(p.vdoid.as_deref(), Some("demo42"));
    assert!(p.unpublished);
    assert_eq!(s.damage_count, 0);
}

//! Streams built from the studio fixture's tags parse back to the FLV session's events.

use super::*;
use crate::media::TrackKind;

/// Per-track packets with DTS made relative to the track's first one.
fn tracks(events: &[Event]) -> Vec<(TrackKind, i64, i32, bool, &[u8])> {
    let ps = packets(events);
    let mut out = Vec::new();
    for track in [TrackKind::Video, TrackKind::Audio] {
        let base = ps
            .iter()
            .find(|p| p.track.kind == track)
            .map_or(0, |p| p.dts_90k);
        out.extend(
            ps.iter()
                .filter(|p| p.track.kind == track)
                .map(|p| (track, p.dts_90k - base, p.cts_90k, p.keyframe, &p.data[..])),
        );
    }
    out
}

fn assert_same_as_flv(dump: &[u8], in_order: bool) {
    let (flv_config, flv_events) = flv_session(STUDIO);
    let (config, events) = rtmp_session(dump, 0);
    assert_eq!(config, flv_config);
    assert!(config.video.is_some() && config.audio.is_some());
    assert_eq!(damage(&events), Vec::<&crate::media::Damage>::new());
    assert_eq!(packets(&events).len(), packets(&flv_events).len());
    if in_order {
        assert_eq!(events, flv_events);
    } else {
        assert_eq!(tracks(&events), tracks(&flv_events));
    }
}

#[test]
fn default_chunk_size_128() {
    let dump = studio_dump(|_| {}, 1, 0);
    assert_same_as_flv(&dump, true);
}

#[test]
fn chunk_size_4096() {
    let dump = studio_dump_chunked(4096, 1);
    assert_same_as_flv(&dump, true);
}

#[test]
fn chunk_size_changes_midway_and_odd_sizes() {
    for size in [1, 7, 60_000, 0x7FFF_FFFF] {
        let dump = studio_dump_chunked(size, 1);
        assert_same_as_flv(&dump, true);
    }
}

#[test]
fn interleaved_audio_and_video_chunk_streams() {
    let dump = studio_dump(|_| {}, 2, 0);
    assert_same_as_flv(&dump, false);
    let dump = studio_dump_chunked(300, 5);
    assert_same_as_flv(&dump, false);
}

#[test]
fn type0_headers_only() {
    let dump = studio_dump(|w| w.always_type0 = true, 1, 0);
    assert_same_as_flv(&dump, true);
}

#[test]
fn fed_in_small_pieces() {
    let dump = studio_dump_chunked(4096, 2);
    for block in [1, 3, 17, 1000] {
        let whole = parse(&dump, dump.len());
        // Positions included: offsets are exact whatever the split.
        assert_eq!(parse(&dump, block), whole);
    }
}

#[test]
fn extended_timestamps_around_0xffffff() {
    // The studio push shifted so its timestamps cross 0xFFFFFF at 5 s.
    let shift = 0xFF_FFFF - 5_000;
    for (always_type0, repeat_ext) in [(false, true), (true, true), (true, false), (false, false)] {
        let dump = studio_dump(
            |w| {
                w.always_type0 = always_type0;
                w.repeat_ext = repeat_ext;
            },
            1,
            shift,
        );
        let (flv_config, flv_events) = flv_session(STUDIO);
        let (config, events) = rtmp_session(&dump, 0);
        assert_eq!(
            config, flv_config,
            "type0 {always_type0} repeat {repeat_ext}"
        );
        assert!(damage(&events).is_empty(), "{:?}", damage(&events));
        let (a, b) = (packets(&events), packets(&flv_events));
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.dts_90k - y.dts_90k, i64::from(shift) * 90);
            assert_eq!(
                (x.cts_90k, x.keyframe, &x.data),
                (y.cts_90k, y.keyframe, &y.data)
            );
        }
    }
}

#[test]
fn connect_publish_and_unpublish_commands() {
    let dump = studio_dump(|_| {}, 1, 0);
    let events = parse(&dump, 4096);
    let connect = events.iter().find_map(|e| match e {
        RtmpEvent::Connect { app, tc_url, at } => Some((app.clone(), tc_url.clone(), *at)),
        _ => None,
    });
    let (app, tc_url, at) = connect.unwrap();
    assert_eq!(app, "live");
    assert_eq!(tc_url.as_deref(), Some("rtmp://127.0.0.1:1935/live"));
    // The connect command is the first chunk after the handshake.
    assert_eq!(at.input_offset, chunk::HANDSHAKE_LEN);
    let publish = events.iter().find_map(|e| match e {
        RtmpEvent::Publish {
            name, query, vdoid, ..
        } => Some((name.clone(), query.clone(), vdoid.clone())),
        _ => None,
    });
    assert_eq!(
        publish,
        Some((
            "studio".into(),
            Some("vdoid=v42&token=t".into()),
            Some("v42".into())
        ))
    );
    let unpublishes = events
        .iter()
        .filter(|e| matches!(e, RtmpEvent::Unpublish { .. }))
        .count();
    // FCUnpublish ends it; the deleteStream after it is not a second end.
    assert_eq!(unpublishes, 1);
    assert!(matches!(events.last(), Some(RtmpEvent::Unpublish { .. })));
    let metadata = events.iter().find_map(|e| match e {
        RtmpEvent::Media {
            kind: crate::input::flv::TagKind::Script,
            body,
            ..
        } => Some(body.clone()),
        _ => None,
    });
    let meta = crate::input::flv::FlvMetadata::from_script(&metadata.unwrap()).unwrap();
    assert!(meta.unwrap().video_codec_id.is_some());
}

#[test]
fn abort_discards_the_partial_message() {
    let tags = fixture_tags(STUDIO);
    let mut w = Writer::new();
    w.publish_start("live", "studio");
    for (i, t) in tags.iter().enumerate() {
        let m = Writer::tag_message(t, 0);
        if i == 40 && m.body.len() > w.chunk_size {
            // Half a message, given up with Abort, then sent whole.
            let first = w.chunks(&m)[0].clone();
            w.out.extend_from_slice(&first);
            w.abort(m.csid);
        }
        w.message(&m);
    }
    w.publish_end("studio");
    let (_, flv_events) = flv_session(STUDIO);
    let (_, events) = rtmp_session(&w.out, 0);
    assert!(damage(&events).is_empty(), "{:?}", damage(&events));
    assert_eq!(packets(&events), packets(&flv_events));
}

#[test]
fn long_chunk_stream_ids() {
    for (audio, video) in [(64, 319), (320, 65_599)] {
        let tags = fixture_tags(STUDIO);
        let mut w = Writer::new();
        w.publish_start("live", "studio");
        for t in &tags {
            let mut m = Writer::tag_message(t, 0);
            m.csid = match t.kind {
                crate::input::flv::TagKind::Audio => audio,
                crate::input::flv::TagKind::Video => video,
                _ => m.csid,
            };
            w.message(&m);
        }
        let (_, flv_events) = flv_session(STUDIO);
        let (_, events) = rtmp_session(&w.out, 0);
        assert_eq!(packets(&events), packets(&flv_events));
    }
}

#[test]
fn aggregate_messages_are_split() {
    let tags = fixture_tags(STUDIO);
    let mut w = Writer::new();
    w.publish_start("live", "studio");
    let (head, rest) = tags.split_at(10);
    for t in head {
        w.message(&Writer::tag_message(t, 0));
    }
    // Aggregates of 8 tags, sub-message times relative to an arbitrary base (1000 ms).
    for group in rest.chunks(8) {
        let mut body = Vec::new();
        for t in group {
            let ts = 1000 + t.timestamp_ms - group[0].timestamp_ms;
            let b = ts.to_be_bytes();
            body.push(match t.kind {
                crate::input::flv::TagKind::Audio => 8,
                crate::input::flv::TagKind::Video => 9,
                crate::input::flv::TagKind::Script => 18,
            });
            body.extend_from_slice(&(t.data.len() as u32).to_be_bytes()[1..]);
            body.extend_from_slice(&[b[1], b[2], b[3], b[0], 0, 0, 0]);
            body.extend_from_slice(&t.data);
            body.extend_from_slice(&(11 + t.data.len() as u32).to_be_bytes());
        }
        w.message(&Msg {
            csid: 5,
            type_id: 22,
            timestamp_ms: group[0].timestamp_ms,
            stream_id: writer::STREAM,
            body,
        });
    }
    let (_, flv_events) = flv_session(STUDIO);
    let (_, events) = rtmp_session(&w.out, 0);
    assert!(damage(&events).is_empty(), "{:?}", damage(&events));
    assert_eq!(packets(&events), packets(&flv_events));
}

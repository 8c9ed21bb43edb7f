//! Damaged streams: truncation, corruption, bytes missing from a capture. Never a panic, damage
//! reported with offsets, and no message handed on that is not one the client sent.

use std::collections::HashSet;

use super::*;
use crate::input::rtmp::dump::RtmpSession;
use crate::media::Damage;

/// A small deterministic generator (64-bit LCG, Knuth's constants).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % below.max(1) as u64) as usize
    }
}

fn damage_offset(d: &Damage) -> u64 {
    match d {
        Damage::Skipped { offset, .. }
        | Damage::Truncated { offset, .. }
        | Damage::Dropped { offset, .. }
        | Damage::Discontinuity { offset, .. } => *offset,
    }
}

/// The damage among the parser's events that `pick` picks.
fn damage_where(events: &[RtmpEvent], pick: impl Fn(&Damage) -> bool) -> Vec<&Damage> {
    (events.iter())
        .filter_map(|e| match e {
            RtmpEvent::Damage(d) if pick(d) => Some(d),
            _ => None,
        })
        .collect()
}

/// The media bodies the client sent.
fn sent_bodies() -> HashSet<Vec<u8>> {
    fixture_tags(STUDIO).into_iter().map(|t| t.data).collect()
}

fn media_bodies(events: &[RtmpEvent]) -> Vec<&Vec<u8>> {
    events
        .iter()
        .filter_map(|e| match e {
            RtmpEvent::Media {
                kind: crate::input::flv::TagKind::Audio | crate::input::flv::TagKind::Video,
                body,
                ..
            } => Some(body),
            _ => None,
        })
        .collect()
}

#[test]
fn truncated_dumps_keep_what_came_before() {
    let dump = studio_dump_chunked(4096, 1);
    let (_, full) = rtmp_session(&dump, 0);
    let full = packets(&full);
    let mut rng = Lcg(7);
    let publish_end = 3073 + 400;
    for _ in 0..40 {
        let cut = publish_end + rng.next(dump.len() - publish_end);
        let (_, events) = rtmp_session(&dump[..cut], 0);
        let got = packets(&events);
        assert_eq!(got[..], full[..got.len()], "cut at {cut}");
        for d in damage(&events) {
            assert!(damage_offset(d) <= cut as u64, "{d}");
        }
    }
    // Cut inside a video message: reported as truncated, at that message's offset.
    let events = parse(&dump[..dump.len() / 2], 4096);
    let truncated = damage_where(&events, |d| matches!(d, Damage::Truncated { .. }));
    assert_eq!(truncated.len(), 1, "{truncated:?}");
    assert!(damage_offset(truncated[0]) < dump.len() as u64 / 2);
    // The handshake alone.
    let events = parse(&dump[..2000], 4096);
    assert!(matches!(
        &events[..],
        [RtmpEvent::Damage(Damage::Truncated { offset: 0, .. })]
    ));
}

#[test]
fn random_corruption_never_panics_and_is_reported() {
    let dump = studio_dump(|_| {}, 2, 0);
    let mut rng = Lcg(42);
    for round in 0..150 {
        let mut bad = dump.clone();
        let flips = 1 + rng.next(20);
        for _ in 0..flips {
            let at = rng.next(bad.len());
            bad[at] = rng.next(256) as u8;
        }
        if round % 3 == 0 {
            // A run of garbage, as a bad disk block would leave.
            let at = rng.next(bad.len() - 600);
            for b in &mut bad[at..at + 512] {
                *b = rng.next(256) as u8;
            }
        }
        let events = parse(&bad, 1 + rng.next(5000));
        for d in damage_where(&events, |_| true) {
            assert!(damage_offset(d) <= bad.len() as u64, "round {round}: {d}");
        }
        if let Ok(mut s) = RtmpSession::new(&bad[..], "fuzz", 0, true) {
            read_all(&mut s);
        }
    }
}

#[test]
fn garbage_in_the_middle_resyncs_and_passes_only_sent_messages() {
    let dump = studio_dump_chunked(4096, 1);
    let sent = sent_bodies();
    let mid = dump.len() / 2;
    let mut bad = dump.clone();
    let mut rng = Lcg(3);
    for b in &mut bad[mid..mid + 3000] {
        *b = rng.next(256) as u8;
    }
    let events = parse(&bad, 1400);
    let skipped = damage_where(&events, |d| matches!(d, Damage::Skipped { .. }));
    assert!(!skipped.is_empty());
    // Garbage inside chunk bodies goes unnoticed until a header it replaced fails to parse:
    // within a few chunks (4096 bytes) of it.
    let at = damage_offset(skipped[0]);
    assert!(
        (mid as u64 - 4200..=mid as u64 + 3000 + 3 * 4096).contains(&at),
        "{at} vs {mid}"
    );
    // A chunk body that runs into the garbage is framed right but its content is not what was
    // sent: nothing at the RTMP level can tell. Nothing framed by the garbage is handed on.
    let foreign: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            RtmpEvent::Media { body, at, .. } if !sent.contains(body) => Some(at.input_offset),
            _ => None,
        })
        .collect();
    assert!(foreign.len() <= 2, "{foreign:?}");
    assert!(
        foreign.iter().all(|o| *o < mid as u64),
        "{foreign:?} vs {mid}"
    );
    let bodies = media_bodies(&events);
    // Most of the push survives: the damage (noticed up to a few chunks late, and the type 3
    // messages right after it, which cannot be told from lost tails) costs ~1.5 s of 30 s.
    let total = fixture_tags(STUDIO).len() - 1;
    assert!(bodies.len() + 50 >= total, "{} of {total}", bodies.len());
}

#[test]
fn gaps_inside_a_chunk_keep_step_and_others_resync() {
    let dump = studio_dump_chunked(4096, 2);
    let sent = sent_bodies();
    let total = fixture_tags(STUDIO).len() - 1;
    let segment = 1400;
    for lost_segment in [5, 40, 77, 150, 200] {
        let mut p = RtmpParser::new();
        let mut events = Vec::new();
        for (i, seg) in dump.chunks(segment).enumerate() {
            let offset = (i * segment) as u64;
            if i == lost_segment || i == lost_segment + 1 {
                p.gap(seg.len() as u64, offset);
            } else {
                p.feed(seg, Some(1_000 + i as i64), offset);
            }
            events.extend(p.drain());
        }
        p.finish();
        events.extend(p.drain());
        let bodies = media_bodies(&events);
        assert!(
            bodies.iter().all(|b| sent.contains(*b)),
            "segment {lost_segment}: a message not sent was handed on"
        );
        // 2800 bytes hold up to ~20 small messages of this push; resync costs few more.
        assert!(bodies.len() + 30 >= total, "{} of {total}", bodies.len());
        let first_damage = damage_where(&events, |_| true)
            .first()
            .map(|d| damage_offset(d));
        assert!(first_damage.is_some_and(|o| o <= (lost_segment * segment) as u64 + 1400));
        // Arrival times come from the segment that carried each message's first byte.
        for e in &events {
            if let RtmpEvent::Media { at, .. } = e {
                let seg = at.input_offset as usize / segment;
                assert_eq!(at.arrival_ms, Some(1_000 + seg as i64));
            }
        }
    }
}

#[test]
fn dump_starting_mid_stream_resyncs() {
    let dump = studio_dump_chunked(4096, 1);
    let sent = sent_bodies();
    for start in [10_000, 123_457, 300_001] {
        let events = parse(&dump[start..], 4096);
        let bodies = media_bodies(&events);
        assert!(bodies.len() > 100, "{}", bodies.len());
        assert!(bodies.iter().all(|b| sent.contains(*b)));
        assert!(matches!(
            events[0],
            RtmpEvent::Damage(Damage::Skipped { offset: 0, .. })
        ));
    }
}

#[test]
fn dump_without_handshake() {
    let dump = studio_dump_chunked(4096, 1);
    let (_, flv_events) = flv_session(STUDIO);
    let (_, events) = rtmp_session(&dump[chunk::HANDSHAKE_LEN as usize..], 0);
    assert!(damage(&events).is_empty(), "{:?}", damage(&events));
    assert_eq!(packets(&events), packets(&flv_events));
}

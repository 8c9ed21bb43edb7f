//! Chunk-level tests on hand-built bytes: header forms, state rules, the type 3 extended
//! timestamp conventions, control messages, positions, bounded buffering.

use super::*;

/// C0 + C1 + C2.
fn handshake() -> Vec<u8> {
    let mut b = vec![RTMP_VERSION];
    b.resize(HANDSHAKE_LEN as usize, 0x5A);
    b
}

/// A type 0 header: basic header (1 byte), timestamp field, length, type, stream id.
fn type0(csid: u8, ts: u32, len: usize, type_id: u8, stream_id: u32) -> Vec<u8> {
    let mut h = vec![csid];
    h.extend_from_slice(&ts.min(0xFF_FFFF).to_be_bytes()[1..]);
    h.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
    h.push(type_id);
    h.extend_from_slice(&stream_id.to_le_bytes());
    if ts >= 0xFF_FFFF {
        h.extend_from_slice(&ts.to_be_bytes());
    }
    h
}

/// A reader fed `bytes` from offset 0, without arrival times.
fn fed(bytes: &[u8]) -> ChunkReader {
    let mut r = ChunkReader::new();
    r.feed(bytes, None, 0);
    r
}

/// The events a reader holds.
fn drain(r: &mut ChunkReader) -> Vec<ChunkEvent> {
    std::iter::from_fn(|| r.next_event()).collect()
}

fn run(bytes: &[u8]) -> Vec<ChunkEvent> {
    let mut r = fed(bytes);
    r.finish();
    drain(&mut r)
}

/// The messages and the damage among a chunk reader's events.
fn sorted(events: &[ChunkEvent]) -> (Vec<&Message>, Vec<&Damage>) {
    let (mut messages, mut damage) = (Vec::new(), Vec::new());
    for e in events {
        match e {
            ChunkEvent::Message(m) => messages.push(m),
            ChunkEvent::Damage(d) => damage.push(d),
        }
    }
    (messages, damage)
}

fn messages(events: &[ChunkEvent]) -> Vec<&Message> {
    sorted(events).0
}

fn damages(events: &[ChunkEvent]) -> Vec<&Damage> {
    sorted(events).1
}

/// The one damage among `events`.
fn only_damage(events: &[ChunkEvent]) -> &Damage {
    let d = damages(events);
    assert_eq!(d.len(), 1, "{events:?}");
    d[0]
}

/// A video body of `n` bytes (an inter frame's header then filler).
fn video(n: usize) -> Vec<u8> {
    let mut b = vec![0x27, 1, 0, 0, 0];
    b.resize(n, 0x11);
    b
}

#[test]
fn type3_continuations_with_and_without_the_extended_timestamp_repeat() {
    let ts = 0x0100_0000;
    for repeat in [true, false] {
        let body = video(300);
        let mut b = handshake();
        b.extend(type0(6, ts, body.len(), 9, 1));
        for (i, part) in body.chunks(DEFAULT_CHUNK_SIZE).enumerate() {
            if i > 0 {
                b.push(0xC6);
                if repeat {
                    b.extend_from_slice(&ts.to_be_bytes());
                }
            }
            b.extend_from_slice(part);
        }
        let events = run(&b);
        assert!(damages(&events).is_empty(), "{events:?}");
        let m = messages(&events);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].timestamp_ms, &m[0].body), (ts, &body));
    }
}

#[test]
fn type1_2_3_headers_inherit_and_add_deltas() {
    let mut b = handshake();
    b.extend(type0(4, 1000, 4, 8, 1));
    b.extend_from_slice(&[0xAF, 1, 2, 3]);
    // Type 1: delta 23, new length.
    b.extend_from_slice(&[0x44, 0, 0, 23, 0, 0, 5, 8]);
    b.extend_from_slice(&[0xAF, 1, 2, 3, 4]);
    // Type 2: delta 21, same length.
    b.extend_from_slice(&[0x84, 0, 0, 21]);
    b.extend_from_slice(&[0xAF, 1, 9, 9, 9]);
    // Type 3: same delta again.
    b.push(0xC4);
    b.extend_from_slice(&[0xAF, 1, 8, 8, 8]);
    let events = run(&b);
    let ts: Vec<u32> = messages(&events).iter().map(|m| m.timestamp_ms).collect();
    assert_eq!(ts, [1000, 1023, 1044, 1065]);
    assert!(messages(&events).iter().all(|m| m.stream_id == 1));
}

#[test]
fn headers_without_a_type0_lose_sync_and_librtmp_type1_on_stream_2_is_accepted() {
    let mut b = handshake();
    // librtmp: Window Acknowledgement Size with a type 1 header on chunk stream 2.
    b.extend_from_slice(&[0x42, 0, 0, 0, 0, 0, 4, 5]);
    b.extend_from_slice(&2_500_000u32.to_be_bytes());
    let events = run(&b);
    assert!(damages(&events).is_empty(), "{events:?}");
    assert_eq!(messages(&events)[0].type_id, 5);
    // A type 2 header on a chunk stream nothing opened.
    let mut b = handshake();
    b.extend_from_slice(&[0x87, 0, 0, 1, 1, 2, 3]);
    let events = run(&b);
    let d = only_damage(&events);
    assert!(matches!(d, Damage::Skipped { offset: 3073, .. }), "{d}");
}

#[test]
fn set_chunk_size_zero_is_reported_and_ignored() {
    let mut b = handshake();
    b.extend(type0(2, 0, 4, TYPE_SET_CHUNK_SIZE, 0));
    b.extend_from_slice(&0x8000_0000u32.to_be_bytes());
    let mut r = fed(&b);
    assert_eq!(r.chunk_size(), DEFAULT_CHUNK_SIZE);
    let d = r.next_event();
    assert!(
        matches!(&d, Some(ChunkEvent::Damage(Damage::Dropped { offset: 3073, what })) if what.contains("Set Chunk Size 0")),
        "{d:?}"
    );
}

#[test]
fn a_new_header_inside_a_message_drops_it() {
    let mut b = handshake();
    b.extend(type0(6, 0, 300, 9, 1));
    b.extend(video(DEFAULT_CHUNK_SIZE));
    // A type 0 header on the same chunk stream before the message is complete.
    b.extend(type0(6, 40, 10, 9, 1));
    b.extend(video(10));
    let events = run(&b);
    assert_eq!(messages(&events).len(), 1);
    assert_eq!(messages(&events)[0].timestamp_ms, 40);
    let d = only_damage(&events);
    assert!(matches!(d, Damage::Dropped { offset: 3073, .. }), "{d}");
}

#[test]
fn length_fields_size_nothing() {
    // A 16 MiB message announced, 10 bytes sent: reported as such, nothing reserved.
    let mut b = handshake();
    b.extend_from_slice(&[2, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0]);
    b.extend_from_slice(&0x7FFF_FFFFu32.to_be_bytes());
    b.extend(type0(6, 0, 0xFF_FFFF, 9, 1));
    b.extend(video(10));
    let mut r = fed(&b);
    let p = r.streams[&6].partial.as_ref().unwrap();
    assert!(p.body.capacity() < 1024, "{}", p.body.capacity());
    r.finish();
    let events = drain(&mut r);
    assert!(
        matches!(damages(&events)[..], [Damage::Truncated { what, .. }] if what.contains("10 of 16777215")),
        "{events:?}"
    );
}

#[test]
fn positions_follow_the_fed_segments() {
    let mut b = handshake();
    let at = b.len();
    b.extend(type0(4, 0, 3, 8, 1));
    b.extend_from_slice(&[0xAF, 1, 7]);
    let mut r = ChunkReader::new();
    // Split inside the header; the capture passes the file offsets of each payload.
    r.feed(&b[..at + 2], Some(5_000), 100);
    r.feed(&b[at + 2..], Some(5_040), 90_000);
    let m = match r.next_event() {
        Some(ChunkEvent::Message(m)) => m,
        e => panic!("{e:?}"),
    };
    assert_eq!(
        m.at,
        Position {
            input_offset: 100 + at as u64,
            arrival_ms: Some(5_000)
        }
    );
}

#[test]
fn buffered_bytes_stay_small_while_resynchronising() {
    let mut r = ChunkReader::new();
    r.feed(&[0xFF; 10], None, 0);
    // Garbage without any header: consumed as it arrives.
    for i in 0..200u64 {
        r.feed(&[0xE5; 4096], None, 10 + i * 4096);
        assert!(r.buf.len() < MAX_HEADER_LEN * 2, "{}", r.buf.len());
    }
    r.finish();
    let d = drain(&mut r);
    assert!(
        matches!(&d[..], [ChunkEvent::Damage(Damage::Skipped { offset: 0, len, .. })] if *len == 10 + 200 * 4096),
        "{d:?}"
    );
}

#[test]
fn a_gap_inside_a_chunk_costs_only_its_message() {
    let mut b = handshake();
    b.extend(type0(6, 0, 300, 9, 1));
    let body = video(300);
    b.extend_from_slice(&body[..DEFAULT_CHUNK_SIZE]);
    let cont = b.len();
    b.push(0xC6);
    b.extend_from_slice(&body[DEFAULT_CHUNK_SIZE..2 * DEFAULT_CHUNK_SIZE]);
    b.push(0xC6);
    b.extend_from_slice(&body[2 * DEFAULT_CHUNK_SIZE..]);
    b.extend(type0(4, 10, 3, 8, 1));
    b.extend_from_slice(&[0xAF, 1, 7]);
    let mut r = ChunkReader::new();
    // 20 bytes of the second chunk's body never arrive.
    r.feed(&b[..cont + 11], None, 0);
    r.gap(20, cont as u64 + 11);
    r.feed(&b[cont + 31..], None, cont as u64 + 31);
    r.finish();
    let events = drain(&mut r);
    let m = messages(&events);
    assert_eq!(m.len(), 1, "{events:?}");
    assert_eq!((m[0].type_id, m[0].timestamp_ms), (8, 10));
    let d = damages(&events);
    assert!(
        matches!(
            d[..],
            [
                Damage::Skipped { len: 20, .. },
                Damage::Dropped { offset: 3073, .. }
            ]
        ),
        "{d:?}"
    );
}

/// A stream with a 16 MiB chunk size that loses sync, then a 1 MiB video message in one chunk,
/// then two small ones.
fn big_chunk_after_damage() -> (Vec<u8>, usize) {
    let mut b = handshake();
    b.extend(type0(2, 0, 4, TYPE_SET_CHUNK_SIZE, 0));
    b.extend_from_slice(&0x0100_0000u32.to_be_bytes());
    b.push(0xFF);
    let at = b.len();
    for (ts, len) in [(0, 1 << 20), (40, 900), (80, 700)] {
        b.extend(type0(4, ts, len, 9, 1));
        b.extend(video(len));
    }
    (b, at)
}

#[test]
fn resynchronising_buffers_at_most_the_look_ahead() {
    let (b, _) = big_chunk_after_damage();
    let mut r = ChunkReader::new();
    let mut max = 0;
    for (i, piece) in b.chunks(4096).enumerate() {
        r.feed(piece, None, (i * 4096) as u64);
        max = max.max(r.buf.len());
    }
    // The trial of the 1 MiB chunk never sees more than its look-ahead, so it decides there
    // instead of buffering the message (or, on a longer stream, everything after it).
    assert!(max <= resync::MAX_LOOKAHEAD + 4096, "{max} bytes buffered");
    r.finish();
    let events = drain(&mut r);
    assert_eq!(messages(&events).len(), 3, "{:?}", damages(&events));
}

#[test]
fn a_resynchronisation_is_the_same_however_the_bytes_are_fed() {
    let (b, at) = big_chunk_after_damage();
    let whole = run(&b);
    assert!(
        matches!(damages(&whole)[..], [Damage::Skipped { offset, len: 1, .. }] if *offset == at as u64 - 1),
        "{:?}",
        damages(&whole)
    );
    for piece in [1, 7, 1460, 65_536] {
        let mut r = ChunkReader::new();
        for (i, p) in b.chunks(piece).enumerate() {
            r.feed(p, None, (i * piece) as u64);
        }
        r.finish();
        let events = drain(&mut r);
        assert_eq!(events, whole, "{piece}-byte pieces");
    }
}

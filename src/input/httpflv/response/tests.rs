use super::*;
use crate::input::flv::TagReader;
use crate::testutil::testdata;

/// An FLV served chunked in `step`-byte chunks, fed in `piece`-byte pieces, after another
/// response on the same connection.
fn served(flv: &[u8], step: usize, piece: usize) -> Vec<HttpEvent> {
    let mut wire =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\n<x/>\n".to_vec();
    wire.extend_from_slice(
        b"HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    for c in flv.chunks(step) {
        wire.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        wire.extend_from_slice(c);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    let mut p = ResponseParser::new("test");
    let mut events = Vec::new();
    for (i, c) in wire.chunks(piece).enumerate() {
        p.feed(c, Some(i as i64), (i * piece) as u64);
        events.extend(p.drain());
    }
    p.finish(wire.len() as u64);
    events.extend(p.drain());
    events
}

/// The events of a parser fed `pieces` (bytes and their offset), finished at `end` when given.
fn parsed(pieces: &[(&[u8], u64)], end: Option<u64>) -> Vec<HttpEvent> {
    let mut p = ResponseParser::new("test");
    for (bytes, offset) in pieces {
        p.feed(bytes, None, *offset);
    }
    if let Some(end) = end {
        p.finish(end);
    }
    p.drain().collect()
}

fn has_damage(events: &[HttpEvent]) -> bool {
    events.iter().any(|e| matches!(e, HttpEvent::Damage(_)))
}

#[test]
fn chunked_flv_after_a_keep_alive_response_gives_the_file_tags() {
    let flv = std::fs::read(testdata("play/published.flv")).unwrap();
    let (mut r, _) = TagReader::new(&flv[..], "published.flv").unwrap();
    let mut want = Vec::new();
    while let Some(e) = r.next_event().unwrap() {
        if let crate::input::flv::TagEvent::Tag(t) = e {
            want.push((t.kind, t.timestamp_ms, t.data));
        }
    }
    for (step, piece) in [(4093, 1500), (7, 3), (100_000, 1)] {
        let events = served(&flv, step, piece);
        let got: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                HttpEvent::Tag(t, _) => Some((t.kind, t.timestamp_ms, t.data.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(got, want, "chunks of {step}, pieces of {piece}");
        let responses = events
            .iter()
            .filter(|e| matches!(e, HttpEvent::Response { .. }))
            .count();
        assert_eq!(responses, 2);
        let damage: Vec<_> = events
            .iter()
            .filter(|e| matches!(e, HttpEvent::Damage(_)))
            .collect();
        assert!(damage.is_empty(), "{damage:?}");
    }
}

#[test]
fn a_body_cut_short_is_damage_and_never_panics() {
    let flv = std::fs::read(testdata("play/published.flv")).unwrap();
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\n\r\n";
    let events = parsed(&[(head, 0), (&flv[..1000], 50)], Some(1050));
    assert!(has_damage(&events), "{events:?}");
    let bad_chunk = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    let events = parsed(&[(bad_chunk, 0)], None);
    assert!(has_damage(&events), "{events:?}");
}

#[test]
fn a_decoded_body_under_a_chunked_header_is_read_as_it_is() {
    // `curl -i` keeps `Transfer-Encoding: chunked` but saves the body decoded.
    let flv = std::fs::read(testdata("play/published.flv")).unwrap();
    let head =
        b"HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nTransfer-Encoding: chunked\r\n\r\nF";
    let events = parsed(&[(head, 0), (&flv[1..], 80)], Some(80 + flv.len() as u64));
    let tags = events
        .iter()
        .filter(|e| matches!(e, HttpEvent::Tag(..)))
        .count();
    assert_eq!(tags, 152, "{:?}", events.last());
    assert!(!has_damage(&events), "{events:?}");
}

#[test]
fn cut_and_flipped_copies_of_a_saved_response_never_panic_and_end() {
    use crate::input::SessionReader;
    use crate::input::httpflv::file::HttpFlvSession;
    let saved = std::fs::read(testdata("play/hot.curl")).unwrap();
    for cut in (0..saved.len()).step_by(173) {
        let mut bytes = saved[..cut].to_vec();
        if let Some(b) = bytes.get_mut(cut / 2) {
            *b ^= 0x5a;
        }
        let mut p = ResponseParser::new("test");
        for c in bytes.chunks(61) {
            p.feed(c, None, 0);
        }
        p.finish(bytes.len() as u64);
        let _ = p.drain().count();
        if let Ok(mut s) = HttpFlvSession::new(std::io::Cursor::new(bytes), "cut.curl", 0) {
            let mut n = 0;
            while let Ok(Some(_)) = s.next_event() {
                n += 1;
                assert!(n < 10_000, "cut at {cut}: the session does not end");
            }
        }
    }
}

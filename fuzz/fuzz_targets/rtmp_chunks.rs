//! RTMP handshake and chunk stream → events, over arbitrary bytes fed in pieces (as TCP
//! segments arrive), with a hole in the middle for some inputs: no panic, every damage report
//! and every message position points inside the input (and the hole), no media body is larger than the input,
//! and the events of one feed are bounded by its bytes.

#![no_main]

use kls_rec::input::rtmp::{Position, RtmpEvent, RtmpParser};
use kls_rec_fuzz::{MAX_INPUT, check_damage, check_position};
use libfuzzer_sys::fuzz_target;

fn check(event: &RtmpEvent, len: usize) {
    let at = |p: &Position| check_position(p, len);
    match event {
        RtmpEvent::Damage(d) => check_damage(d, len),
        RtmpEvent::Connect { at: p, .. }
        | RtmpEvent::Publish { at: p, .. }
        | RtmpEvent::Play { at: p, .. }
        | RtmpEvent::PlayStart { at: p, .. }
        | RtmpEvent::Unpublish { at: p } => at(p),
        RtmpEvent::Media { body, at: p, .. } => {
            at(p);
            assert!(body.len() <= len, "media body larger than the input");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_INPUT {
        return;
    }
    // Piece sizes and the hole derive from the length, so a finding reproduces from its file
    // alone and fixture-derived seeds need no prefix.
    let pieces = [usize::MAX, 1, 7, 128, 1460];
    let piece = pieces[data.len() % pieces.len()];
    let hole_at = (data.len() % 3 == 1).then_some(data.len() / 2);
    let mut parser = RtmpParser::new();
    let mut offset = 0usize;
    let mut rest = data;
    let mut events = 0usize;
    // A hole's report names bytes the stream lacks, which the input does not hold either.
    let lost = (data.len() % 17) + 1;
    let bound = data.len() + hole_at.map_or(0, |_| lost);
    while !rest.is_empty() {
        let n = piece.min(rest.len());
        let (now, later) = rest.split_at(n);
        parser.feed(now, Some(offset as i64), offset as u64);
        offset += n;
        rest = later;
        if hole_at.is_some_and(|h| offset >= h && offset - n < h) {
            // The bytes that follow stand for ones after a hole of a few bytes.
            parser.gap(lost as u64, offset as u64);
        }
        for e in parser.drain() {
            check(&e, bound);
            events += 1;
        }
        assert!(parser.chunk_size() >= 1, "chunk size 0");
    }
    parser.finish();
    for e in parser.drain() {
        check(&e, bound);
        events += 1;
    }
    // Every message takes at least one byte of chunk header; reports come a few per message.
    assert!(
        events <= 4 * data.len() + 16,
        "{events} events from {} bytes",
        data.len()
    );
});

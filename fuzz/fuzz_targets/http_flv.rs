//! HTTP-FLV responses → tags, over arbitrary bytes fed in pieces (as TCP segments arrive), with
//! a hole for some inputs; and the same bytes as a saved `curl -i` file read as a push session:
//! no panic, every position and damage report inside the input (and the hole), no tag body
//! larger than the input, and the request-line reader never panics either.

#![no_main]

use std::io::Cursor;

use kls_rec::input::SessionReader;
use kls_rec::input::httpflv::file::HttpFlvSession;
use kls_rec::input::httpflv::{HttpEvent, RequestLines, ResponseParser, key_of_path};
use kls_rec::input::rtmp::Position;
use kls_rec_fuzz::{MAX_INPUT, check_damage, check_position};
use libfuzzer_sys::fuzz_target;

fn check(event: &HttpEvent, bound: usize) {
    let at = |p: &Position| check_position(p, bound);
    match event {
        HttpEvent::Damage(d) => check_damage(d, bound),
        HttpEvent::Response { at: p, .. } | HttpEvent::BodyEnd { at: p } => at(p),
        HttpEvent::Tag(tag, p) => {
            at(p);
            assert!(tag.data.len() <= bound, "tag body larger than the input");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_INPUT {
        return;
    }
    // Piece sizes and the hole derive from the length, so a finding reproduces from its file.
    let pieces = [usize::MAX, 1, 7, 128, 1460];
    let piece = pieces[data.len() % pieces.len()];
    let hole_at = (data.len() % 3 == 1).then_some(data.len() / 2);
    let lost = (data.len() % 17) + 1;
    let bound = data.len() + hole_at.map_or(0, |_| lost);
    let mut parser = ResponseParser::new("fuzz.http");
    let mut requests = RequestLines::new();
    let mut offset = 0usize;
    let mut rest = data;
    while !rest.is_empty() {
        let n = piece.min(rest.len());
        if hole_at.is_some_and(|h| (offset..offset + n).contains(&h)) {
            parser.gap(lost as u64, offset as u64);
        }
        parser.feed(&rest[..n], Some(offset as i64), offset as u64);
        requests.feed(&rest[..n]);
        parser.drain().for_each(|e| check(&e, bound));
        offset += n;
        rest = &rest[n..];
    }
    parser.finish(data.len() as u64);
    parser.drain().for_each(|e| check(&e, bound));
    for line in requests.lines() {
        let _ = key_of_path(line);
    }
    // The same bytes as a saved response.
    if let Ok(mut s) = HttpFlvSession::new(Cursor::new(data.to_vec()), "fuzz.curl", 0) {
        for _ in 0..=data.len() + 64 {
            match s.next_event() {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return,
            }
        }
        panic!("the HTTP-FLV session did not end");
    }
});

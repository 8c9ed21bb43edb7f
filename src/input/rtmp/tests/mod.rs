//! RTMP input tests: streams built by a test writer from the FLV fixtures' tags and parsed back
//! (packets and configuration equal the FLV's), chunking variants, damage, dumps as inputs.

use crate::testutil::fixtures::{damage, packets};
use std::sync::Arc;

use super::*;
use crate::input::SessionReader;
use crate::input::flv::FlvSession;
use crate::input::rtmp::dump::RtmpSession;
use crate::media::{CodecConfig, Event};
use crate::testutil::testdata;

mod damage;
mod dumps;
mod roundtrip;
mod writer;

use writer::{Msg, Writer, fixture_tags};

pub(crate) const STUDIO: &str = "studio-1764072000.flv";

/// All events of a session reader.
fn read_all<S: SessionReader + ?Sized>(s: &mut S) -> (Arc<CodecConfig>, Vec<Event>) {
    let config = s.config().clone();
    let mut events = Vec::new();
    while let Some(e) = s.next_event().unwrap() {
        events.push(e);
    }
    (config, events)
}

/// The FLV fixture read as a session.
fn flv_session(name: &str) -> (Arc<CodecConfig>, Vec<Event>) {
    let bytes = std::fs::read(testdata(name)).unwrap();
    read_all(&mut FlvSession::new(&bytes[..], name).unwrap())
}

/// Publish number `target` of a dump read as a session.
fn rtmp_session(dump: &[u8], target: usize) -> (Arc<CodecConfig>, Vec<Event>) {
    read_all(&mut RtmpSession::new(dump, "built", target, true).unwrap())
}

/// The parser's events for `bytes` fed in blocks of `block` bytes.
fn parse(bytes: &[u8], block: usize) -> Vec<RtmpEvent> {
    let mut p = RtmpParser::new();
    let mut events = Vec::new();
    for (i, b) in bytes.chunks(block.max(1)).enumerate() {
        p.feed(b, None, (i * block) as u64);
        events.extend(p.drain());
    }
    p.finish();
    events.extend(p.drain());
    events
}

/// [`studio_dump`] in chunks of `chunk_size` bytes.
fn studio_dump_chunked(chunk_size: usize, group: usize) -> Vec<u8> {
    studio_dump(
        |w| {
            w.set_chunk_size(chunk_size);
        },
        group,
        0,
    )
}

/// A dump of one publish of the studio fixture, built with `setup` applied to the writer and
/// each group of `group` consecutive tags interleaved (1: no interleaving).
fn studio_dump(setup: impl FnOnce(&mut Writer), group: usize, shift_ms: u32) -> Vec<u8> {
    let tags = fixture_tags(STUDIO);
    let mut w = Writer::new();
    setup(&mut w);
    w.publish_start("live", "studio?vdoid=v42&token=t");
    for g in tags.chunks(group.max(1)) {
        let msgs: Vec<Msg> = g.iter().map(|t| Writer::tag_message(t, shift_ms)).collect();
        // Interleaving needs distinct chunk streams: split runs at a repeated one.
        let mut start = 0;
        for i in 1..=msgs.len() {
            if i == msgs.len() || msgs[start..i].iter().any(|m| m.csid == msgs[i].csid) {
                w.interleave(&msgs[start..i]);
                start = i;
            }
        }
    }
    w.publish_end("studio?vdoid=v42&token=t");
    w.out
}

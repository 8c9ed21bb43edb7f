//! FLV framing over arbitrary bytes, delivered in short reads: no panic, every event points
//! inside the input, tags come in increasing offset order, and the reader always ends.

#![no_main]

use kls_rec::input::flv::{TagEvent, TagReader};
use kls_rec_fuzz::{ChunkedReader, MAX_INPUT, check_damage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_INPUT {
        return;
    }
    let Ok((mut tags, damage)) = TagReader::new(ChunkedReader::new(data), "fuzz.flv") else {
        return;
    };
    for d in &damage {
        check_damage(d, data.len());
    }
    let mut last_tag_end = 0u64;
    // Every event consumes at least one byte, so more events than bytes means a loop.
    for _ in 0..=data.len() + 2 {
        match tags.next_event() {
            Err(_) | Ok(None) => return,
            Ok(Some(TagEvent::Damage(d))) => check_damage(&d, data.len()),
            Ok(Some(TagEvent::Tag(t))) => {
                assert!(
                    t.offset >= last_tag_end,
                    "tag at {} overlaps the one before",
                    t.offset
                );
                let end = t.offset + 11 + t.data.len() as u64;
                assert!(
                    end <= data.len() as u64,
                    "tag at {} ends beyond the input",
                    t.offset
                );
                last_tag_end = end;
            }
        }
        assert!(
            tags.position() <= data.len() as u64,
            "position beyond the input"
        );
    }
    panic!("the tag reader did not end");
});

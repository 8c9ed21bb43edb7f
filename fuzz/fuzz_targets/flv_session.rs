//! FLV tags → one push session, over arbitrary bytes in short reads: no panic, per track the
//! DTS never decreases (discontinuities are repaired), composition offsets stay within FLV's
//! signed 24-bit milliseconds, every damage report points inside the input, and it ends.

#![no_main]

use kls_rec::input::SessionReader;
use kls_rec::input::flv::FlvSession;
use kls_rec::media::Event;
use kls_rec_fuzz::{ChunkedReader, DtsOrder, MAX_INPUT, check_damage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_INPUT {
        return;
    }
    let Ok(mut session) = FlvSession::new(ChunkedReader::new(data), "fuzz.flv") else {
        return;
    };
    let _ = session.config();
    let mut dts_order = DtsOrder::default();
    // Each tag (≥ 15 bytes) yields a packet plus at most a few reports.
    for _ in 0..=4 * data.len() + 8 {
        let event = match session.next_event() {
            Err(_) | Ok(None) => return,
            Ok(Some(e)) => e,
        };
        match event {
            Event::Damage(d) => check_damage(&d, data.len()),
            Event::Config(_) => {}
            Event::NotRecorded(n) => assert!(n.offset <= data.len() as u64, "{n}"),
            Event::Packet(p) => {
                dts_order.check(&p);
                // CompositionTime is SI24 milliseconds.
                let cts_range_90k = -(1 << 23) * 90..(1 << 23) * 90;
                assert!(cts_range_90k.contains(&p.cts_90k), "cts {}", p.cts_90k);
                assert!(!p.data.is_empty(), "empty packet");
                assert!(p.data.len() <= data.len(), "packet larger than the input");
            }
        }
        assert!(
            session.position() <= data.len() as u64,
            "position beyond the input"
        );
    }
    panic!("the session reader did not end");
});

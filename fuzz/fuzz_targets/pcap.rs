//! Packet captures (pcap, pcapng) → frames → TCP segments → RTMP client streams, over arbitrary
//! bytes read from memory, then the TCP reassembler alone over arbitrary segments. No panic;
//! every damage report and every packet mark points inside the input; what a reassembler
//! delivers (bytes and declared holes) adds up to its stream offset, and after `flush` nothing
//! stays buffered.

#![no_main]

use std::io::Cursor;

use kls_rec::input::pcap::capture::CaptureReader;
use kls_rec::input::pcap::flows::FlowEvent;
use kls_rec::input::pcap::stream::{Item, Pass};
use kls_rec::input::pcap::tcp::{Mark, Output, Reassembler};
use kls_rec_fuzz::{MAX_INPUT, check_damage};
use libfuzzer_sys::fuzz_target;

fn capture(data: &[u8]) {
    let len = data.len() as u64;
    let Ok(reader) = CaptureReader::new(Cursor::new(data.to_vec()), "fuzz.pcap") else {
        return;
    };
    let mut pass = Pass::new(reader, None);
    let mark = |m: &Mark| {
        assert!(
            m.offset <= len,
            "packet mark at byte {} beyond {len}",
            m.offset
        )
    };
    // A record header is at least 12 bytes; each yields a few items at most.
    for _ in 0..=4 * data.len() + 64 {
        let item = match pass.next_item() {
            Err(_) | Ok(None) => return,
            Ok(Some(i)) => i,
        };
        match &item {
            Item::Damage(d) => check_damage(d, data.len()),
            Item::Flow(FlowEvent::Start { .. }) => {}
            Item::Flow(FlowEvent::Data { bytes, mark: m, .. }) => {
                mark(m);
                assert!(
                    bytes.len() <= data.len(),
                    "stream bytes larger than the input"
                );
            }
            Item::Flow(
                FlowEvent::Gap { mark: m, .. }
                | FlowEvent::End { mark: m, .. }
                | FlowEvent::Other { mark: m, .. },
            ) => mark(m),
        }
        assert!(pass.position() <= len, "position beyond the input");
    }
    panic!("the capture pass did not end");
}

/// Segments: 4 bytes sequence number (big-endian), 1 byte length, that many payload bytes.
fn reassembly(data: &[u8]) {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    let isn = (first & 1 == 1).then_some(u32::from(first).wrapping_mul(0x0101_0101));
    let mut r = Reassembler::new(isn, u64::from(first >> 1) * 8);
    let mut out = Vec::new();
    let mut frame = 0u64;
    while let [a, b, c, d, n, tail @ ..] = rest {
        let n = usize::from(*n).min(tail.len());
        let (payload, next) = tail.split_at(n);
        frame += 1;
        let mark = Mark {
            frame,
            offset: frame,
            time_ms: 0,
        };
        r.push(
            u32::from_be_bytes([*a, *b, *c, *d]),
            payload,
            mark,
            &mut out,
        );
        rest = next;
    }
    r.flush(&mut out);
    assert!(!r.has_pending(), "bytes left buffered after flush");
    let mut total = 0u64;
    for o in &out {
        match o {
            Output::Data { bytes, .. } => {
                assert!(!bytes.is_empty(), "empty data output");
                total += bytes.len() as u64;
            }
            Output::Gap { lost, .. } => {
                assert!(*lost > 0, "empty gap");
                total += lost;
            }
        }
    }
    assert_eq!(
        total,
        r.delivered(),
        "outputs do not add up to the stream offset"
    );
}

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_INPUT {
        return;
    }
    capture(data);
    reassembly(data);
});

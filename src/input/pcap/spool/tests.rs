use std::net::SocketAddr;
use std::time::Instant;

use super::*;
use crate::input::pcap::flows::Carrier;
use crate::input::pcap::open_path;
use crate::input::{InputOptions, SessionReader};
use crate::media::Event;
use crate::testutil::{scratch, testdata};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn items_come_back_in_order_with_their_positions() {
    let mark = Mark {
        frame: 7,
        offset: 1234,
        time_ms: -5,
    };
    let start = FlowEvent::Start {
        conn: 3,
        client: addr("10.0.0.1:5000"),
        server: addr("10.0.0.2:1935"),
        carrier: Carrier::Rtmp,
    };
    let items = vec![
        Item::Flow(start.clone()),
        Item::Flow(FlowEvent::Data {
            conn: 3,
            dir: Dir::ServerToClient,
            bytes: vec![3; 100_000],
            mark,
        }),
        Item::Damage(Damage::Dropped {
            offset: 9,
            what: "x".into(),
        }),
        Item::Damage(Damage::Skipped {
            offset: 1,
            len: 2,
            what: "é".into(),
        }),
        Item::Damage(Damage::Truncated {
            offset: 4,
            what: String::new(),
        }),
        Item::Damage(Damage::Discontinuity {
            track: crate::media::Track::AUDIO,
            offset: 5,
            from_dts_90k: -1,
            to_dts_90k: i64::MAX,
        }),
        Item::Flow(FlowEvent::Gap {
            conn: 3,
            dir: Dir::ClientToServer,
            lost: 77,
            mark,
        }),
        Item::Flow(FlowEvent::End { conn: 3, mark }),
    ];
    let mut w = SpoolWriter::create().unwrap();
    // Another connection's items, and damage before connection 3 began, are not its own.
    w.item(
        &Item::Damage(Damage::Dropped {
            offset: 0,
            what: "before".into(),
        }),
        1,
    )
    .unwrap();
    w.item(
        &Item::Flow(FlowEvent::Start {
            conn: 4,
            client: addr("10.0.0.3:5000"),
            server: addr("10.0.0.2:1935"),
            carrier: Carrier::Http,
        }),
        2,
    )
    .unwrap();
    for (i, item) in items.iter().enumerate() {
        w.item(item, 10 + i as u64).unwrap();
    }
    let spool = w.finish().unwrap();
    let mut r = spool.reader(3, start);
    let mut got = Vec::new();
    while let Some(x) = r.next_item().unwrap() {
        got.push(x);
    }
    let want: Vec<(Item, u64)> = items
        .into_iter()
        .enumerate()
        .map(|(i, x)| (x, 10 + i as u64))
        .collect();
    assert_eq!(got, want);
    // Connection 4 saw the damage after it began, and never ended: its buffer is still kept.
    let mut r = spool.reader(4, FlowEvent::End { conn: 4, mark });
    let mut n = 0;
    while r.next_item().unwrap().is_some() {
        n += 1;
    }
    assert_eq!(n, 1 + 4);
    assert!(
        spool
            .reader(99, FlowEvent::End { conn: 99, mark })
            .next_item()
            .unwrap()
            .is_none()
    );
}

/// `copies` copies of the committed capture's two pushes, merged in time order, each copy's
/// connections on client ports of their own and `stagger_ms` later than the previous copy's: a
/// test-sized cousin of `scripts/gen-capture-fleet.py` (checksums are not recomputed here: the
/// reader does not check them).
fn fleet(copies: usize, stagger_ms: i64) -> Vec<u8> {
    let src = std::fs::read(testdata("capture/cam.pcap")).unwrap();
    let (head, mut at) = (&src[..24], 24);
    let mut records = Vec::new();
    while at + 16 <= src.len() {
        let word = |i: usize| u32::from_le_bytes(src[at + i..at + i + 4].try_into().unwrap());
        let t = i64::from(word(0)) * 1_000_000 + i64::from(word(4));
        let len = word(8) as usize;
        records.push((
            t,
            src[at..at + 16].to_vec(),
            src[at + 16..at + 16 + len].to_vec(),
        ));
        at += 16 + len;
    }
    let mut out: Vec<(i64, usize, Vec<u8>)> = Vec::new();
    let mut ports = std::collections::HashMap::new();
    for copy in 0..copies {
        for (i, (t, rh, frame)) in records.iter().enumerate() {
            let mut f = frame.clone();
            if f.len() >= 34 && f[12..14] == [8, 0] && f[23] == 6 {
                let tcp = 14 + usize::from(f[14] & 0x0f) * 4;
                // The server is the side on port 19350 (scripts/gen-capture.sh).
                let side = if f[tcp..tcp + 2] == 19350u16.to_be_bytes() {
                    tcp + 2
                } else {
                    tcp
                };
                let old = u16::from_be_bytes([f[side], f[side + 1]]);
                let next = 20000 + ports.len() as u16;
                let new: u16 = *ports.entry((copy, old)).or_insert(next);
                f[side..side + 2].copy_from_slice(&new.to_be_bytes());
            }
            let t = t + copy as i64 * stagger_ms * 1000;
            let mut rec = rh.clone();
            rec[..4].copy_from_slice(&((t / 1_000_000) as u32).to_le_bytes());
            rec[4..8].copy_from_slice(&((t % 1_000_000) as u32).to_le_bytes());
            rec.extend_from_slice(&f);
            out.push((t, copy * records.len() + i, rec));
        }
    }
    out.sort_by_key(|(t, order, _)| (*t, *order));
    let mut bytes = head.to_vec();
    for (_, _, rec) in out {
        bytes.extend_from_slice(&rec);
    }
    bytes
}

fn packets(mut r: Box<dyn SessionReader>) -> Vec<crate::media::Packet> {
    let mut packets = Vec::new();
    while let Some(e) = r.next_event().unwrap() {
        match e {
            Event::Packet(p) => packets.push(p),
            Event::Damage(d) => panic!("{d}"),
            Event::Config(_) => panic!("config change"),
            Event::NotRecorded(n) => panic!("not recorded: {n:?}"),
        }
    }
    packets
}

#[test]
fn fifty_pushes_read_the_capture_once() {
    let path = scratch("spool-fleet").join("fleet.pcap");
    std::fs::write(&path, fleet(25, 400)).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    let expected = {
        let one = open_path(&testdata("capture/cam.pcap"), &InputOptions::default()).unwrap();
        packets(one.into_iter().next().unwrap().open().unwrap())
    };
    let before = read_counts();
    let t = Instant::now();
    let sessions = open_path(&path, &InputOptions::default()).unwrap();
    let scanned = t.elapsed();
    assert_eq!(sessions.len(), 50);
    for s in sessions {
        assert_eq!(packets(s.open().unwrap()), expected);
    }
    let all = t.elapsed();
    let after = read_counts();
    let (capture, spool) = (after.capture - before.capture, after.spool - before.spool);
    println!(
        "50 pushes, {size}-byte capture: {capture} bytes of it read ({:.2}x), {spool} of spool; \
         first pass {scanned:?}, all sessions {all:?}",
        capture as f64 / size as f64
    );
    assert_eq!(capture, size, "the capture is read once, whole");
    assert!(spool <= size, "the spool holds at most the capture's bytes");
}

use std::fs::File;

use super::*;
use crate::input::flv::FlvSession;
use crate::media::{Damage, Event, Packet};
use crate::testutil::{cam_pcapng, testdata};

fn packets(mut r: Box<dyn SessionReader>) -> (Vec<Packet>, Vec<String>) {
    let (mut packets, mut damage) = (Vec::new(), Vec::new());
    while let Some(e) = r.next_event().unwrap() {
        match e {
            Event::Packet(p) => packets.push(p),
            Event::Damage(d) => damage.push(d.to_string()),
            Event::Config(_) => damage.push("config change".into()),
            Event::NotRecorded(n) => damage.push(n.to_string()),
        }
    }
    (packets, damage)
}

fn pushed() -> Vec<Packet> {
    let flv = File::open(testdata("capture/pushed.flv")).unwrap();
    packets(Box::new(FlvSession::new(flv, "pushed.flv").unwrap())).0
}

#[test]
fn magics() {
    for m in [
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ] {
        assert!(is_capture_magic(&m));
    }
    assert!(!is_capture_magic(b"FLV\x01"));
    assert!(!is_capture_magic(&[0xa1, 0xb2]));
}

#[test]
fn scan_finds_both_publishes_of_the_committed_capture() {
    let found = scan(&testdata("capture/cam.pcap"), "cam.pcap")
        .unwrap()
        .pushes;
    assert_eq!(found.len(), 2, "{found:#?}");
    for (i, p) in found.iter().enumerate() {
        assert_eq!(p.conn, i as u64);
        assert_eq!(p.index, 0);
        assert_eq!(p.app.as_deref(), Some("live"));
        assert_eq!(p.name, "cam");
        assert_eq!(p.vdoid.as_deref(), Some("42"));
        assert_eq!(p.server.port(), 19350);
    }
    let (a, b) = (
        found[0].first_media_ms.unwrap(),
        found[1].first_media_ms.unwrap(),
    );
    // The second push began about 10 s of media plus a ~5 s reconnect later.
    assert!((12_000..40_000).contains(&(b - a)), "{a} {b}");
}

#[test]
fn each_session_replays_the_pushed_flv() {
    let expected = pushed();
    let opts = InputOptions::default();
    for name in [testdata("capture/cam.pcap").as_path(), cam_pcapng()] {
        let sessions = open_path(name, &opts).unwrap();
        assert_eq!(sessions.len(), 2);
        for s in sessions {
            assert_eq!(s.info.key.to_string(), "live/cam?vdoid=42");
            assert_eq!(s.info.wall_clock, WallClockSource::Capture);
            let (got, damage) = packets(s.open().unwrap());
            assert!(damage.is_empty(), "{damage:?}");
            assert_eq!(got.len(), expected.len());
            assert!(
                got == expected,
                "{}: packets differ from the pushed FLV",
                name.display()
            );
        }
    }
}

#[test]
fn flags_replace_the_commands() {
    let opts = InputOptions {
        app: Some("other".into()),
        stream: Some("renamed".into()),
        ..InputOptions::default()
    };
    let sessions = open_path(&testdata("capture/cam.pcap"), &opts).unwrap();
    assert_eq!(sessions[0].info.key.to_string(), "other/renamed?vdoid=42");
}

#[test]
fn a_capture_without_rtmp_is_an_error() {
    let dir = crate::testutil::scratch("pcap-no-rtmp");
    let path = dir.join("empty.pcap");
    let mut bytes = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
    bytes.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0]);
    std::fs::write(&path, bytes).unwrap();
    let e = open_path(&path, &InputOptions::default()).unwrap_err();
    assert!(e.to_string().contains("no RTMP publish"), "{e}");
}

/// Reads every session of a capture to the end; damage and errors are fine, panics are not.
fn read_everything(path: &std::path::Path) {
    let Ok(sessions) = open_path(path, &InputOptions::default()) else {
        return;
    };
    for s in sessions {
        if let Ok(mut r) = s.open() {
            while let Ok(Some(_)) = r.next_event() {}
        }
    }
}

#[test]
fn corrupted_and_truncated_captures_do_not_panic() {
    let original = std::fs::read(testdata("capture/cam.pcap")).unwrap();
    let dir = crate::testutil::scratch("pcap-corrupt");
    let path = dir.join("bad.pcap");
    // A fixed linear congruential sequence: reproducible "random" damage.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (x >> 33) as usize
    };
    for round in 0..24 {
        let mut bytes = original.clone();
        for _ in 0..(1 + round * 4) {
            let i = 24 + next() % (bytes.len() - 24);
            bytes[i] = next() as u8;
        }
        if round % 4 == 3 {
            bytes.truncate(24 + next() % (bytes.len() - 24));
        }
        std::fs::write(&path, &bytes).unwrap();
        read_everything(&path);
    }
}

#[test]
fn a_pcapng_block_shorter_than_its_framing_is_reported_at_its_offset() {
    // The converted capture's section header block, then a Process Information Block declaring
    // 8 bytes: pcap-parser alone would subtract 12 from 8.
    let original = std::fs::read(cam_pcapng()).unwrap();
    for big_endian in [false, true] {
        let word = |v: u32| crate::testutil::fixtures::in_byte_order(big_endian, v.to_be_bytes());
        let mut bytes = Vec::new();
        if big_endian {
            // A big-endian section header: type, length, byte-order magic, version 1.0,
            // section length unknown, no options.
            for v in [capture::SHB_MAGIC, 28, capture::BOM_MAGIC] {
                bytes.extend(word(v));
            }
            bytes.extend([0, 1, 0, 0]);
            bytes.extend([0xff; 8]);
            bytes.extend(word(28));
        } else {
            bytes.extend(&original[..32]);
        }
        let offset = bytes.len() as u64;
        for v in [capture::PIB_MAGIC, 8, 8] {
            bytes.extend(word(v));
        }
        let mut c = capture::CaptureReader::new(std::io::Cursor::new(bytes), "x.pcapng").unwrap();
        match c.next_item().unwrap() {
            Some(capture::CaptureItem::Damage(d @ Damage::Skipped { offset: at, .. })) => {
                assert_eq!(at, offset, "{d}");
                assert!(
                    d.to_string().contains("fewer than its own 12-byte framing"),
                    "{d}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(c.next_item().unwrap().is_none());
    }
}

use std::io::Cursor;

use super::*;
use crate::testutil::fixtures::in_byte_order;
use crate::testutil::pcapng_block as block;

/// A pcap file: header then records, in either byte order.
pub(crate) fn pcap(
    big_endian: bool,
    nanos: bool,
    link: u32,
    frames: &[(u32, u32, Vec<u8>)],
) -> Vec<u8> {
    let u32b = |v: u32| in_byte_order(big_endian, v.to_be_bytes());
    let u16b = |v: u16| in_byte_order(big_endian, v.to_be_bytes());
    let mut out = Vec::new();
    out.extend_from_slice(&u32b(if nanos { PCAP_MAGIC_NS } else { PCAP_MAGIC_US }));
    out.extend_from_slice(&u16b(2));
    out.extend_from_slice(&u16b(4));
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&u32b(262_144));
    out.extend_from_slice(&u32b(link));
    for (sec, frac, data) in frames {
        out.extend_from_slice(&u32b(*sec));
        out.extend_from_slice(&u32b(*frac));
        out.extend_from_slice(&u32b(data.len() as u32));
        out.extend_from_slice(&u32b(data.len() as u32));
        out.extend_from_slice(data);
    }
    out
}

fn shb() -> Vec<u8> {
    let mut b = BOM_MAGIC.to_le_bytes().to_vec();
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&(-1i64).to_le_bytes());
    block(SHB_MAGIC, &b)
}

fn idb(link: u16, tsresol: Option<u8>) -> Vec<u8> {
    let mut b = link.to_le_bytes().to_vec();
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&262_144u32.to_le_bytes());
    if let Some(r) = tsresol {
        b.extend_from_slice(&OptionCode::IfTsresol.0.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&[r, 0, 0, 0]);
        b.extend_from_slice(&[0; 4]);
    }
    block(IDB_MAGIC, &b)
}

fn epb(if_id: u32, ts: u64, data: &[u8]) -> Vec<u8> {
    let mut b = if_id.to_le_bytes().to_vec();
    b.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
    b.extend_from_slice(&(ts as u32).to_le_bytes());
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(data);
    block(EPB_MAGIC, &b)
}

fn spb(data: &[u8]) -> Vec<u8> {
    let mut b = (data.len() as u32).to_le_bytes().to_vec();
    b.extend_from_slice(data);
    block(SPB_MAGIC, &b)
}

/// Every item: frames as (number, offset, time_us, link, data), damage as its text.
fn read_all(bytes: Vec<u8>) -> (Vec<Frame>, Vec<Damage>) {
    let mut r = CaptureReader::new(Cursor::new(bytes), "test.pcap").unwrap();
    let (mut frames, mut damage) = (Vec::new(), Vec::new());
    while let Some(item) = r.next_item().unwrap() {
        match item {
            CaptureItem::Frame => frames.push(r.frame().clone()),
            CaptureItem::Damage(d) => damage.push(d),
        }
    }
    (frames, damage)
}

#[test]
fn pcap_little_endian_microseconds() {
    let f = pcap(
        false,
        false,
        1,
        &[
            (1_795_612_712, 123_456, vec![1, 2, 3]),
            (1_795_612_713, 0, vec![4]),
        ],
    );
    let (frames, damage) = read_all(f);
    assert!(damage.is_empty());
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].number, 1);
    assert_eq!(frames[0].offset, 24);
    assert_eq!(frames[0].time_us, 1_795_612_712_123_456);
    assert_eq!(frames[0].time_ms(), 1_795_612_712_123);
    assert_eq!(frames[0].link_type, 1);
    assert_eq!(frames[0].data, vec![1, 2, 3]);
    assert_eq!(frames[1].number, 2);
    assert_eq!(frames[1].offset, 24 + 16 + 3);
}

#[test]
fn pcap_big_endian_nanoseconds() {
    let f = pcap(true, true, 101, &[(10, 999_999_999, vec![9; 5])]);
    let (frames, damage) = read_all(f);
    assert!(damage.is_empty());
    assert_eq!(frames[0].time_us, 10_999_999);
    assert_eq!(frames[0].link_type, 101);
    assert_eq!(frames[0].data, vec![9; 5]);
}

#[test]
fn pcapng_link_type_and_resolution_per_interface() {
    let mut f = shb();
    f.extend(idb(1, None));
    // 10^-9 s.
    f.extend(idb(276, Some(9)));
    // 2^-10 s.
    f.extend(idb(0, Some(0x80 | 10)));
    let first = f.len() as u64;
    f.extend(epb(0, 5_000_001, b"eth"));
    f.extend(epb(1, 7_000_000_123, b"sll2"));
    f.extend(epb(2, 3 * 1024 + 512, b"null"));
    f.extend(spb(b"simple"));
    let (frames, damage) = read_all(f);
    assert!(damage.is_empty(), "{damage:?}");
    let got: Vec<_> = frames
        .iter()
        .map(|f| (f.number, f.time_us, f.link_type, f.data.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, 5_000_001, 1, b"eth".to_vec()),
            (2, 7_000_000, 276, b"sll2".to_vec()),
            (3, 3_500_000, 0, b"null".to_vec()),
            // A simple packet block: interface 0, the previous frame's time.
            (4, 3_500_000, 1, b"simple".to_vec()),
        ]
    );
    assert_eq!(frames[0].offset, first);
}

#[test]
fn pcapng_unknown_interface_is_reported_and_skipped() {
    let mut f = shb();
    f.extend(idb(1, None));
    f.extend(epb(3, 1, b"x"));
    f.extend(epb(0, 2, b"y"));
    let (frames, damage) = read_all(f);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].data, b"y");
    assert!(matches!(&damage[..], [Damage::Skipped { what, .. }] if what.contains("interface 3")));
}

#[test]
fn frames_larger_than_the_first_window() {
    let big = vec![0xab; 600_000];
    let (frames, damage) = read_all(pcap(
        false,
        false,
        1,
        &[(1, 0, big.clone()), (2, 0, vec![1])],
    ));
    assert!(damage.is_empty());
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].data, big);
    assert_eq!(frames[1].offset, 24 + 16 + 600_000);
}

#[test]
fn truncated_capture_keeps_what_came_before() {
    let f = pcap(
        false,
        false,
        1,
        &[(1, 0, vec![1; 100]), (2, 0, vec![2; 100])],
    );
    let cut = f[..f.len() - 30].to_vec();
    let (frames, damage) = read_all(cut);
    assert_eq!(frames.len(), 1);
    assert_eq!(
        damage,
        vec![Damage::Truncated {
            offset: 24 + 116,
            what: "capture record (the capture ends inside it)".into()
        }]
    );
}

#[test]
fn corrupt_record_length_ends_the_capture_without_a_huge_allocation() {
    let mut f = pcap(false, false, 1, &[(1, 0, vec![1; 10])]);
    let mut bad = pcap(false, false, 1, &[(2, 0, vec![2; 10])])[24..].to_vec();
    bad[8..12].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    f.extend(bad);
    f.extend(vec![0; 40_000_000]);
    let (frames, damage) = read_all(f);
    assert_eq!(frames.len(), 1);
    assert_eq!(damage.len(), 1, "{damage:?}");
}

#[test]
fn not_a_capture() {
    assert!(CaptureReader::new(Cursor::new(b"FLV\x01 not a capture".to_vec()), "x").is_err());
    assert!(CaptureReader::new(Cursor::new(Vec::new()), "x").is_err());
}

#[test]
fn arbitrary_cuts_and_corruptions_do_not_panic() {
    let mut ng = shb();
    ng.extend(idb(1, Some(6)));
    ng.extend(epb(0, 1, &[5; 40]));
    ng.extend(epb(0, 2, &[6; 40]));
    let legacy = pcap(false, true, 1, &[(1, 0, vec![1; 40]), (2, 0, vec![2; 40])]);
    for base in [ng, legacy] {
        for cut in 0..base.len() {
            let _ = CaptureReader::new(Cursor::new(base[..cut].to_vec()), "x")
                .map(|mut r| while let Ok(Some(_)) = r.next_item() {});
        }
        for i in 0..base.len() {
            let mut b = base.clone();
            b[i] ^= 0xff;
            let _ = CaptureReader::new(Cursor::new(b), "x")
                .map(|mut r| while let Ok(Some(_)) = r.next_item() {});
        }
    }
}

#[test]
fn timestamp_resolutions() {
    assert_eq!(units_per_s(6), Some(1_000_000));
    assert_eq!(units_per_s(9), Some(1_000_000_000));
    assert_eq!(units_per_s(0x80 | 10), Some(1024));
    assert_eq!(units_per_s(0x80 | 63), Some(1 << 63));
    assert_eq!(units_per_s(0x80 | 64), None);
    assert_eq!(units_per_s(20), None);
    // Extreme fields do not overflow.
    assert_eq!(ts_to_us(u64::MAX, 1, 0), i64::MAX);
    assert_eq!(ts_to_us(1, 1, i64::MIN), i64::MIN + 1_000_000);
}

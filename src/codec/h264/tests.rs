use super::*;

use crate::codec::testhex::hex;
use crate::testutil::fixtures::{each_filled, each_mangled};

/// `avcC` records from the fixtures' FLV sequence headers and from x264 encodes made with
/// ffmpeg 5.1, with what ffprobe reports for them:
/// (record, profile, level, width, height).
const RECORDS: &[(&str, &str, u8, u32, u32)] = &[
    // testdata/studio-1764072000.flv
    (
        "0164000dffe100196764000dacd94141fb011000000300100000030320f142996001000468efbcb0fdf8f800",
        "High",
        13,
        320,
        240,
    ),
    // testdata/silent-1764072000.flv
    (
        "014d400bffe10018674d400bda0a11f97011000003000100000300320f142aa001000468ef3c80",
        "Main",
        11,
        160,
        120,
    ),
    // testdata/push/show-*.flv: 160x120 coded as 160x128 and cropped
    (
        "0164000bffe100196764000bacd942847e5c0440000003004000000c83c50a658001000468efbcb0fdf8f800",
        "High",
        11,
        160,
        120,
    ),
    // testdata/reschange-1764072000.flv after the change
    (
        "0164000cffe100196764000cacd941013b011000000300100000030320f142996001000468efbcb0fdf8f800",
        "High",
        12,
        256,
        144,
    ),
    // x264 baseline 322x242 (cropping on both axes)
    (
        "0142c00dffe1001a6742c00dd90150878888c044000003000400000300f03c50a92001000568cb83cb20",
        "Constrained Baseline",
        13,
        322,
        242,
    ),
    // x264 yuv420p10le 176x100
    (
        "016e000bffe1001a676e000ba6cd942cff9f011000000300100000030320f142996001000668ebe3cb22c0fdfafa00",
        "High 10",
        11,
        176,
        100,
    ),
    // x264 interlaced 720x576 (frame_mbs_only_flag 0)
    (
        "0164001effe100186764001eacd940b424d8088000000300800000190f8a14cb01000668fba3cb22c0fdf8f800",
        "High",
        30,
        720,
        576,
    ),
    // x264 yuv444p with the JVT scaling matrices, 100x60
    (
        "01f4000affe1001a67f4000a919b28e4f1b2e022000003000200000300601e244b2c01000868ebe3c44c000440fff8f800",
        "High 4:4:4 Predictive",
        10,
        100,
        60,
    ),
    // x264 yuv422p 98x66
    (
        "017a000affe10018677a000abcd9472f888fc04400000fa40003a9803c48965801000668ebe3cb22c0fef8f800",
        "High 4:2:2",
        10,
        98,
        66,
    ),
    // x264 gray 64x48 (chroma_format_idc 0)
    (
        "0164000affe100186764000af36511ec05b2000003000200000300c81e244b2c01000668ebe3cb22c0fcf8f800",
        "High",
        10,
        64,
        48,
    ),
];

#[test]
fn records_match_ffprobe() {
    for &(record, profile, level, width, height) in RECORDS {
        let cfg = parse_avcc(&hex(record)).unwrap_or_else(|e| panic!("{record}: {e}"));
        assert_eq!(cfg.nal_length_size, 4, "{record}");
        assert_eq!((cfg.sps.len(), cfg.pps.len()), (1, 1), "{record}");
        let sps = parse_sps(&cfg.sps[0]).unwrap_or_else(|e| panic!("{record}: {e}"));
        assert_eq!(
            (
                profile_name(sps.profile_idc, sps.constraint_flags),
                sps.level_idc,
                sps.width,
                sps.height
            ),
            (profile, level, width, height),
            "{record}"
        );
        assert_eq!(cfg.profile_idc, sps.profile_idc);
        if let Some(high) = &cfg.high {
            assert_eq!(high.chroma_format, sps.chroma_format_idc, "{record}");
            assert_eq!(high.bit_depth_luma, sps.bit_depth_luma, "{record}");
        }
    }
}

#[test]
fn sps_details() {
    let cfg = parse_avcc(&hex(RECORDS[0].0)).unwrap();
    let high = cfg.high.clone().unwrap();
    assert_eq!(
        (high.chroma_format, high.bit_depth_luma, high.sps_ext.len()),
        (1, 8, 0)
    );
    let sps = parse_sps(&cfg.sps[0]).unwrap();
    assert!(sps.frame_mbs_only);
    assert_eq!((sps.coded_width, sps.coded_height), (320, 240));
    // x264 writes VUI timing in fields: 25 fps = time_scale 50 / num_units_in_tick 1.
    assert_eq!(sps.timing, Some((1, 50)));
    assert!(!sps.fixed_frame_rate);
    let push = parse_sps(&parse_avcc(&hex(RECORDS[2].0)).unwrap().sps[0]).unwrap();
    assert_eq!((push.coded_width, push.coded_height), (160, 128));
    let inter = parse_sps(&parse_avcc(&hex(RECORDS[6].0)).unwrap().sps[0]).unwrap();
    assert!(!inter.frame_mbs_only);
    let hi10 = parse_sps(&parse_avcc(&hex(RECORDS[5].0)).unwrap().sps[0]).unwrap();
    assert_eq!((hi10.bit_depth_luma, hi10.bit_depth_chroma), (10, 10));
    let gray = parse_sps(&parse_avcc(&hex(RECORDS[9].0)).unwrap().sps[0]).unwrap();
    assert_eq!(gray.chroma_format_idc, 0);
}

#[test]
fn several_parameter_sets_and_short_lengths() {
    // Two SPS, two PPS, 2-byte NAL lengths, no High extension, a trailing byte.
    let sps = hex("6764000dacd94141fb011000000300100000030320f14299");
    let mut rec = vec![1, 100, 0, 13, 0xfd, 0xe2];
    for _ in 0..2 {
        rec.extend((sps.len() as u16).to_be_bytes());
        rec.extend(&sps);
    }
    rec.push(2);
    rec.extend([0, 2, 0x68, 0xef, 0, 1, 0x68]);
    rec.push(0xaa);
    let cfg = parse_avcc(&rec).unwrap();
    assert_eq!(cfg.nal_length_size, 2);
    assert_eq!(cfg.sps.len(), 2);
    assert_eq!(cfg.pps, vec![vec![0x68, 0xef], vec![0x68]]);
    assert_eq!(cfg.high, None);
}

#[test]
fn profile_names() {
    assert_eq!(profile_name(66, 0), "Baseline");
    assert_eq!(profile_name(66, 0x40), "Constrained Baseline");
    assert_eq!(profile_name(88, 0), "Extended");
    assert_eq!(profile_name(110, 0x10), "High 10 Intra");
    assert_eq!(profile_name(244, 0), "High 4:4:4 Predictive");
    assert_eq!(profile_name(1, 0), "unknown");
}

#[test]
fn errors_name_the_field() {
    let e = parse_avcc(&[1, 100, 0]).unwrap_err();
    assert_eq!(e.field, "AVCLevelIndication");
    let e = parse_avcc(&[1, 100, 0, 13, 0xff, 0xe1, 0, 30, 0x67]).unwrap_err();
    assert_eq!(e.field, "sequenceParameterSetLength");
    assert!(e.to_string().contains("at byte 8"), "{e}");
    let e = parse_avcc(&[0, 100, 0, 13, 0xff, 0xe0, 0]).unwrap_err();
    assert_eq!(e.field, "configurationVersion");
    let e = parse_sps(&[0x68, 0xff]).unwrap_err();
    assert_eq!(e.field, "nal_unit_type");
}

#[test]
fn hostile_bytes_never_panic() {
    let good = hex(RECORDS[7].0);
    let sps = parse_avcc(&good).unwrap().sps[0].clone();
    each_mangled(&good, |v| drop(parse_avcc(v)));
    each_mangled(&sps, |v| drop(parse_sps(v)));
    each_filled(64, |mut v| {
        let _ = parse_avcc(&v);
        if let Some(b) = v.first_mut() {
            *b = 0x67;
        }
        let _ = parse_sps(&v);
    });
}

use super::*;

use crate::codec::testhex::hex;
use crate::testutil::fixtures::{HVCC_330X186_HEX, each_filled, each_mangled};

/// `hvcC` records of x265 3.5 encodes made with ffmpeg 5.1 (`-c:v libx265 -tag:v hvc1`), the
/// encoder-info SEI array left out, with what ffprobe reports:
/// (record, profile, level, width, height, timing).
/// (hvcC hex, profile, level, width, height, (num_units_in_tick, time_scale))
/// The first SPS of an `hvcC` record.
fn sps_of(record: &[u8]) -> Vec<u8> {
    let cfg = parse_hvcc(record).unwrap();
    cfg.nal_units_of(NAL_SPS).next().unwrap().to_vec()
}

type Record = (&'static str, &'static str, u8, u32, u32, (u32, u32));

const RECORDS: &[Record] = &[
    // 330x186 8-bit 30 fps: coded 336x192, conformance window right 3, bottom 3 (× 2)
    (HVCC_330X186_HEX, "Main", 60, 330, 186, (1, 30)),
    // 128x72 yuv420p10le 25 fps, scaling lists enabled
    (
        "0102200000009000000000001ef000fcfdfafa00000f03a00001001840010c01ffff02200000030090000003000003001e959809a10001002a42010102200000030090000003000003001ea0102049365959a49395e02d010000030001000003001908a2000100074401c172b42240",
        "Main 10",
        30,
        128,
        72,
        (1, 25),
    ),
    // 64x64 yuv444p 24 fps
    (
        "0104080000009e08000000001ef000fcfff8f800000f03a00001001740010c01ffff0408000003009e0800000300001e959809a1000100294201010408000003009e0800000300001e90041020b2cacd24995e02d0100000030010000003018080a2000100084401c172860c4224",
        "Rext",
        30,
        64,
        64,
        (1, 24),
    ),
    // 200x100 50 fps with temporal layers (sps_max_sub_layers_minus1 = 1)
    (
        "0101600000009000000000003cf000fcfdf8f800001303a00001001c40010c02ffff01600000030090000003000003003c00009598acc048a10001002e42010201600000030090000003000003003c0000a0192069f7965662b349265780b404000003000400000300c820a2000100074401c172b46240",
        "Main",
        60,
        200,
        100,
        (1, 50),
    ),
];

#[test]
fn records_match_ffprobe() {
    for &(record, profile, level, width, height, timing) in RECORDS {
        let cfg = parse_hvcc(&hex(record)).unwrap_or_else(|e| panic!("{record}: {e}"));
        assert_eq!(cfg.nal_length_size, 4);
        let types: Vec<u8> = cfg.arrays.iter().map(|(t, _)| *t).collect();
        assert_eq!(types, [NAL_VPS, NAL_SPS, NAL_PPS]);
        assert_eq!(profile_name(cfg.general_profile_idc), profile);
        assert_eq!(cfg.general_level_idc, level);
        let sps = cfg.nal_units_of(NAL_SPS).next().unwrap();
        let s = parse_sps(sps).unwrap_or_else(|e| panic!("{record}: {e}"));
        assert_eq!(
            (
                profile_name(s.general_profile_idc),
                s.general_level_idc,
                s.width,
                s.height
            ),
            (profile, level, width, height),
            "{record}"
        );
        assert_eq!(s.timing, Some(timing), "{record}");
        assert_eq!(
            (s.chroma_format_idc, s.bit_depth_luma),
            (cfg.chroma_format_idc, cfg.bit_depth_luma)
        );
    }
    let s = parse_sps(&sps_of(&hex(RECORDS[0].0))).unwrap();
    assert_eq!((s.coded_width, s.coded_height), (336, 192));
    let s = parse_sps(&sps_of(&hex(RECORDS[3].0))).unwrap();
    assert_eq!(s.max_sub_layers, 2);
}

#[test]
fn window_rules_follow_ffmpeg() {
    let mut s = HevcSpsInfo {
        chroma_format_idc: 1,
        bit_depth_luma: 8,
        coded_width: 1920,
        coded_height: 1088,
        ..HevcSpsInfo::default()
    };
    apply_window(&mut s, [0, 0, 0, 4]);
    assert_eq!((s.width, s.height), (1920, 1080));
    // A left offset of 8 luma samples is reduced to 0 to keep alignment.
    apply_window(&mut s, [4, 0, 0, 0]);
    assert_eq!((s.width, s.height), (1920, 1088));
    // A window wider than the picture is ignored.
    apply_window(&mut s, [0, 960, 0, 0]);
    assert_eq!((s.width, s.height), (1920, 1088));
}

#[test]
fn profile_zero_uses_compatibility_flags() {
    assert_eq!(effective_profile(0, 0x2000_0000), 2);
    assert_eq!(effective_profile(0, 0), 0);
    assert_eq!(effective_profile(1, 0x2000_0000), 1);
    assert_eq!(profile_name(3), "Main Still Picture");
    assert_eq!(profile_name(9), "unknown");
}

#[test]
fn errors_and_hostile_bytes() {
    assert_eq!(
        parse_hvcc(&[1, 1]).unwrap_err().field,
        "general_profile_compatibility_flags"
    );
    let good = hex(RECORDS[3].0);
    let e = parse_hvcc(&good[..good.len() - 3]).unwrap_err();
    assert_eq!(e.field, "nalUnitLength");
    assert!(e.to_string().contains("at byte"), "{e}");
    assert_eq!(parse_sps(&[0x40, 0x01]).unwrap_err().field, "nal_unit_type");
    assert!(parse_sps(&[0x42]).is_err());
    for rec in RECORDS {
        let good = hex(rec.0);
        let sps = sps_of(&good);
        each_mangled(&good, |v| drop(parse_hvcc(v)));
        each_mangled(&sps, |v| drop(parse_sps(v)));
    }
    each_filled(80, |mut v| {
        let _ = parse_hvcc(&v);
        if v.len() >= 2 {
            v[..2].copy_from_slice(&[0x42, 0x01]);
        }
        let _ = parse_sps(&v);
    });
}

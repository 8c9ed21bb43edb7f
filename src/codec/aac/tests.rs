use super::*;
use crate::testutil::fixtures::{each_filled, each_mangled};

/// Packs a string of '0'/'1' (spaces ignored) into bytes, zero-padded.
fn bits(s: &str) -> Vec<u8> {
    let bits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    bits.chunks(8)
        .map(|c| {
            c.iter()
                .enumerate()
                .fold(0u8, |acc, (i, &b)| acc | (u8::from(b == b'1') << (7 - i)))
        })
        .collect()
}

#[test]
fn fixture_config_is_lc_with_explicit_no_sbr() {
    // Every fixture's AAC sequence header: LC 44.1 kHz stereo, then the 0x2B7 sync extension
    // with sbrPresentFlag 0, as FFmpeg writes it. ffprobe: LC, 44100, 2 channels.
    let a = parse_asc(&[0x12, 0x10, 0x56, 0xe5, 0x00]).unwrap();
    assert_eq!(profile_name(a.object_type), "LC");
    assert_eq!(
        (a.sample_rate, a.channels, a.sbr, a.ps),
        (44100, 2, false, false)
    );
    assert_eq!((a.core_object_type, a.sampling_frequency_index), (2, 4));
    assert_eq!(a.frame_length, 1024);
    // The two-byte form says the same.
    assert_eq!(parse_asc(&[0x12, 0x10]).unwrap(), a);
}

#[test]
fn he_aac_hierarchical() {
    // AOT 5, core 22050 Hz stereo, extension 44100 Hz, core LC.
    let a = parse_asc(&[0x2b, 0x92, 0x08, 0x00]).unwrap();
    assert_eq!(profile_name(a.object_type), "HE-AAC");
    assert_eq!((a.core_object_type, a.core_sample_rate), (2, 22050));
    assert_eq!(
        (a.sample_rate, a.channels, a.sbr, a.ps),
        (44100, 2, true, false)
    );
    // AOT 29, core 24000 Hz mono, extension 48000 Hz: PS decodes to stereo.
    let v2 = parse_asc(&[0xeb, 0x09, 0x88, 0x00]).unwrap();
    assert_eq!(profile_name(v2.object_type), "HE-AACv2");
    assert_eq!(
        (v2.sample_rate, v2.channel_configuration, v2.channels),
        (48000, 1, 2)
    );
    assert_eq!((v2.core_object_type, v2.sampling_frequency_index), (2, 6));
}

#[test]
fn he_aac_backward_compatible() {
    // LC 22050 mono; sync 0x2B7, AOT 5, SBR 44100; sync 0x548, PS.
    let asc = bits("00010 0111 0001 000  01010110111 00101 1 0100  10101001000 1");
    let a = parse_asc(&asc).unwrap();
    assert_eq!((a.object_type, a.core_object_type), (29, 2));
    assert_eq!(
        (a.core_sample_rate, a.sample_rate, a.channels),
        (22050, 44100, 2)
    );
    // Without the PS part.
    let asc = bits("00010 0111 0010 000  01010110111 00101 1 0100");
    let a = parse_asc(&asc).unwrap();
    assert_eq!((a.object_type, a.sample_rate, a.channels), (5, 44100, 2));
    // An SBR extension at the core rate is ignored, as FFmpeg does.
    let asc = bits("00010 0100 0010 000  01010110111 00101 1 0100");
    let a = parse_asc(&asc).unwrap();
    assert_eq!((a.object_type, a.sample_rate, a.sbr), (2, 44100, false));
}

#[test]
fn escapes_and_pce() {
    // audioObjectType 31 escape → 32 + 4 = 36 (ALS); explicit rate 7000 Hz.
    let asc = bits("11111 000100 1111 000000000001101101011000 0001");
    let a = parse_asc(&asc).unwrap();
    assert_eq!(
        (a.object_type, a.sampling_frequency_index, a.sample_rate),
        (36, 15, 7000)
    );
    assert_eq!(a.channels, 1);
    // channelConfiguration 0 with a PCE: two front CPEs, one front SCE, one LFE = 6 channels.
    let asc = bits(concat!(
        "00010 0011 0000 0 0 0", // LC 48000, PCE follows; frameLength, core coder, extension
        "0000 01 0011",          // element_instance_tag, object_type, sampling_frequency_index
        "0011 0000 0000 01 000 0000", // 3 front, 0 side, 0 back, 1 lfe, 0 assoc, 0 cc
        "0 0 0",                 // no mixdowns
        "0 0000 1 0001 1 0010",  // SCE, CPE, CPE
        "0000",                  // LFE tag
        "000",                   // byte_alignment (bit 61 → 64)
        "00000000",              // comment_field_bytes
    ));
    let a = parse_asc(&asc).unwrap();
    assert_eq!(
        (a.channel_configuration, a.channels, a.sample_rate),
        (0, 6, 48000)
    );
    // 960-sample frames.
    assert_eq!(
        parse_asc(&bits("00010 0100 0010 100"))
            .unwrap()
            .frame_length,
        960
    );
    // channelConfiguration 7 is 8 channels.
    assert_eq!(parse_asc(&bits("00010 0100 0111 000")).unwrap().channels, 8);
}

#[test]
fn adts_matches_ffmpeg() {
    // `ffmpeg -i radio-1764072000.flv -c copy -f adts`: first frame, 94-byte payload.
    let a = parse_asc(&[0x12, 0x10, 0x56, 0xe5, 0x00]).unwrap();
    assert_eq!(
        adts_header(&a, 94),
        [0xff, 0xf1, 0x50, 0x80, 0x0c, 0xbf, 0xfc]
    );
    // HE-AAC is written as LC at the core rate (22050 Hz = index 7).
    let he = parse_asc(&[0x2b, 0x92, 0x08, 0x00]).unwrap();
    let h = adts_header(&he, 100);
    assert_eq!((h[2] >> 6, (h[2] >> 2) & 0xf), (1, 7));
    // An explicit 7000 Hz rate becomes the nearest index (7350 Hz = 12).
    let mut x = a.clone();
    (x.sampling_frequency_index, x.core_sample_rate) = (15, 7000);
    assert_eq!((adts_header(&x, 1)[2] >> 2) & 0xf, 12);
    // The frame length field is 13 bits.
    let h = adts_header(&a, MAX_ADTS_PAYLOAD);
    let len = (u32::from(h[3] & 3) << 11) | (u32::from(h[4]) << 3) | u32::from(h[5] >> 5);
    assert_eq!(len, 8191);
    assert!(adts_header_checked(&a, MAX_ADTS_PAYLOAD + 1).is_err());
    assert!(adts_header_checked(&a, 0).is_ok());
}

#[test]
fn profile_names() {
    let names: Vec<_> = [1, 2, 3, 4, 5, 29, 23, 39, 0]
        .iter()
        .map(|&t| profile_name(t))
        .collect();
    assert_eq!(
        names,
        [
            "Main", "LC", "SSR", "LTP", "HE-AAC", "HE-AACv2", "LD", "ELD", "unknown"
        ]
    );
}

#[test]
fn errors_and_hostile_bytes() {
    assert_eq!(parse_asc(&[]).unwrap_err().field, "audioObjectType");
    assert_eq!(
        parse_asc(&[0x12]).unwrap_err().field,
        "samplingFrequencyIndex"
    );
    assert_eq!(
        parse_asc(&bits("00010 1101 0010")).unwrap_err().field,
        "samplingFrequencyIndex"
    );
    assert_eq!(
        parse_asc(&bits("00010 1111 0000")).unwrap_err().field,
        "samplingFrequency"
    );
    each_filled(40, |v| {
        if let Ok(a) = parse_asc(&v) {
            let _ = adts_header(&a, v.len());
        }
    });
    let good = [0xeb, 0x09, 0x88, 0x00, 0x56, 0xe5, 0x00];
    each_mangled(&good, |v| {
        if let Ok(a) = parse_asc(v) {
            let _ = adts_header(&a, 10);
        }
    });
}

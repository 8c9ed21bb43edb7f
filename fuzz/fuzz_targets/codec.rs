//! Codec configuration parsers on arbitrary bytes (sequence headers come from untrusted
//! pushes): AVCDecoderConfigurationRecord and its SPS, HEVCDecoderConfigurationRecord and its
//! SPS, AudioSpecificConfig, the MP3 frame header, and length-prefixed NAL unit splitting. No
//! panic; NAL units found lie inside the input.

#![no_main]

use kls_rec::codec::{aac, h264, hevc, mp3, nal_units};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = h264::parse_avcc(data) {
        for sps in &c.sps {
            let _ = h264::parse_sps(sps);
        }
    }
    let _ = h264::parse_sps(data);
    if let Ok(c) = hevc::parse_hvcc(data) {
        for sps in c.nal_units_of(hevc::NAL_SPS) {
            let _ = hevc::parse_sps(sps);
        }
    }
    let _ = hevc::parse_sps(data);
    if let Ok(asc) = aac::parse_asc(data) {
        let _ = aac::adts_header_checked(&asc, data.len());
        let _ = aac::profile_name(asc.object_type);
    }
    let _ = mp3::parse_header(data);
    for length_size in 0..=5u8 {
        let mut total = 0usize;
        for nal in nal_units(data, length_size) {
            let Ok(nal) = nal else { break };
            total += nal.len() + usize::from(length_size);
            assert!(total <= data.len(), "NAL units overrun the access unit");
        }
    }
});

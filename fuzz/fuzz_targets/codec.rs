//! Codec configuration parsers on arbitrary bytes (sequence headers come from untrusted
//! pushes): AVCDecoderConfigurationRecord and its SPS, HEVCDecoderConfigurationRecord and its
//! SPS, AudioSpecificConfig, the MP3 frame header, av1C and AV1 OBUs, vpcC and the VP9 keyframe
//! header, OpusHead/dOps, STREAMINFO/dfLa, AC-3/E-AC-3 syncframes and dac3/dec3, and
//! length-prefixed NAL unit splitting. No
//! panic; NAL units found lie inside the input.

#![no_main]

use kls_rec::codec::{aac, ac3, av1, flac, flash, h264, hevc, mp3, nal_units, opus, vp9};
use kls_rec::media::FlvVideo;
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
    if let Ok(c) = av1::parse_av1c(data) {
        let _ = av1::find_sequence_header(&c.config_obus);
        let _ = c.codecs_string();
    }
    let _ = av1::find_sequence_header(data);
    if let Ok(c) = vp9::parse_vpcc(data) {
        let _ = c.codecs_string();
    }
    let _ = vp9::parse_keyframe_header(data);
    if let Ok(c) = opus::parse_opus_head(data) {
        assert_eq!(opus::parse_dops(&c.to_dops()), Ok(c), "dOps round trip");
    }
    if let Ok(c) = opus::parse_dops(data) {
        assert_eq!(
            opus::parse_opus_head(&c.to_opus_head()),
            Ok(c),
            "OpusHead round trip"
        );
    }
    if let Ok(info) = flac::streaminfo_bytes(data) {
        let _ = flac::parse_streaminfo(info);
        let _ = flac::parse_dfla(&flac::dfla_from_streaminfo(info));
    }
    let _ = flac::parse_dfla(data);
    if let Ok(f) = ac3::parse_syncframe(data) {
        let _ = (ac3::dac3(&f), f.channels(), f.bit_rate_kbps());
    }
    if let Ok(body) = ac3::dec3(data) {
        let _ = ac3::parse_dec3(&body);
    }
    let _ = ac3::parse_dac3(data);
    let _ = ac3::parse_dec3(data);
    for codec in [
        FlvVideo::SorensonH263,
        FlvVideo::ScreenVideo,
        FlvVideo::Vp6,
        FlvVideo::Vp6Alpha,
        FlvVideo::ScreenVideo2,
    ] {
        let _ = flash::picture_size(codec, data);
    }
    for length_size in 0..=5u8 {
        let mut total = 0usize;
        for nal in nal_units(data, length_size) {
            let Ok(nal) = nal else { break };
            total += nal.len() + usize::from(length_size);
            assert!(total <= data.len(), "NAL units overrun the access unit");
        }
    }
});

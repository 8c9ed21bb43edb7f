//! VP9: the VPCodecConfigurationRecord (`vpcC`, VP Codec ISO Media File Format Binding §2.3,
//! version 1) — the body of the MP4 `vpcC` FullBox, version and flags included, which is also
//! what an Enhanced RTMP `vp09` SequenceStart carries — and the uncompressed header of a
//! keyframe (VP9 Bitstream Specification §6.2) for the picture size, profile and bit depth.
//!
//! The record travels as the source's bytes; these parsers only read it. The HLS `CODECS` string
//! follows the binding's §5 (`vp09.PP.LL.DD`).

use super::CodecError;
use super::bits::{BitReader, ByteReader};

const VPCC: &str = "VPCodecConfigurationRecord";
const HEADER: &str = "uncompressed_header";

/// frame_sync_code of a keyframe (VP9 §7.2).
const FRAME_SYNC_CODE: u32 = 0x49_83_42;

/// A `vpcC` record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VpcConfig {
    pub(crate) profile: u8,
    /// Level × 10 (10 = level 1, 31 = level 3.1), 0 when unknown.
    pub(crate) level: u8,
    pub(crate) bit_depth: u8,
    /// 0, 1: 4:2:0 vertical / colocated; 2: 4:2:2; 3: 4:4:4.
    pub(crate) chroma_subsampling: u8,
    pub(crate) video_full_range: bool,
    pub(crate) colour_primaries: u8,
    pub(crate) transfer_characteristics: u8,
    pub(crate) matrix_coefficients: u8,
}

impl VpcConfig {
    /// The HLS / RFC 6381 `CODECS` value, e.g. `vp09.00.10.08`.
    pub fn codecs_string(&self) -> String {
        format!(
            "vp09.{:02}.{:02}.{:02}",
            self.profile, self.level, self.bit_depth
        )
    }
}

/// Parses a `vpcC` body: version (1) and flags, then the record.
pub fn parse_vpcc(data: &[u8]) -> Result<VpcConfig, CodecError> {
    let mut r = ByteReader::new(VPCC, data);
    let version = r.u8("version")?;
    if version != 1 {
        return Err(r.err("version", format!("{version}, only 1 is read")));
    }
    r.take(3, "flags")?;
    let profile = r.u8("profile")?;
    let level = r.u8("level")?;
    let packed = r.u8("bitDepth")?;
    let config = VpcConfig {
        profile,
        level,
        bit_depth: packed >> 4,
        chroma_subsampling: (packed >> 1) & 7,
        video_full_range: packed & 1 == 1,
        colour_primaries: r.u8("colourPrimaries")?,
        transfer_characteristics: r.u8("transferCharacteristics")?,
        matrix_coefficients: r.u8("matrixCoefficients")?,
    };
    let init_len = r.u16("codecIntializationDataSize")?;
    r.take(usize::from(init_len), "codecIntializationData")?;
    Ok(config)
}

/// What kls-rec reads from a keyframe's uncompressed header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyframeHeader {
    pub(crate) profile: u8,
    pub(crate) bit_depth: u8,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) subsampling_x: bool,
    pub(crate) subsampling_y: bool,
}

/// The uncompressed header of a frame (§6.2): `Some` for a keyframe, `None` for an inter frame
/// or a shown existing frame, whose headers carry no size.
pub fn parse_keyframe_header(frame: &[u8]) -> Result<Option<KeyframeHeader>, CodecError> {
    let mut r = BitReader::new(HEADER, frame);
    if r.bits(2, "frame_marker")? != 2 {
        return Err(CodecError::new(HEADER, "frame_marker", "must be 2"));
    }
    let low = r.bits(1, "profile_low_bit")?;
    let high = r.bits(1, "profile_high_bit")?;
    let profile = ((high << 1) | low) as u8;
    if profile == 3 {
        r.skip(1, "reserved_zero")?;
    }
    if r.bit("show_existing_frame")? {
        return Ok(None);
    }
    // frame_type 0 is KEY_FRAME.
    if r.bit("frame_type")? {
        return Ok(None);
    }
    r.skip(2, "show_frame")?; // + error_resilient_mode
    let sync = r.bits(24, "frame_sync_code")?;
    if sync != FRAME_SYNC_CODE {
        return Err(CodecError::new(
            HEADER,
            "frame_sync_code",
            format!("{sync:#08x}, expected {FRAME_SYNC_CODE:#08x}"),
        ));
    }
    let (bit_depth, subsampling_x, subsampling_y) = read_color_config(&mut r, profile)?;
    let width = r.bits(16, "frame_width_minus_1")? + 1;
    let height = r.bits(16, "frame_height_minus_1")? + 1;
    Ok(Some(KeyframeHeader {
        profile,
        bit_depth,
        width,
        height,
        subsampling_x,
        subsampling_y,
    }))
}

/// color_config() (§6.2.2): bit depth and chroma subsampling.
fn read_color_config(r: &mut BitReader<'_>, profile: u8) -> Result<(u8, bool, bool), CodecError> {
    let bit_depth = if profile >= 2 {
        if r.bit("ten_or_twelve_bit")? { 12 } else { 10 }
    } else {
        8
    };
    // color_space 7 is CS_RGB.
    let rgb = r.bits(3, "color_space")? == 7;
    let odd_profile = profile == 1 || profile == 3;
    if !rgb {
        r.skip(1, "color_range")?;
        if odd_profile {
            let x = r.bit("subsampling_x")?;
            let y = r.bit("subsampling_y")?;
            r.skip(1, "reserved_zero")?;
            return Ok((bit_depth, x, y));
        }
        return Ok((bit_depth, true, true));
    }
    if odd_profile {
        r.skip(1, "reserved_zero")?;
    }
    Ok((bit_depth, false, false))
}

/// ffprobe's profile name (FFmpeg's `ff_vp9_profiles`).
pub(crate) fn profile_name(profile: u8) -> &'static str {
    match profile {
        0 => "Profile 0",
        1 => "Profile 1",
        2 => "Profile 2",
        3 => "Profile 3",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::testhex::hex;

    /// `vpcC` bodies FFmpeg 8 wrote for libvpx-vp9 encodes (the same bytes in MP4 and E-RTMP).
    const VPCC_420_8BIT: &str = "01000000000a820202020000";
    const VPCC_444_8BIT: &str = "010000000114860202020000";
    /// The first bytes of the keyframes: 64×48 4:2:0 profile 0, 320×240 4:4:4 profile 1.
    const KEY_64X48: &str = "824983420003f002f60038241c184a";
    const KEY_320X240_444: &str = "a249834200027e01dec00704838309";

    #[test]
    fn reads_vpcc() {
        let c = parse_vpcc(&hex(VPCC_420_8BIT)).unwrap();
        assert_eq!(
            (c.profile, c.level, c.bit_depth, c.chroma_subsampling),
            (0, 10, 8, 1)
        );
        assert_eq!(c.codecs_string(), "vp09.00.10.08");
        assert_eq!(c.colour_primaries, 2);
        let c = parse_vpcc(&hex(VPCC_444_8BIT)).unwrap();
        assert_eq!((c.profile, c.level, c.chroma_subsampling), (1, 20, 3));
        assert_eq!(c.codecs_string(), "vp09.01.20.08");
    }

    #[test]
    fn reads_keyframe_headers() {
        let k = parse_keyframe_header(&hex(KEY_64X48)).unwrap().unwrap();
        assert_eq!((k.profile, k.bit_depth, k.width, k.height), (0, 8, 64, 48));
        assert!(k.subsampling_x && k.subsampling_y);
        let k = parse_keyframe_header(&hex(KEY_320X240_444))
            .unwrap()
            .unwrap();
        assert_eq!((k.profile, k.width, k.height), (1, 320, 240));
        assert!(!k.subsampling_x && !k.subsampling_y);
        // An inter frame: frame_marker 2, profile 0, show_existing 0, frame_type 1.
        assert_eq!(parse_keyframe_header(&[0x86, 0]).unwrap(), None);
    }

    #[test]
    fn bad_input_names_the_field() {
        assert_eq!(parse_vpcc(&[]).unwrap_err().field, "version");
        assert_eq!(parse_vpcc(&[0, 0, 0, 0]).unwrap_err().field, "version");
        let mut v = hex(VPCC_420_8BIT);
        v[11] = 4; // codecIntializationDataSize 4, no data
        assert_eq!(parse_vpcc(&v).unwrap_err().field, "codecIntializationData");
        assert_eq!(
            parse_keyframe_header(&[0x40]).unwrap_err().field,
            "frame_marker"
        );
        let mut k = hex(KEY_64X48);
        k[1] = 0;
        assert_eq!(
            parse_keyframe_header(&k).unwrap_err().field,
            "frame_sync_code"
        );
        assert!(parse_keyframe_header(&k[..2]).is_err());
        assert!(parse_keyframe_header(&hex(KEY_64X48)[..6]).is_err());
        assert_eq!(profile_name(3), "Profile 3");
    }
}

//! AV1: the AV1CodecConfigurationRecord (`av1C`, AV1-ISOBMFF §2.3.3), which is also the body of
//! an Enhanced RTMP `av01` SequenceStart, and the sequence header OBU it carries (AV1 §5.5, OBU
//! framing §5.3) for the picture size, profile, level and bit depth.
//!
//! The record travels as the source's bytes; these parsers only read it. The HLS `CODECS` string
//! follows AV1-ISOBMFF Annex A (`av01.P.LLT.DD`).

use super::CodecError;
use super::bits::BitReader;

const AV1C: &str = "AV1CodecConfigurationRecord";
const SEQ: &str = "sequence_header_obu";
const OBU: &str = "obu_header";

/// obu_type of a sequence header (AV1 §6.2.2, Table "OBU types").
pub(crate) const OBU_SEQUENCE_HEADER: u8 = 1;

/// The fixed 4 bytes of an `av1C` and the configuration OBUs after them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Av1Config {
    pub(crate) seq_profile: u8,
    pub(crate) seq_level_idx_0: u8,
    pub(crate) seq_tier_0: u8,
    pub(crate) high_bitdepth: bool,
    pub(crate) twelve_bit: bool,
    pub(crate) monochrome: bool,
    pub(crate) chroma_subsampling_x: bool,
    pub(crate) chroma_subsampling_y: bool,
    pub(crate) chroma_sample_position: u8,
    /// initial_presentation_delay_minus_one + 1, when present.
    pub(crate) initial_presentation_delay: Option<u8>,
    /// The configOBUs (a sequence header OBU, possibly metadata OBUs), in low-overhead format.
    pub config_obus: Vec<u8>,
}

impl Av1Config {
    /// BitDepth as the record's flags give it (AV1 §6.4.2).
    pub(crate) fn bit_depth(&self) -> u8 {
        match (self.high_bitdepth, self.twelve_bit) {
            (false, _) => 8,
            (true, false) => 10,
            (true, true) => 12,
        }
    }

    /// The HLS / RFC 6381 `CODECS` value, e.g. `av01.0.04M.08` (AV1-ISOBMFF Annex A).
    pub fn codecs_string(&self) -> String {
        let tier = if self.seq_tier_0 == 0 { 'M' } else { 'H' };
        format!(
            "av01.{}.{:02}{tier}.{:02}",
            self.seq_profile,
            self.seq_level_idx_0,
            self.bit_depth()
        )
    }
}

/// Parses an `av1C` record (its body, without a box header).
pub fn parse_av1c(data: &[u8]) -> Result<Av1Config, CodecError> {
    let mut r = BitReader::new(AV1C, data);
    if !r.bit("marker")? {
        return Err(CodecError::new(AV1C, "marker", "must be 1"));
    }
    let version = r.bits(7, "version")?;
    if version != 1 {
        return Err(CodecError::new(
            AV1C,
            "version",
            format!("{version}, only 1 is defined"),
        ));
    }
    let seq_profile = r.bits(3, "seq_profile")? as u8;
    let seq_level_idx_0 = r.bits(5, "seq_level_idx_0")? as u8;
    let seq_tier_0 = r.bits(1, "seq_tier_0")? as u8;
    let high_bitdepth = r.bit("high_bitdepth")?;
    let twelve_bit = r.bit("twelve_bit")?;
    let monochrome = r.bit("monochrome")?;
    let chroma_subsampling_x = r.bit("chroma_subsampling_x")?;
    let chroma_subsampling_y = r.bit("chroma_subsampling_y")?;
    let chroma_sample_position = r.bits(2, "chroma_sample_position")? as u8;
    r.skip(3, "reserved")?;
    let delay_present = r.bit("initial_presentation_delay_present")?;
    let delay = r.bits(4, "initial_presentation_delay_minus_one")? as u8;
    Ok(Av1Config {
        seq_profile,
        seq_level_idx_0,
        seq_tier_0,
        high_bitdepth,
        twelve_bit,
        monochrome,
        chroma_subsampling_x,
        chroma_subsampling_y,
        chroma_sample_position,
        initial_presentation_delay: delay_present.then_some(delay + 1),
        config_obus: data[4..].to_vec(),
    })
}

/// One OBU of a low-overhead bitstream (AV1 §5.3.1): its type and its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Obu<'a> {
    pub(crate) obu_type: u8,
    pub(crate) payload: &'a [u8],
}

/// Splits a low-overhead bitstream (an `av1C`'s configOBUs, or a temporal unit as MP4 and
/// E-RTMP carry it) into OBUs. An OBU without obu_has_size_field runs to the end.
pub(crate) fn obus(mut data: &[u8]) -> Result<Vec<Obu<'_>>, CodecError> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let header = data[0];
        if header & 0x80 != 0 {
            return Err(CodecError::new(OBU, "obu_forbidden_bit", "set"));
        }
        let obu_type = (header >> 3) & 0x0f;
        let extension = header & 0x04 != 0;
        let has_size = header & 0x02 != 0;
        let mut pos = 1 + usize::from(extension);
        if data.len() < pos {
            return Err(CodecError::new(OBU, "obu_extension_header", "truncated"));
        }
        let size = if has_size {
            let (size, n) = leb128(&data[pos..])?;
            pos += n;
            usize::try_from(size).unwrap_or(usize::MAX)
        } else {
            data.len() - pos
        };
        if size > data.len() - pos {
            return Err(CodecError::new(
                OBU,
                "obu_size",
                format!("{size} exceeds the {} bytes left", data.len() - pos),
            ));
        }
        out.push(Obu {
            obu_type,
            payload: &data[pos..pos + size],
        });
        data = &data[pos + size..];
    }
    Ok(out)
}

/// leb128() (AV1 §4.10.5): the value and the bytes it took; at most 8 bytes, value < 2^32.
fn leb128(data: &[u8]) -> Result<(u64, usize), CodecError> {
    let mut value = 0u64;
    for i in 0..8 {
        let Some(&b) = data.get(i) else {
            return Err(CodecError::new(OBU, "obu_size", "leb128 truncated"));
        };
        value |= u64::from(b & 0x7f) << (i * 7);
        if b & 0x80 == 0 {
            if value > u64::from(u32::MAX) {
                return Err(CodecError::new(OBU, "obu_size", "leb128 exceeds 2^32 - 1"));
            }
            return Ok((value, i + 1));
        }
    }
    Err(CodecError::new(
        OBU,
        "obu_size",
        "leb128 longer than 8 bytes",
    ))
}

/// What kls-rec reads from a sequence header OBU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SequenceHeader {
    pub(crate) seq_profile: u8,
    pub(crate) still_picture: bool,
    /// seq_level_idx of operating point 0.
    pub(crate) seq_level_idx_0: u8,
    pub(crate) seq_tier_0: u8,
    /// max_frame_width_minus_1 + 1, max_frame_height_minus_1 + 1.
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) bit_depth: u8,
    pub(crate) mono_chrome: bool,
    pub(crate) subsampling_x: bool,
    pub(crate) subsampling_y: bool,
}

/// The first sequence header among `data`'s OBUs (configOBUs or a keyframe's temporal unit).
pub fn find_sequence_header(data: &[u8]) -> Result<Option<SequenceHeader>, CodecError> {
    for obu in obus(data)? {
        if obu.obu_type == OBU_SEQUENCE_HEADER {
            return parse_sequence_header(obu.payload).map(Some);
        }
    }
    Ok(None)
}

/// Parses sequence_header_obu() (AV1 §5.5.1) up to color_config().
pub(crate) fn parse_sequence_header(payload: &[u8]) -> Result<SequenceHeader, CodecError> {
    let mut r = BitReader::new(SEQ, payload);
    let seq_profile = r.bits(3, "seq_profile")? as u8;
    let still_picture = r.bit("still_picture")?;
    let reduced = r.bit("reduced_still_picture_header")?;
    let (seq_level_idx_0, seq_tier_0) = if reduced {
        (r.bits(5, "seq_level_idx")? as u8, 0)
    } else {
        read_operating_points(&mut r)?
    };
    let width_bits = r.bits(4, "frame_width_bits_minus_1")? + 1;
    let height_bits = r.bits(4, "frame_height_bits_minus_1")? + 1;
    let width = r.bits(width_bits, "max_frame_width_minus_1")? + 1;
    let height = r.bits(height_bits, "max_frame_height_minus_1")? + 1;
    skip_coding_tools(&mut r, reduced)?;
    let color = read_color_config(&mut r, seq_profile)?;
    Ok(SequenceHeader {
        seq_profile,
        still_picture,
        seq_level_idx_0,
        seq_tier_0,
        width,
        height,
        bit_depth: color.bit_depth,
        mono_chrome: color.mono_chrome,
        subsampling_x: color.subsampling_x,
        subsampling_y: color.subsampling_y,
    })
}

/// timing_info(), decoder_model_info() and the operating points (§5.5.1–§5.5.5): operating point
/// 0's seq_level_idx and seq_tier.
fn read_operating_points(r: &mut BitReader<'_>) -> Result<(u8, u8), CodecError> {
    let mut decoder_model_present = false;
    let mut buffer_delay_len = 0;
    if r.bit("timing_info_present_flag")? {
        r.skip(64, "num_units_in_display_tick")?;
        if r.bit("equal_picture_interval")? {
            uvlc(r, "num_ticks_per_picture_minus_1")?;
        }
        decoder_model_present = r.bit("decoder_model_info_present_flag")?;
        if decoder_model_present {
            buffer_delay_len = r.bits(5, "buffer_delay_length_minus_1")? + 1;
            r.skip(32 + 5 + 5, "num_units_in_decoding_tick")?;
        }
    }
    let initial_display_delay_present = r.bit("initial_display_delay_present_flag")?;
    let count = r.bits(5, "operating_points_cnt_minus_1")? + 1;
    let mut first = None;
    for _ in 0..count {
        r.skip(12, "operating_point_idc")?;
        let level = r.bits(5, "seq_level_idx")? as u8;
        let tier = if level > 7 {
            r.bits(1, "seq_tier")? as u8
        } else {
            0
        };
        if decoder_model_present && r.bit("decoder_model_present_for_this_op")? {
            r.skip(
                2 * buffer_delay_len as usize + 1,
                "operating_parameters_info",
            )?;
        }
        if initial_display_delay_present && r.bit("initial_display_delay_present_for_this_op")? {
            r.skip(4, "initial_display_delay_minus_1")?;
        }
        first.get_or_insert((level, tier));
    }
    Ok(first.unwrap_or((0, 0)))
}

/// The coding-tool flags between the frame size and color_config() (§5.5.1).
fn skip_coding_tools(r: &mut BitReader<'_>, reduced: bool) -> Result<(), CodecError> {
    if !reduced && r.bit("frame_id_numbers_present_flag")? {
        r.skip(4 + 3, "delta_frame_id_length_minus_2")?;
    }
    r.skip(3, "use_128x128_superblock")?; // + enable_filter_intra, enable_intra_edge_filter
    if !reduced {
        r.skip(4, "enable_interintra_compound")?; // + masked_compound, warped_motion, dual_filter
        let order_hint = r.bit("enable_order_hint")?;
        if order_hint {
            r.skip(2, "enable_jnt_comp")?; // + enable_ref_frame_mvs
        }
        let force_screen_content_tools = if r.bit("seq_choose_screen_content_tools")? {
            2 // SELECT_SCREEN_CONTENT_TOOLS
        } else {
            r.bits(1, "seq_force_screen_content_tools")?
        };
        if force_screen_content_tools > 0 && !r.bit("seq_choose_integer_mv")? {
            r.skip(1, "seq_force_integer_mv")?;
        }
        if order_hint {
            r.skip(3, "order_hint_bits_minus_1")?;
        }
    }
    r.skip(3, "enable_superres") // + enable_cdef, enable_restoration
}

struct ColorConfig {
    bit_depth: u8,
    mono_chrome: bool,
    subsampling_x: bool,
    subsampling_y: bool,
}

/// color_config() (§5.5.2) as far as bit depth and chroma subsampling.
fn read_color_config(r: &mut BitReader<'_>, seq_profile: u8) -> Result<ColorConfig, CodecError> {
    let high_bitdepth = r.bit("high_bitdepth")?;
    let bit_depth = if seq_profile == 2 && high_bitdepth {
        if r.bit("twelve_bit")? { 12 } else { 10 }
    } else if high_bitdepth {
        10
    } else {
        8
    };
    let mono_chrome = seq_profile != 1 && r.bit("mono_chrome")?;
    // CP_UNSPECIFIED, TC_UNSPECIFIED, MC_UNSPECIFIED unless described.
    let (mut cp, mut tc, mut mc) = (2, 2, 2);
    if r.bit("color_description_present_flag")? {
        cp = r.bits(8, "color_primaries")?;
        tc = r.bits(8, "transfer_characteristics")?;
        mc = r.bits(8, "matrix_coefficients")?;
    }
    let (subsampling_x, subsampling_y) = if mono_chrome {
        (true, true)
    } else if (cp, tc, mc) == (1, 13, 0) {
        // BT.709 primaries, sRGB transfer, identity matrix: 4:4:4.
        (false, false)
    } else {
        r.skip(1, "color_range")?;
        match seq_profile {
            0 => (true, true),
            1 => (false, false),
            _ if bit_depth == 12 => {
                let x = r.bit("subsampling_x")?;
                (x, x && r.bit("subsampling_y")?)
            }
            _ => (true, false),
        }
    };
    Ok(ColorConfig {
        bit_depth,
        mono_chrome,
        subsampling_x,
        subsampling_y,
    })
}

/// uvlc() (§4.10.3).
fn uvlc(r: &mut BitReader<'_>, field: &'static str) -> Result<u32, CodecError> {
    let mut leading_zeros = 0u32;
    while !r.bit(field)? {
        leading_zeros += 1;
        if leading_zeros >= 32 {
            return Ok(u32::MAX);
        }
    }
    let value = r.bits(leading_zeros, field)?;
    Ok(value.saturating_add((1u32 << leading_zeros) - 1))
}

/// ffprobe's profile name for seq_profile (FFmpeg's `ff_av1_profiles`).
pub(crate) fn profile_name(seq_profile: u8) -> &'static str {
    match seq_profile {
        0 => "Main",
        1 => "High",
        2 => "Professional",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::testhex::hex;

    /// `av1C` bodies FFmpeg 8 wrote (MP4 and E-RTMP FLV alike) for libsvtav1 encodes.
    const AV1C_64X48_8BIT: &str = "81000c000a0a00000002aff7805f0008";
    const AV1C_320X240_10BIT: &str = "81004c000a0b000000043cffbc02f84040";
    /// The start of libsvtav1's first temporal unit: temporal delimiter, sequence header, …
    const KEY_TU_64X48: &str = "12000a0a00000002aff78d5f200832ae14";

    #[test]
    fn reads_av1c_and_its_sequence_header() {
        let c = parse_av1c(&hex(AV1C_64X48_8BIT)).unwrap();
        assert_eq!((c.seq_profile, c.seq_level_idx_0, c.seq_tier_0), (0, 0, 0));
        assert!(c.chroma_subsampling_x && c.chroma_subsampling_y && !c.monochrome);
        assert_eq!(c.bit_depth(), 8);
        assert_eq!(c.initial_presentation_delay, None);
        assert_eq!(c.codecs_string(), "av01.0.00M.08");
        let s = find_sequence_header(&c.config_obus).unwrap().unwrap();
        assert_eq!((s.width, s.height, s.bit_depth), (64, 48, 8));
        assert_eq!((s.seq_profile, s.seq_level_idx_0), (0, 0));

        let c = parse_av1c(&hex(AV1C_320X240_10BIT)).unwrap();
        assert_eq!(c.bit_depth(), 10);
        assert_eq!(c.codecs_string(), "av01.0.00M.10");
        let s = find_sequence_header(&c.config_obus).unwrap().unwrap();
        assert_eq!((s.width, s.height, s.bit_depth), (320, 240, 10));
        assert!(s.subsampling_x && s.subsampling_y);
    }

    #[test]
    fn finds_the_sequence_header_in_a_keyframe() {
        let data = hex(KEY_TU_64X48);
        let o = obus(&data[..14]).unwrap();
        assert_eq!(o[0].obu_type, 2); // OBU_TEMPORAL_DELIMITER
        let s = find_sequence_header(&data[..14]).unwrap().unwrap();
        assert_eq!((s.width, s.height), (64, 48));
        // Cut inside the frame OBU after it: the size overruns.
        assert_eq!(obus(&data).unwrap_err().field, "obu_size");
    }

    #[test]
    fn bad_records_name_the_field() {
        assert_eq!(parse_av1c(&[]).unwrap_err().field, "marker");
        assert_eq!(parse_av1c(&[0x01]).unwrap_err().field, "marker");
        assert_eq!(parse_av1c(&[0x82, 0, 0, 0]).unwrap_err().field, "version");
        assert_eq!(parse_av1c(&[0x81, 0]).unwrap_err().field, "seq_tier_0");
        let mut cut = hex(AV1C_64X48_8BIT);
        cut.truncate(9);
        let c = parse_av1c(&cut).unwrap();
        assert!(find_sequence_header(&c.config_obus).is_err());
        assert_eq!(obus(&[0x80]).unwrap_err().field, "obu_forbidden_bit");
        assert_eq!(obus(&[0x0a, 0xff]).unwrap_err().field, "obu_size");
        assert_eq!(parse_sequence_header(&[0]).unwrap_err().structure, SEQ);
        assert_eq!(profile_name(2), "Professional");
    }
}

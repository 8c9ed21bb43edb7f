//! H.264 / AVC: the AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3) and the sequence
//! parameter set fields kls-rec reports (ITU-T H.264 §7.3.2.1.1, VUI in Annex E.1.1).
//!
//! Width and height are the display size after frame cropping, as ffprobe reports them: like
//! FFmpeg (`h264_ps.c`), crop values that would leave an empty picture are ignored.

use super::CodecError;
use super::bits::{BitReader, ByteReader, rbsp};

const AVCC: &str = "AVCDecoderConfigurationRecord";

/// NAL unit types kls-rec tells apart (H.264 Table 7-1).
pub(crate) const NAL_IDR: u8 = 5;
pub(crate) const NAL_SPS: u8 = 7;
pub(crate) const NAL_PPS: u8 = 8;
pub(crate) const NAL_AUD: u8 = 9;
const SPS: &str = "seq_parameter_set_rbsp";

/// The parsed view of an `avcC` record; the record's bytes stay with the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvcConfig {
    pub(crate) profile_idc: u8,
    pub(crate) profile_compatibility: u8,
    pub(crate) level_idc: u8,
    /// lengthSizeMinusOne + 1: bytes of each NAL length prefix in samples (1, 2 or 4).
    pub(crate) nal_length_size: u8,
    /// Raw SPS NAL units (with their NAL header byte), in record order.
    pub sps: Vec<Vec<u8>>,
    /// Raw PPS NAL units, in record order.
    pub(crate) pps: Vec<Vec<u8>>,
    /// The High-profile extension (§5.3.3.1.2), when the record carries it complete.
    pub(crate) high: Option<AvcHighExt>,
}

/// The fields that High profiles (100, 110, 122, 144) append to an `avcC` record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AvcHighExt {
    pub(crate) chroma_format: u8,
    pub(crate) bit_depth_luma: u8,
    pub(crate) bit_depth_chroma: u8,
    /// SequenceParameterSetExt NAL units.
    pub(crate) sps_ext: Vec<Vec<u8>>,
}

/// Fields of a sequence parameter set.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SpsInfo {
    pub(crate) profile_idc: u8,
    /// The byte after profile_idc: constraint_set0_flag in bit 7 … constraint_set5_flag in bit 2.
    pub(crate) constraint_flags: u8,
    pub(crate) level_idc: u8,
    /// 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4 (1 when the profile does not signal it).
    pub(crate) chroma_format_idc: u8,
    pub(crate) separate_colour_plane: bool,
    pub(crate) bit_depth_luma: u8,
    pub(crate) bit_depth_chroma: u8,
    /// False for interlaced-capable streams (field or MBAFF coding).
    pub(crate) frame_mbs_only: bool,
    /// Coded size in luma samples, before cropping.
    pub(crate) coded_width: u32,
    pub(crate) coded_height: u32,
    /// Display size after frame cropping.
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// Sample aspect ratio from the VUI, when present.
    pub(crate) sar: Option<(u16, u16)>,
    /// VUI timing, when present: (num_units_in_tick, time_scale).
    pub(crate) timing: Option<(u32, u32)>,
    pub(crate) fixed_frame_rate: bool,
}

/// Parses an `avcC` record. Records with zero SPS are accepted (the caller decides whether it can
/// use them); bytes after the last field are ignored, as decoders do.
pub fn parse_avcc(record: &[u8]) -> Result<AvcConfig, CodecError> {
    let mut r = ByteReader::new(AVCC, record);
    let version = r.u8("configurationVersion")?;
    if version != 1 {
        return Err(CodecError::new(
            AVCC,
            "configurationVersion",
            format!("at byte 0: {version}, expected 1"),
        ));
    }
    let profile_idc = r.u8("AVCProfileIndication")?;
    let profile_compatibility = r.u8("profile_compatibility")?;
    let level_idc = r.u8("AVCLevelIndication")?;
    let length_size_minus_one = r.u8("lengthSizeMinusOne")? & 0x03;
    if length_size_minus_one == 2 {
        return Err(r.err(
            "lengthSizeMinusOne",
            "value 2 (3-byte lengths) is not allowed",
        ));
    }
    let num_sps = r.u8("numOfSequenceParameterSets")? & 0x1f;
    let sps = read_nal_list(&mut r, usize::from(num_sps), "sequenceParameterSetLength")?;
    let num_pps = r.u8("numOfPictureParameterSets")?;
    let pps = read_nal_list(&mut r, usize::from(num_pps), "pictureParameterSetLength")?;
    // Many encoders omit the extension or cut it short; it only repeats what the SPS says.
    let high = if matches!(profile_idc, 100 | 110 | 122 | 144) {
        read_high_ext(&mut r).ok()
    } else {
        None
    };
    Ok(AvcConfig {
        profile_idc,
        profile_compatibility,
        level_idc,
        nal_length_size: length_size_minus_one + 1,
        sps,
        pps,
        high,
    })
}

fn read_high_ext(r: &mut ByteReader<'_>) -> Result<AvcHighExt, CodecError> {
    let chroma_format = r.u8("chroma_format")? & 0x03;
    let bit_depth_luma = (r.u8("bit_depth_luma_minus8")? & 0x07) + 8;
    let bit_depth_chroma = (r.u8("bit_depth_chroma_minus8")? & 0x07) + 8;
    let n = r.u8("numOfSequenceParameterSetExt")?;
    let sps_ext = read_nal_list(r, usize::from(n), "sequenceParameterSetExtLength")?;
    Ok(AvcHighExt {
        chroma_format,
        bit_depth_luma,
        bit_depth_chroma,
        sps_ext,
    })
}

/// `count` NAL units each preceded by a 16-bit length. Memory grows only with bytes present.
pub(super) fn read_nal_list(
    r: &mut ByteReader<'_>,
    count: usize,
    length_field: &'static str,
) -> Result<Vec<Vec<u8>>, CodecError> {
    let mut out = Vec::new();
    for _ in 0..count {
        let len = r.u16(length_field)?;
        out.push(r.take(usize::from(len), length_field)?.to_vec());
    }
    Ok(out)
}

/// Parses an SPS NAL unit (header byte included, emulation prevention bytes present).
pub fn parse_sps(nal: &[u8]) -> Result<SpsInfo, CodecError> {
    let header = *nal
        .first()
        .ok_or_else(|| CodecError::new(SPS, "nal_unit_header", "empty NAL unit"))?;
    if header & 0x1f != 7 {
        return Err(CodecError::new(
            SPS,
            "nal_unit_type",
            format!("{} is not an SPS (7)", header & 0x1f),
        ));
    }
    let data = rbsp(&nal[1..]);
    let mut r = BitReader::new(SPS, &data);
    let mut s = SpsInfo {
        profile_idc: r.bits(8, "profile_idc")? as u8,
        constraint_flags: r.bits(8, "constraint_set_flags")? as u8,
        level_idc: r.bits(8, "level_idc")? as u8,
        chroma_format_idc: 1,
        bit_depth_luma: 8,
        bit_depth_chroma: 8,
        ..SpsInfo::default()
    };
    r.ue_max(31, "seq_parameter_set_id")?;
    if matches!(
        s.profile_idc,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        read_chroma_format(&mut r, &mut s)?;
    }
    r.ue_max(12, "log2_max_frame_num_minus4")?;
    skip_pic_order_cnt(&mut r)?;
    r.ue("max_num_ref_frames")?;
    r.bit("gaps_in_frame_num_value_allowed_flag")?;
    // Bounded so sizes fit in u32 with room: 2^16 macroblocks is far above any level limit.
    let width_mbs = r.ue_max(65_535, "pic_width_in_mbs_minus1")? + 1;
    let height_map_units = r.ue_max(65_535, "pic_height_in_map_units_minus1")? + 1;
    s.frame_mbs_only = r.bit("frame_mbs_only_flag")?;
    if !s.frame_mbs_only {
        r.bit("mb_adaptive_frame_field_flag")?;
    }
    r.bit("direct_8x8_inference_flag")?;
    let field_factor = if s.frame_mbs_only { 1 } else { 2 };
    s.coded_width = width_mbs * 16;
    s.coded_height = height_map_units * 16 * field_factor;
    let mut crop = [0u32; 4];
    if r.bit("frame_cropping_flag")? {
        for c in &mut crop {
            *c = r.ue("frame_crop_offset")?;
        }
    }
    (s.width, s.height) = cropped_size(&s, crop);
    if r.bit("vui_parameters_present_flag")? {
        // A truncated VUI loses only the fields it cut; the picture size stands.
        let _ = read_vui(&mut r, &mut s);
    }
    Ok(s)
}

/// The high profiles' chroma_format_idc, bit depths and scaling matrices (§7.3.2.1.1).
fn read_chroma_format(r: &mut BitReader<'_>, s: &mut SpsInfo) -> Result<(), CodecError> {
    s.chroma_format_idc = r.ue_max(3, "chroma_format_idc")? as u8;
    if s.chroma_format_idc == 3 {
        s.separate_colour_plane = r.bit("separate_colour_plane_flag")?;
    }
    s.bit_depth_luma = r.ue_max(6, "bit_depth_luma_minus8")? as u8 + 8;
    s.bit_depth_chroma = r.ue_max(6, "bit_depth_chroma_minus8")? as u8 + 8;
    r.bit("qpprime_y_zero_transform_bypass_flag")?;
    if r.bit("seq_scaling_matrix_present_flag")? {
        let lists = if s.chroma_format_idc == 3 { 12 } else { 8 };
        for i in 0..lists {
            if r.bit("seq_scaling_list_present_flag")? {
                skip_scaling_list(r, if i < 6 { 16 } else { 64 })?;
            }
        }
    }
    Ok(())
}

/// pic_order_cnt_type and the fields it brings (§7.3.2.1.1): read only to skip them.
fn skip_pic_order_cnt(r: &mut BitReader<'_>) -> Result<(), CodecError> {
    match r.ue_max(2, "pic_order_cnt_type")? {
        0 => {
            r.ue_max(12, "log2_max_pic_order_cnt_lsb_minus4")?;
        }
        1 => {
            r.bit("delta_pic_order_always_zero_flag")?;
            r.se("offset_for_non_ref_pic")?;
            r.se("offset_for_top_to_bottom_field")?;
            let n = r.ue_max(255, "num_ref_frames_in_pic_order_cnt_cycle")?;
            for _ in 0..n {
                r.se("offset_for_ref_frame")?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The displayed size: the coded size less the frame cropping offsets (left, right, top,
/// bottom) in CropUnitX / CropUnitY (§7.4.2.1.1); the coded size where the offsets do not fit.
fn cropped_size(s: &SpsInfo, crop: [u32; 4]) -> (u32, u32) {
    let field_factor = if s.frame_mbs_only { 1 } else { 2 };
    let chroma_array_type = if s.separate_colour_plane {
        0
    } else {
        s.chroma_format_idc
    };
    let (unit_x, unit_y) = match chroma_array_type {
        0 => (1, field_factor),
        1 => (2, 2 * field_factor),
        2 => (2, field_factor),
        _ => (1, field_factor),
    };
    let [left, right, top, bottom] = crop.map(u64::from);
    let crop_x = (left + right) * unit_x as u64;
    let crop_y = (top + bottom) * unit_y as u64;
    if crop_x < u64::from(s.coded_width) && crop_y < u64::from(s.coded_height) {
        (
            s.coded_width - crop_x as u32,
            s.coded_height - crop_y as u32,
        )
    } else {
        (s.coded_width, s.coded_height)
    }
}

/// scaling_list() (§7.3.2.1.1.1): read only to skip it.
fn skip_scaling_list(r: &mut BitReader<'_>, size: usize) -> Result<(), CodecError> {
    let mut last: i32 = 8;
    let mut next: i32 = 8;
    for _ in 0..size {
        if next != 0 {
            let delta = r.se("delta_scale")?;
            if !(-128..=127).contains(&delta) {
                return Err(CodecError::new(
                    SPS,
                    "delta_scale",
                    format!("{delta} out of range"),
                ));
            }
            next = (last + delta + 256) % 256;
        }
        if next != 0 {
            last = next;
        }
    }
    Ok(())
}

/// vui_parameters() (Annex E.1.1) up to the timing information.
fn read_vui(r: &mut BitReader<'_>, s: &mut SpsInfo) -> Result<(), CodecError> {
    if r.bit("aspect_ratio_info_present_flag")? {
        let idc = r.bits(8, "aspect_ratio_idc")? as u8;
        s.sar = if idc == 255 {
            let w = r.bits(16, "sar_width")? as u16;
            let h = r.bits(16, "sar_height")? as u16;
            Some((w, h))
        } else {
            SAR_TABLE
                .get(usize::from(idc))
                .copied()
                .filter(|&(w, _)| w != 0)
        };
    }
    skip_vui_signal(r)?;
    if r.bit("timing_info_present_flag")? {
        let num_units_in_tick = r.bits(32, "num_units_in_tick")?;
        let time_scale = r.bits(32, "time_scale")?;
        s.fixed_frame_rate = r.bit("fixed_frame_rate_flag")?;
        if num_units_in_tick > 0 && time_scale > 0 {
            s.timing = Some((num_units_in_tick, time_scale));
        }
    }
    Ok(())
}

/// Table E-1: sample aspect ratios for aspect_ratio_idc 0..=16.
const SAR_TABLE: [(u16, u16); 17] = [
    (0, 1),    // 0: unspecified
    (1, 1),    // 1
    (12, 11),  // 2
    (10, 11),  // 3
    (16, 11),  // 4
    (40, 33),  // 5
    (24, 11),  // 6
    (20, 11),  // 7
    (32, 11),  // 8
    (80, 33),  // 9
    (18, 11),  // 10
    (15, 11),  // 11
    (64, 33),  // 12
    (160, 99), // 13
    (4, 3),    // 14
    (3, 2),    // 15
    (2, 1),    // 16
];

/// ffprobe's profile name for `profile_idc` ("High", "Main", "Constrained Baseline", …).
///
/// `constraint_flags` is the SPS byte after profile_idc (the `avcC` profile_compatibility byte):
/// like FFmpeg's `ff_h264_get_profile`, constraint_set1 turns Baseline into Constrained Baseline
/// and constraint_set3 marks the Intra variants of High 10, 4:2:2 and 4:4:4. ffprobe prints the
/// profile number for profiles it has no name for; this returns "unknown" for them.
pub(crate) fn profile_name(profile_idc: u8, constraint_flags: u8) -> &'static str {
    let set1 = constraint_flags & 0x40 != 0;
    let set3 = constraint_flags & 0x10 != 0;
    match profile_idc {
        66 if set1 => "Constrained Baseline",
        66 => "Baseline",
        77 => "Main",
        88 => "Extended",
        100 => "High",
        110 if set3 => "High 10 Intra",
        110 => "High 10",
        122 if set3 => "High 4:2:2 Intra",
        122 => "High 4:2:2",
        144 => "High 4:4:4",
        244 if set3 => "High 4:4:4 Intra",
        244 => "High 4:4:4 Predictive",
        44 => "CAVLC 4:4:4",
        118 => "Multiview High",
        128 => "Stereo High",
        _ => "unknown",
    }
}

/// vui_parameters()' overscan, video signal type and chroma location fields (H.264 Annex E.1.1,
/// the same syntax in H.265 Annex E.2.1), read past.
pub(super) fn skip_vui_signal(r: &mut BitReader<'_>) -> Result<(), CodecError> {
    if r.bit("overscan_info_present_flag")? {
        r.bit("overscan_appropriate_flag")?;
    }
    if r.bit("video_signal_type_present_flag")? {
        r.skip(4, "video_format")?;
        if r.bit("colour_description_present_flag")? {
            r.skip(24, "colour_primaries")?;
        }
    }
    if r.bit("chroma_loc_info_present_flag")? {
        r.ue("chroma_sample_loc_type_top_field")?;
        r.ue("chroma_sample_loc_type_bottom_field")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;

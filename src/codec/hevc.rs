//! H.265 / HEVC: the HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1) and the
//! sequence parameter set fields kls-rec reports (ITU-T H.265 §7.3.2.2.1, profile_tier_level
//! §7.3.3, st_ref_pic_set §7.3.7, VUI Annex E.2.1).
//!
//! Width and height are the conformance window's, as ffprobe reports them; like FFmpeg
//! (`hevc_ps.c`), a window that leaves no picture is ignored, and a left offset that breaks
//! 32-byte alignment is reduced (FFmpeg does this unless `-flags unaligned` is given).

use super::CodecError;
use super::bits::{BitReader, ByteReader, rbsp};

const HVCC: &str = "HEVCDecoderConfigurationRecord";
const SPS: &str = "seq_parameter_set_rbsp";

/// NAL unit types of the parameter sets (H.265 Table 7-1).
pub(crate) const NAL_VPS: u8 = 32;
pub const NAL_SPS: u8 = 33;
pub(crate) const NAL_PPS: u8 = 34;
/// The access unit delimiter and the prefix SEI (H.265 Table 7-1).
pub(crate) const NAL_AUD: u8 = 35;
pub(crate) const NAL_PREFIX_SEI: u8 = 39;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HevcConfig {
    pub(crate) general_profile_space: u8,
    pub(crate) general_tier_flag: bool,
    pub(crate) general_profile_idc: u8,
    pub(crate) general_profile_compatibility_flags: u32,
    pub(crate) general_level_idc: u8,
    pub(crate) chroma_format_idc: u8,
    pub(crate) bit_depth_luma: u8,
    pub(crate) bit_depth_chroma: u8,
    /// lengthSizeMinusOne + 1.
    pub(crate) nal_length_size: u8,
    /// Raw parameter-set NAL units (VPS, SPS, PPS, SEI …) in record order, with their type.
    pub(crate) arrays: Vec<(u8, Vec<Vec<u8>>)>,
}

impl HevcConfig {
    /// The NAL units of one type, across all arrays, in record order.
    pub fn nal_units_of(&self, nal_type: u8) -> impl Iterator<Item = &[u8]> {
        self.arrays
            .iter()
            .filter(move |(t, _)| *t == nal_type)
            .flat_map(|(_, units)| units.iter().map(Vec::as_slice))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HevcSpsInfo {
    pub(crate) general_profile_space: u8,
    pub(crate) general_tier_flag: bool,
    /// As FFmpeg reads it: a 0 here is replaced by the first compatible profile signalled.
    pub(crate) general_profile_idc: u8,
    pub(crate) general_level_idc: u8,
    pub(crate) max_sub_layers: u8,
    pub(crate) chroma_format_idc: u8,
    pub(crate) bit_depth_luma: u8,
    pub(crate) bit_depth_chroma: u8,
    /// pic_width/height_in_luma_samples, before the conformance window.
    pub(crate) coded_width: u32,
    pub(crate) coded_height: u32,
    /// Output size after the conformance window.
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// VUI timing, when present: (num_units_in_tick, time_scale).
    pub(crate) timing: Option<(u32, u32)>,
}

/// Parses an `hvcC` record; bytes after the last array are ignored.
pub fn parse_hvcc(record: &[u8]) -> Result<HevcConfig, CodecError> {
    let mut r = ByteReader::new(HVCC, record);
    // configurationVersion: early writers put 0 here; FFmpeg accepts any value.
    r.u8("configurationVersion")?;
    let b = r.u8("general_profile_idc")?;
    let compat = r.u32("general_profile_compatibility_flags")?;
    r.take(6, "general_constraint_indicator_flags")?;
    let general_level_idc = r.u8("general_level_idc")?;
    r.u16("min_spatial_segmentation_idc")?;
    r.u8("parallelismType")?;
    let chroma_format_idc = r.u8("chromaFormat")? & 0x03;
    let bit_depth_luma = (r.u8("bitDepthLumaMinus8")? & 0x07) + 8;
    let bit_depth_chroma = (r.u8("bitDepthChromaMinus8")? & 0x07) + 8;
    r.u16("avgFrameRate")?;
    let length_size_minus_one = r.u8("lengthSizeMinusOne")? & 0x03;
    if length_size_minus_one == 2 {
        return Err(r.err(
            "lengthSizeMinusOne",
            "value 2 (3-byte lengths) is not allowed",
        ));
    }
    let num_arrays = r.u8("numOfArrays")?;
    let mut arrays = Vec::new();
    for _ in 0..num_arrays {
        let nal_type = r.u8("NAL_unit_type")? & 0x3f;
        let count = r.u16("numNalus")?;
        let units = super::h264::read_nal_list(&mut r, usize::from(count), "nalUnitLength")?;
        arrays.push((nal_type, units));
    }
    Ok(HevcConfig {
        general_profile_space: b >> 6,
        general_tier_flag: b & 0x20 != 0,
        general_profile_idc: effective_profile(b & 0x1f, compat),
        general_profile_compatibility_flags: compat,
        general_level_idc,
        chroma_format_idc,
        bit_depth_luma,
        bit_depth_chroma,
        nal_length_size: length_size_minus_one + 1,
        arrays,
    })
}

/// FFmpeg's reading of general_profile_idc 0: the first profile the compatibility flags name
/// (flag j is bit 31 − j).
fn effective_profile(profile_idc: u8, compat: u32) -> u8 {
    if profile_idc != 0 {
        return profile_idc;
    }
    (1..32u32)
        .find(|j| compat & (1 << (31 - j)) != 0)
        .map_or(0, |j| j as u8)
}

/// Parses an SPS NAL unit (2-byte header included, emulation prevention bytes present).
pub fn parse_sps(nal: &[u8]) -> Result<HevcSpsInfo, CodecError> {
    let header = nal
        .get(..2)
        .ok_or_else(|| CodecError::new(SPS, "nal_unit_header", "shorter than 2 bytes"))?;
    let nal_type = (header[0] >> 1) & 0x3f;
    if nal_type != NAL_SPS {
        return Err(CodecError::new(
            SPS,
            "nal_unit_type",
            format!("{nal_type} is not an SPS ({NAL_SPS})"),
        ));
    }
    let data = rbsp(&nal[2..]);
    let mut r = BitReader::new(SPS, &data);
    let mut s = HevcSpsInfo::default();
    r.skip(4, "sps_video_parameter_set_id")?;
    let max_sub_layers_minus1 = r.bits(3, "sps_max_sub_layers_minus1")? as u8;
    s.max_sub_layers = max_sub_layers_minus1 + 1;
    r.bit("sps_temporal_id_nesting_flag")?;
    read_profile_tier_level(&mut r, max_sub_layers_minus1, &mut s)?;
    r.ue_max(15, "sps_seq_parameter_set_id")?;
    s.chroma_format_idc = r.ue_max(3, "chroma_format_idc")? as u8;
    if s.chroma_format_idc == 3 {
        r.bit("separate_colour_plane_flag")?;
    }
    // Bounded so products stay far from overflow; level 6.2 allows 8192x4320.
    s.coded_width = r.ue_max(65_535, "pic_width_in_luma_samples")?;
    s.coded_height = r.ue_max(65_535, "pic_height_in_luma_samples")?;
    let mut window = [0u32; 4];
    if r.bit("conformance_window_flag")? {
        for w in &mut window {
            *w = r.ue_max(65_535, "conf_win_offset")?;
        }
    }
    s.bit_depth_luma = r.ue_max(8, "bit_depth_luma_minus8")? as u8 + 8;
    s.bit_depth_chroma = r.ue_max(8, "bit_depth_chroma_minus8")? as u8 + 8;
    apply_window(&mut s, window);
    let log2_max_poc_lsb = r.ue_max(12, "log2_max_pic_order_cnt_lsb_minus4")? + 4;
    let ordering_all = r.bit("sps_sub_layer_ordering_info_present_flag")?;
    let first = if ordering_all {
        0
    } else {
        max_sub_layers_minus1
    };
    for _ in first..=max_sub_layers_minus1 {
        r.ue("sps_max_dec_pic_buffering_minus1")?;
        r.ue("sps_max_num_reorder_pics")?;
        r.ue("sps_max_latency_increase_plus1")?;
    }
    r.ue("log2_min_luma_coding_block_size_minus3")?;
    r.ue("log2_diff_max_min_luma_coding_block_size")?;
    r.ue("log2_min_luma_transform_block_size_minus2")?;
    r.ue("log2_diff_max_min_luma_transform_block_size")?;
    r.ue("max_transform_hierarchy_depth_inter")?;
    r.ue("max_transform_hierarchy_depth_intra")?;
    // The rest leads to the VUI only; failing past here keeps the size already read.
    if read_to_vui(&mut r, log2_max_poc_lsb).unwrap_or(false) {
        let _ = read_vui_timing(&mut r, &mut s);
    }
    Ok(s)
}

/// profile_tier_level(1, sps_max_sub_layers_minus1) (§7.3.3).
fn read_profile_tier_level(
    r: &mut BitReader<'_>,
    max_sub_layers_minus1: u8,
    s: &mut HevcSpsInfo,
) -> Result<(), CodecError> {
    s.general_profile_space = r.bits(2, "general_profile_space")? as u8;
    s.general_tier_flag = r.bit("general_tier_flag")?;
    let profile_idc = r.bits(5, "general_profile_idc")? as u8;
    let compat = r.bits(32, "general_profile_compatibility_flag")?;
    s.general_profile_idc = effective_profile(profile_idc, compat);
    r.skip(48, "general_constraint_flags")?;
    s.general_level_idc = r.bits(8, "general_level_idc")? as u8;
    let mut present = [(false, false); 8];
    for p in present.iter_mut().take(usize::from(max_sub_layers_minus1)) {
        *p = (
            r.bit("sub_layer_profile_present_flag")?,
            r.bit("sub_layer_level_present_flag")?,
        );
    }
    if max_sub_layers_minus1 > 0 {
        r.skip(
            2 * (8 - usize::from(max_sub_layers_minus1)),
            "reserved_zero_2bits",
        )?;
    }
    for &(profile, level) in present.iter().take(usize::from(max_sub_layers_minus1)) {
        if profile {
            r.skip(88, "sub_layer_profile")?;
        }
        if level {
            r.skip(8, "sub_layer_level_idc")?;
        }
    }
    Ok(())
}

/// The output window, with FFmpeg's corrections (see the module doc).
fn apply_window(s: &mut HevcSpsInfo, window: [u32; 4]) {
    // SubWidthC / SubHeightC (H.265 Table 6-1).
    let (sub_w, sub_h) = match s.chroma_format_idc {
        1 => (2, 2),
        2 => (2, 1),
        _ => (1, 1),
    };
    let [mut left, right, top, bottom] = window;
    left *= sub_w;
    let (right, top, bottom) = (right * sub_w, top * sub_h, bottom * sub_h);
    let align_mask = if s.bit_depth_luma > 8 { 0x0f } else { 0x1f };
    if left & align_mask != 0 {
        left &= !align_mask;
    }
    if left + right >= s.coded_width || top + bottom >= s.coded_height {
        s.width = s.coded_width;
        s.height = s.coded_height;
    } else {
        s.width = s.coded_width - left - right;
        s.height = s.coded_height - top - bottom;
    }
}

/// The SPS fields between the coding-block sizes and the VUI; true when a VUI follows.
fn read_to_vui(r: &mut BitReader<'_>, log2_max_poc_lsb: u32) -> Result<bool, CodecError> {
    if r.bit("scaling_list_enabled_flag")? && r.bit("sps_scaling_list_data_present_flag")? {
        skip_scaling_list_data(r)?;
    }
    r.bit("amp_enabled_flag")?;
    r.bit("sample_adaptive_offset_enabled_flag")?;
    if r.bit("pcm_enabled_flag")? {
        r.skip(8, "pcm_sample_bit_depth_minus1")?;
        r.ue("log2_min_pcm_luma_coding_block_size_minus3")?;
        r.ue("log2_diff_max_min_pcm_luma_coding_block_size")?;
        r.bit("pcm_loop_filter_disabled_flag")?;
    }
    let num_sets = r.ue_max(64, "num_short_term_ref_pic_sets")? as usize;
    let mut num_delta_pocs = [0u32; 64];
    for i in 0..num_sets {
        num_delta_pocs[i] = skip_st_ref_pic_set(r, i, &num_delta_pocs)?;
    }
    if r.bit("long_term_ref_pics_present_flag")? {
        let n = r.ue_max(32, "num_long_term_ref_pics_sps")?;
        for _ in 0..n {
            r.skip(log2_max_poc_lsb as usize + 1, "lt_ref_pic_poc_lsb_sps")?;
        }
    }
    r.bit("sps_temporal_mvp_enabled_flag")?;
    r.bit("strong_intra_smoothing_enabled_flag")?;
    r.bit("vui_parameters_present_flag")
}

/// scaling_list_data() (§7.3.4), read only to skip it.
fn skip_scaling_list_data(r: &mut BitReader<'_>) -> Result<(), CodecError> {
    for size_id in 0..4 {
        let step = if size_id == 3 { 3 } else { 1 };
        for _ in (0..6).step_by(step) {
            if !r.bit("scaling_list_pred_mode_flag")? {
                r.ue_max(5, "scaling_list_pred_matrix_id_delta")?;
            } else {
                let coefs = 64.min(1 << (4 + (size_id << 1)));
                if size_id > 1 {
                    r.se("scaling_list_dc_coef_minus8")?;
                }
                for _ in 0..coefs {
                    r.se("scaling_list_delta_coef")?;
                }
            }
        }
    }
    Ok(())
}

/// st_ref_pic_set(idx) (§7.3.7) in an SPS; returns NumDeltaPocs\[idx\].
fn skip_st_ref_pic_set(
    r: &mut BitReader<'_>,
    idx: usize,
    num_delta_pocs: &[u32; 64],
) -> Result<u32, CodecError> {
    if idx != 0 && r.bit("inter_ref_pic_set_prediction_flag")? {
        // In an SPS, delta_idx_minus1 is absent: the reference is the previous set.
        r.bit("delta_rps_sign")?;
        r.ue("abs_delta_rps_minus1")?;
        let reference = num_delta_pocs[idx - 1];
        let mut count = 0;
        for _ in 0..=reference {
            let used = r.bit("used_by_curr_pic_flag")?;
            if used || r.bit("use_delta_flag")? {
                count += 1;
            }
        }
        return Ok(count);
    }
    let negative = r.ue_max(16, "num_negative_pics")?;
    let positive = r.ue_max(16, "num_positive_pics")?;
    if negative + positive > 16 {
        return Err(CodecError::new(
            SPS,
            "num_positive_pics",
            "more than 16 reference pictures",
        ));
    }
    for _ in 0..negative + positive {
        r.ue("delta_poc_minus1")?;
        r.bit("used_by_curr_pic_flag")?;
    }
    Ok(negative + positive)
}

/// vui_parameters() (Annex E.2.1) up to the timing information.
fn read_vui_timing(r: &mut BitReader<'_>, s: &mut HevcSpsInfo) -> Result<(), CodecError> {
    if r.bit("aspect_ratio_info_present_flag")? && r.bits(8, "aspect_ratio_idc")? == 255 {
        r.skip(32, "sar_width")?;
    }
    super::h264::skip_vui_signal(r)?;
    r.skip(3, "field_seq_flag")?;
    if r.bit("default_display_window_flag")? {
        for _ in 0..4 {
            r.ue("def_disp_win_offset")?;
        }
    }
    if r.bit("vui_timing_info_present_flag")? {
        let num_units_in_tick = r.bits(32, "vui_num_units_in_tick")?;
        let time_scale = r.bits(32, "vui_time_scale")?;
        if num_units_in_tick > 0 && time_scale > 0 {
            s.timing = Some((num_units_in_tick, time_scale));
        }
    }
    Ok(())
}

/// ffprobe's profile name (FFmpeg's `ff_hevc_profiles`): "Main", "Main 10",
/// "Main Still Picture", "Rext"; "unknown" for others.
pub(crate) fn profile_name(general_profile_idc: u8) -> &'static str {
    match general_profile_idc {
        1 => "Main",
        2 => "Main 10",
        3 => "Main Still Picture",
        4 => "Rext",
        _ => "unknown",
    }
}

/// True for IRAP pictures (nal_unit_type 16..=23: BLA, IDR, CRA).
pub(crate) fn is_irap(nal_type: u8) -> bool {
    (16..=23).contains(&nal_type)
}

#[cfg(test)]
mod tests;

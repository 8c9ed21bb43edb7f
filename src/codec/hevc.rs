//! H.265 / HEVC: the HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3) and SPS fields
//! (ITU-T H.265 §7.3.2.2).

use super::CodecError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HevcConfig {
    pub general_profile_idc: u8,
    pub general_level_idc: u8,
    /// lengthSizeMinusOne + 1.
    pub nal_length_size: u8,
    /// Raw parameter-set NAL units (VPS, SPS, PPS, SEI …) in record order, with their type.
    pub arrays: Vec<(u8, Vec<Vec<u8>>)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HevcSpsInfo {
    pub general_profile_idc: u8,
    pub general_level_idc: u8,
    pub width: u32,
    pub height: u32,
    pub timing: Option<(u32, u32)>,
}

pub fn parse_hvcc(_record: &[u8]) -> Result<HevcConfig, CodecError> {
    Err(CodecError::new(
        "HEVCDecoderConfigurationRecord",
        "-",
        "not implemented",
    ))
}

/// Parses an SPS NAL unit (2-byte header included, emulation prevention bytes present).
pub fn parse_sps(_nal: &[u8]) -> Result<HevcSpsInfo, CodecError> {
    Err(CodecError::new(
        "seq_parameter_set_rbsp",
        "-",
        "not implemented",
    ))
}

/// True for IRAP pictures (nal_unit_type 16..=23: BLA, IDR, CRA).
pub fn is_irap(nal_type: u8) -> bool {
    (16..=23).contains(&nal_type)
}

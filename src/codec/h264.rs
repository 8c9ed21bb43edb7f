//! H.264 / AVC: the AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3) and the sequence
//! parameter set fields kls-rec reports (ITU-T H.264 §7.3.2.1.1).

use super::CodecError;

/// The parsed view of an `avcC` record; the record's bytes stay with the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvcConfig {
    pub profile_idc: u8,
    pub profile_compatibility: u8,
    pub level_idc: u8,
    /// lengthSizeMinusOne + 1: bytes of each NAL length prefix in samples.
    pub nal_length_size: u8,
    /// Raw SPS NAL units (with their NAL header byte), in record order.
    pub sps: Vec<Vec<u8>>,
    /// Raw PPS NAL units, in record order.
    pub pps: Vec<Vec<u8>>,
}

/// Fields of a sequence parameter set.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SpsInfo {
    pub profile_idc: u8,
    pub level_idc: u8,
    /// Display size after frame cropping.
    pub width: u32,
    pub height: u32,
    /// VUI timing, when present: (num_units_in_tick, time_scale).
    pub timing: Option<(u32, u32)>,
}

pub fn parse_avcc(_record: &[u8]) -> Result<AvcConfig, CodecError> {
    Err(CodecError::new(
        "AVCDecoderConfigurationRecord",
        "-",
        "not implemented",
    ))
}

/// Parses an SPS NAL unit (header byte included, emulation prevention bytes present).
pub fn parse_sps(_nal: &[u8]) -> Result<SpsInfo, CodecError> {
    Err(CodecError::new("seq_parameter_set", "-", "not implemented"))
}

/// ffprobe's profile name for `profile_idc` ("High", "Main", "Constrained Baseline", …).
pub fn profile_name(_profile_idc: u8, _constraint_flags: u8) -> &'static str {
    "unknown"
}

//! AAC: AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1) and the ADTS header (§1.A.2.2) that
//! MPEG-TS carriage needs.

use super::CodecError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AscInfo {
    /// audioObjectType (2 = AAC LC, 5 = SBR/HE-AAC, 29 = PS).
    pub object_type: u8,
    pub sampling_frequency_index: u8,
    /// Sample rate as ffprobe reports it (the core rate; HE-AAC's extension rate when signalled).
    pub sample_rate: u32,
    pub channel_configuration: u8,
    pub channels: u8,
}

pub fn parse_asc(_asc: &[u8]) -> Result<AscInfo, CodecError> {
    Err(CodecError::new(
        "AudioSpecificConfig",
        "-",
        "not implemented",
    ))
}

/// The 7-byte ADTS header (no CRC) for one raw AAC frame of `payload_len` bytes.
pub fn adts_header(_asc: &AscInfo, _payload_len: usize) -> [u8; 7] {
    [0; 7]
}

/// ffprobe's profile name ("LC", "HE-AAC", "HE-AACv2", "Main", …).
pub fn profile_name(_object_type: u8) -> &'static str {
    "unknown"
}

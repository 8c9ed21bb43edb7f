//! MPEG audio layer III frame header (ISO/IEC 11172-3 §2.4.1.3, 13818-3).

use super::CodecError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mp3Header {
    pub sample_rate: u32,
    pub channels: u8,
    pub bitrate_kbps: u32,
    pub samples_per_frame: u32,
}

pub fn parse_header(_frame: &[u8]) -> Result<Mp3Header, CodecError> {
    Err(CodecError::new(
        "MPEG audio frame header",
        "-",
        "not implemented",
    ))
}

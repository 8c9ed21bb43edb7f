//! Codec configuration parsers: read the few fields kls-rec reports or needs, never rebuild the
//! bytes (the source bytes travel in [`crate::media`]).

use std::fmt;

pub mod aac;
pub mod ac3;
pub mod av1;
pub(crate) mod bits;
pub(crate) mod carriage;
pub mod flac;
pub mod flash;
pub mod h264;
pub mod hevc;
pub(crate) mod ids;
pub mod mp3;
pub(crate) mod nal;
pub mod opus;
pub mod vp9;

/// The coded picture size a decoder configuration record states (the first SPS, the AV1
/// sequence header among the configOBUs); `None` where it cannot be parsed, and for VP9, whose
/// `vpcC` has no size (the first keyframe's header gives it).
pub(crate) fn coded_size(codec: crate::media::VideoCodec, record: &[u8]) -> Option<(u32, u32)> {
    use crate::media::VideoCodec;
    match codec {
        VideoCodec::H264 => h264::parse_avcc(record).ok().and_then(|c| {
            let sps = c.sps.first()?;
            h264::parse_sps(sps).ok().map(|s| (s.width, s.height))
        }),
        VideoCodec::Hevc => hevc::parse_hvcc(record).ok().and_then(|c| {
            let sps = c.nal_units_of(hevc::NAL_SPS).next()?;
            hevc::parse_sps(sps).ok().map(|s| (s.width, s.height))
        }),
        VideoCodec::Av1 => av1::parse_av1c(record)
            .ok()
            .and_then(|c| av1::find_sequence_header(&c.config_obus).ok().flatten())
            .map(|s| (s.width, s.height)),
        // No record: the first keyframe's picture header gives the size.
        VideoCodec::Vp9 | VideoCodec::FlvOnly(_) => None,
    }
}

/// Hex strings of real byte strings, for the parsers' tests.
#[cfg(test)]
pub(crate) mod testhex {
    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}

/// A codec structure that could not be parsed; names the field that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodecError {
    /// e.g. "AVCDecoderConfigurationRecord"
    pub(crate) structure: &'static str,
    /// e.g. "numOfSequenceParameterSets"
    pub(crate) field: &'static str,
    pub(crate) detail: String,
}

impl CodecError {
    pub(crate) fn new(
        structure: &'static str,
        field: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        CodecError {
            structure,
            field,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.structure, self.field, self.detail)
    }
}

impl std::error::Error for CodecError {}

/// Iterates the NAL units of a length-prefixed access unit (ISO/IEC 14496-15 §5.3.2 / §8.3.2
/// sample format). Stops at the first length that overruns the buffer (yielding an error).
pub fn nal_units(data: &[u8], length_size: u8) -> NalUnits<'_> {
    NalUnits {
        data,
        length_size: length_size as usize,
    }
}

pub struct NalUnits<'a> {
    data: &'a [u8],
    length_size: usize,
}

impl<'a> Iterator for NalUnits<'a> {
    type Item = Result<&'a [u8], CodecError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.data.is_empty() {
            return None;
        }
        if self.length_size == 0 || self.length_size > 4 || self.data.len() < self.length_size {
            self.data = &[];
            return Some(Err(CodecError::new(
                "access unit",
                "NALUnitLength",
                "truncated length field",
            )));
        }
        let len = self.data[..self.length_size]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        let rest = &self.data[self.length_size..];
        if len > rest.len() {
            self.data = &[];
            return Some(Err(CodecError::new(
                "access unit",
                "NALUnitLength",
                format!("{len} exceeds the {} bytes left", rest.len()),
            )));
        }
        let (nal, tail) = rest.split_at(len);
        self.data = tail;
        Some(Ok(nal))
    }
}

//! Elementary streams as MPEG-TS carries them (ISO/IEC 13818-1 §2.14 and Amendment 3):
//!
//! - H.264 / HEVC: the length-prefixed NAL units of a sample (ISO/IEC 14496-15 §5.3.2, §8.3.2)
//!   become an Annex B byte stream (ITU-T H.264 / H.265 Annex B), with an access unit delimiter
//!   first (H.264 §7.4.1.2.3, H.265 §7.4.2.4.4 require it in transport streams) and the decoder
//!   configuration record's parameter sets before every keyframe, so each segment decodes alone.
//! - AAC: each raw access unit gets an ADTS header (ISO/IEC 14496-3 §1.A.2.2) built from the
//!   AudioSpecificConfig.
//! - MP3: frames are already self-delimiting and pass through.
//!
//! Only bytes are added, never altered: removing the delimiters, the inserted parameter sets and
//! the ADTS headers gives back the source payloads.

use crate::codec::{self, CodecError, aac, h264, hevc};
use crate::media::{AudioCodec, AudioConfig, VideoConfig};

use crate::codec::hevc::{
    NAL_PPS as HEVC_PPS, NAL_PREFIX_SEI as HEVC_PREFIX_SEI, NAL_SPS as HEVC_SPS,
    NAL_VPS as HEVC_VPS,
};
use crate::codec::nal::{NalCodec, START_CODE};

/// How a video track's samples become Annex B access units.
#[derive(Clone, Debug)]
pub(crate) struct VideoEs {
    nal: NalCodec,
    nal_length_size: u8,
    /// The record's parameter sets, each behind a start code, ready to insert.
    parameter_sets_annexb: Vec<u8>,
}

impl VideoEs {
    /// Reads the NAL length size and parameter sets from the decoder configuration record.
    pub(crate) fn new(config: &VideoConfig) -> Result<VideoEs, CodecError> {
        let nal = NalCodec::of(config.codec).ok_or_else(|| {
            CodecError::new(
                "decoder configuration",
                "codec",
                format!("{} is not a NAL unit codec", config.codec.name()),
            )
        })?;
        let (nal_length_size, sets): (u8, Vec<Vec<u8>>) = match nal {
            NalCodec::H264 => {
                let avc = h264::parse_avcc(&config.record)?;
                (
                    avc.nal_length_size,
                    avc.sps.into_iter().chain(avc.pps).collect(),
                )
            }
            NalCodec::Hevc => {
                let hvc = hevc::parse_hvcc(&config.record)?;
                // VPS, SPS, PPS, then prefix SEI (e.g. HDR metadata): the order H.265 §7.4.2.4.4
                // allows before the first VCL NAL unit. Suffix SEI cannot precede it and is left out.
                let mut sets = Vec::new();
                for wanted in [HEVC_VPS, HEVC_SPS, HEVC_PPS, HEVC_PREFIX_SEI] {
                    for (nal_type, nals) in &hvc.arrays {
                        if *nal_type == wanted {
                            sets.extend(nals.iter().cloned());
                        }
                    }
                }
                (hvc.nal_length_size, sets)
            }
        };
        let mut parameter_sets_annexb = Vec::new();
        for nal in sets.iter().filter(|n| !n.is_empty()) {
            parameter_sets_annexb.extend_from_slice(&START_CODE);
            parameter_sets_annexb.extend_from_slice(nal);
        }
        Ok(VideoEs {
            nal,
            nal_length_size,
            parameter_sets_annexb,
        })
    }

    /// Appends the Annex B form of one sample to `out`: an access unit delimiter unless the
    /// sample starts with one; on keyframes the record's parameter sets right after it, unless
    /// the sample carries its own (SPS and PPS; HEVC also VPS), as live encoders often do and as
    /// ffmpeg's mp4toannexb filters also decide; then every NAL unit. Empty NAL units carry
    /// nothing and are skipped rather than written as a bare start code.
    pub(crate) fn write_access_unit(
        &self,
        data: &[u8],
        keyframe: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), CodecError> {
        // First pass: every length is checked before anything is written, and the NAL unit
        // types present are noted (as bits: H.264 types are 5 bits, HEVC types 6).
        let mut first_type = None;
        let mut present = 0u64;
        for nal in codec::nal_units(data, self.nal_length_size) {
            let nal = nal?;
            if !nal.is_empty() {
                let t = self.nal.nal_type(nal);
                first_type.get_or_insert(t);
                present |= 1 << t;
            }
        }
        let starts_with_aud = first_type == Some(self.nal.aud_type());
        let insert_sets = keyframe && !(self.nal).carries_sets(|t| present & (1 << t) != 0);
        if !starts_with_aud {
            out.extend_from_slice(&START_CODE);
            out.extend_from_slice(self.nal.aud());
            if insert_sets {
                out.extend_from_slice(&self.parameter_sets_annexb);
            }
        }
        let mut first = true;
        for nal in codec::nal_units(data, self.nal_length_size) {
            let nal = nal?;
            if nal.is_empty() {
                continue;
            }
            out.extend_from_slice(&START_CODE);
            out.extend_from_slice(nal);
            if first && starts_with_aud && insert_sets {
                // Right after the sample's own delimiter.
                out.extend_from_slice(&self.parameter_sets_annexb);
            }
            first = false;
        }
        Ok(())
    }
}

/// How an audio track's frames become the elementary stream.
#[derive(Clone, Debug)]
pub(crate) enum AudioEs {
    Aac(aac::AscInfo),
    Mp3,
    /// AC-3 and E-AC-3: the access unit's syncframes as they are (ATSC A/52 Annex G).
    Ac3,
}

impl AudioEs {
    pub(crate) fn new(config: &AudioConfig) -> Result<AudioEs, CodecError> {
        Ok(match config.codec {
            AudioCodec::Aac => AudioEs::Aac(aac::parse_asc(&config.specific)?),
            AudioCodec::Mp3 => AudioEs::Mp3,
            AudioCodec::Ac3 | AudioCodec::Eac3 => AudioEs::Ac3,
            AudioCodec::Opus | AudioCodec::Flac | AudioCodec::FlvOnly(_) => {
                return Err(CodecError::new(
                    "audio configuration",
                    "codec",
                    format!("no MPEG-TS framing for {} is written", config.codec.name()),
                ));
            }
        })
    }

    /// Appends one frame, ADTS-framed for AAC, to `out`.
    pub(crate) fn write_frame(&self, data: &[u8], out: &mut Vec<u8>) -> Result<(), CodecError> {
        match self {
            AudioEs::Aac(asc) => {
                // A frame over ADTS's 13-bit length is refused, never written with a wrong length.
                out.extend_from_slice(&aac::adts_header_checked(asc, data.len())?);
                out.extend_from_slice(data);
            }
            AudioEs::Mp3 | AudioEs::Ac3 => out.extend_from_slice(data),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h264() -> VideoEs {
        VideoEs {
            nal: NalCodec::H264,
            nal_length_size: 4,
            parameter_sets_annexb: [&START_CODE[..], &[0x67, 1], &START_CODE, &[0x68, 2]].concat(),
        }
    }

    fn sample(nals: &[&[u8]]) -> Vec<u8> {
        nals.iter()
            .flat_map(|n| [&(n.len() as u32).to_be_bytes()[..], n].concat())
            .collect()
    }

    fn run(es: &VideoEs, nals: &[&[u8]], keyframe: bool) -> Vec<u8> {
        let mut out = Vec::new();
        es.write_access_unit(&sample(nals), keyframe, &mut out)
            .unwrap();
        out
    }

    #[test]
    fn keyframe_gets_aud_then_parameter_sets() {
        let out = run(&h264(), &[&[0x06, 9], &[0x65, 7, 7]], true);
        let want: Vec<u8> = [
            &[0, 0, 0, 1, 0x09, 0xF0][..],
            &[0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2],
            &[0, 0, 0, 1, 0x06, 9, 0, 0, 0, 1, 0x65, 7, 7],
        ]
        .concat();
        assert_eq!(out, want);
    }

    #[test]
    fn non_keyframe_gets_only_the_aud() {
        let out = run(&h264(), &[&[0x41, 1]], false);
        assert_eq!(out, [0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x41, 1]);
    }

    #[test]
    fn in_band_parameter_sets_and_aud_are_not_doubled() {
        let nals: [&[u8]; 4] = [&[0x09, 0x10], &[0x67, 5], &[0x68, 6], &[0x65, 7]];
        let out = run(&h264(), &nals, true);
        assert_eq!(
            out,
            [
                0, 0, 0, 1, 0x09, 0x10, 0, 0, 0, 1, 0x67, 5, 0, 0, 0, 1, 0x68, 6, 0, 0, 0, 1, 0x65,
                7
            ]
        );
    }

    #[test]
    fn hevc_aud_and_empty_nal_units() {
        let es = VideoEs {
            nal: NalCodec::Hevc,
            nal_length_size: 2,
            parameter_sets_annexb: vec![0, 0, 0, 1, 0x40, 1],
        };
        let mut out = Vec::new();
        // An empty NAL unit, then an IDR_W_RADL slice (type 19).
        es.write_access_unit(&[0, 0, 0, 3, 0x26, 1, 0xAA], true, &mut out)
            .unwrap();
        assert_eq!(
            out,
            [
                0, 0, 0, 1, 0x46, 0x01, 0x50, 0, 0, 0, 1, 0x40, 1, 0, 0, 0, 1, 0x26, 1, 0xAA
            ]
        );
    }

    #[test]
    fn overrunning_nal_length_is_an_error() {
        let mut out = Vec::new();
        let e = h264()
            .write_access_unit(&[0, 0, 0, 9, 0x65], true, &mut out)
            .unwrap_err();
        assert_eq!(e.field, "NALUnitLength");
    }

    #[test]
    fn adts_framing_and_limit() {
        let asc = aac::parse_asc(&[0x12, 0x10]).unwrap();
        let es = AudioEs::Aac(asc);
        let mut out = Vec::new();
        es.write_frame(&[1, 2, 3], &mut out).unwrap();
        assert_eq!(out.len(), 10);
        assert_eq!(&out[..2], &[0xFF, 0xF1]);
        assert_eq!(&out[7..], &[1, 2, 3]);
        assert!(es.write_frame(&vec![0; 9000], &mut out).is_err());
        let mut mp3 = Vec::new();
        AudioEs::Mp3
            .write_frame(&[0xFF, 0xFB, 1], &mut mp3)
            .unwrap();
        assert_eq!(mp3, [0xFF, 0xFB, 1]);
    }
}

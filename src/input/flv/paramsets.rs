//! Video that an FLV/RTMP source sent without a decoder configuration record, as some cameras
//! and small encoders do:
//!
//! - a sequence header whose body is Annex B (H.264 / H.265 Annex B start codes and the
//!   SPS/PPS, with a VPS for HEVC) instead of an AVCDecoderConfigurationRecord /
//!   HEVCDecoderConfigurationRecord (configurationVersion 1);
//! - no sequence header at all, the parameter sets in-band in the first keyframe.
//!
//! For both a record is built from those parameter sets, as ffmpeg writes one
//! ([`crate::codec::nal`]'s builders: 4-byte NAL lengths, profile and level from the SPS): the one place where kls-rec
//! rebuilds configuration bytes. MP4 and HLS use it; the FLV writer keeps an Annex B sequence
//! header as received ([`crate::media::BuiltRecord`]).
//!
//! Coded frames must carry 4-byte length-prefixed NAL units, as the FLV format (and every such
//! encoder seen) does; in-band parameter sets are looked for in those. Coded frames in Annex B
//! form are not converted: packets are never altered.

use crate::codec;
use crate::codec::nal::{NalCodec, build_avcc, build_hvcc, split_annex_b};
use crate::media::VideoCodec;

/// NAL length size of FLV coded frames when no record says it (what the built record says).
const IN_BAND_LENGTH_SIZE: u8 = 4;

/// Whether a sequence header body is Annex B (a start code) rather than a configuration record,
/// which begins with configurationVersion 1.
pub(crate) fn is_annex_b(body: &[u8]) -> bool {
    body.starts_with(&[0, 0, 1]) || body.starts_with(&[0, 0, 0, 1])
}

/// The NAL-unit codec of `codec`, or why no record can be built for it.
fn nal_codec(codec: VideoCodec) -> Result<NalCodec, String> {
    NalCodec::of(codec).ok_or_else(|| {
        format!(
            "{} has no parameter sets to build a configuration record from",
            codec.name()
        )
    })
}

/// Builds the record from NAL units, of which the parameter sets are kept (in their order);
/// `Err` names a missing set or what the builder rejected.
fn record_from(nal: NalCodec, nals: &[&[u8]]) -> Result<Vec<u8>, String> {
    let sets: Vec<Vec<u8>> = (nals.iter())
        .filter(|n| nal.is_parameter_set(nal.nal_type(n)))
        .map(|n| n.to_vec())
        .collect();
    let missing =
        (nal.parameter_sets().iter()).find(|&&t| !sets.iter().any(|n| nal.nal_type(n) == t));
    if let Some(&t) = missing {
        return Err(format!("no {}", nal.set_name(t)));
    }
    match nal {
        NalCodec::H264 => build_avcc(&sets),
        NalCodec::Hevc => build_hvcc(&sets),
    }
}

/// The record for an Annex B sequence header body ([`is_annex_b`]).
pub(crate) fn from_annex_b(codec: VideoCodec, body: &[u8]) -> Result<Vec<u8>, String> {
    record_from(nal_codec(codec)?, &split_annex_b(body))
}

/// The record for a coded frame that carries a complete set of parameter sets in-band;
/// `None` when it carries none, or is not 4-byte length-prefixed NAL units.
pub(crate) fn from_in_band(codec: VideoCodec, frame: &[u8]) -> Option<Result<Vec<u8>, String>> {
    let nals: Vec<&[u8]> = codec::nal_units(frame, IN_BAND_LENGTH_SIZE)
        .collect::<Result<_, _>>()
        .ok()?;
    // Not NAL-unit codecs: their frames carry no parameter sets.
    let nal = NalCodec::of(codec)?;
    if !nals.iter().any(|n| nal.is_parameter_set(nal.nal_type(n))) {
        return None;
    }
    Some(record_from(nal, &nals))
}

/// A real parameter set pair, for the tests of this module and of the session.
#[cfg(test)]
pub(super) mod sample {
    // x264's 160x120 Main profile SPS and its PPS (testdata/mp3-1764072000.flv).
    pub(crate) const SPS: &[u8] = &[
        0x67, 0x4d, 0x40, 0x0b, 0xda, 0x0a, 0x11, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01,
        0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x14, 0x2a, 0xa0,
    ];
    pub(crate) const PPS: &[u8] = &[0x68, 0xef, 0x3c, 0x80];

    /// NAL units behind 4-byte start codes.
    pub(crate) fn annex_b(nals: &[&[u8]]) -> Vec<u8> {
        nals.iter()
            .flat_map(|n| [&[0, 0, 0, 1][..], n].concat())
            .collect()
    }

    /// NAL units behind 4-byte lengths, as FLV carries them.
    pub(crate) fn length_prefixed(nals: &[&[u8]]) -> Vec<u8> {
        nals.iter()
            .flat_map(|n| [&(n.len() as u32).to_be_bytes()[..], n].concat())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::sample::{PPS, SPS, annex_b, length_prefixed};

    #[test]
    fn annex_b_sequence_header_gives_the_record_ffmpeg_writes() {
        let body = annex_b(&[SPS, PPS]);
        assert!(is_annex_b(&body));
        assert!(!is_annex_b(&[1, 0x64, 0, 0x0b]));
        let record = from_annex_b(VideoCodec::H264, &body).unwrap();
        let avc = codec::h264::parse_avcc(&record).unwrap();
        assert_eq!((avc.sps, avc.pps), (vec![SPS.to_vec()], vec![PPS.to_vec()]));
        assert_eq!(avc.nal_length_size, 4);
        let sps = codec::h264::parse_sps(SPS).unwrap();
        assert_eq!((sps.width, sps.height), (160, 120));
        // A missing PPS is named; so is a missing VPS for HEVC.
        assert_eq!(
            from_annex_b(VideoCodec::H264, &annex_b(&[SPS])),
            Err("no PPS".into())
        );
        assert_eq!(
            from_annex_b(VideoCodec::Hevc, &annex_b(&[&[0x42, 1, 1]])),
            Err("no VPS".into())
        );
    }

    #[test]
    fn in_band_sets_of_a_keyframe() {
        let idr: &[u8] = &[0x65, 0x88, 0x84];
        let frame = length_prefixed(&[SPS, PPS, idr]);
        let record = from_in_band(VideoCodec::H264, &frame).unwrap().unwrap();
        assert_eq!(
            record,
            from_annex_b(VideoCodec::H264, &annex_b(&[SPS, PPS])).unwrap()
        );
        // No sets, or not 4-byte length-prefixed: nothing to build from.
        assert_eq!(
            from_in_band(VideoCodec::H264, &length_prefixed(&[idr])),
            None
        );
        assert_eq!(
            from_in_band(VideoCodec::H264, &annex_b(&[SPS, PPS, idr])),
            None
        );
        assert_eq!(
            from_in_band(VideoCodec::H264, &length_prefixed(&[PPS, idr])),
            Some(Err("no SPS".into()))
        );
    }
}

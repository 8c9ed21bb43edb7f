//! The NAL-unit codecs, H.264 and HEVC, as their byte streams are read and written: NAL unit
//! types from the first header byte (H.264 §7.3.1, H.265 §7.3.1.2), the access unit delimiter,
//! the parameter sets a keyframe needs, keyframes, and Annex B start codes (H.264 / H.265
//! Annex B), and the decoder configuration records built from parameter sets where a source
//! sends none — the one place kls-rec rebuilds configuration bytes. One place for the MPEG-TS
//! reader and writer and for the FLV reader's parameter sets sent in Annex B form.

use super::{h264, hevc};
use crate::media::VideoCodec;

/// A video codec whose samples are NAL units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NalCodec {
    H264,
    Hevc,
}

/// H.264 access unit delimiter a writer inserts: nal_unit_type 9, primary_pic_type 7 (any
/// slice type), stop bit.
const H264_AUD: [u8; 2] = [0x09, 0xF0];
/// HEVC access unit delimiter a writer inserts: nal_unit_type 35, layer 0, temporal id 1;
/// pic_type 2 (I, P or B slices), stop bit.
const HEVC_AUD: [u8; 3] = [0x46, 0x01, 0x50];

impl NalCodec {
    /// The NAL-unit codec `codec` is, if it is one (AV1, VP9 and the Flash-era codecs are not).
    pub(crate) const fn of(codec: VideoCodec) -> Option<NalCodec> {
        match codec {
            VideoCodec::H264 => Some(NalCodec::H264),
            VideoCodec::Hevc => Some(NalCodec::Hevc),
            VideoCodec::Av1 | VideoCodec::Vp9 | VideoCodec::FlvOnly(_) => None,
        }
    }

    /// The type of a NAL unit, from its header (0 for an empty unit).
    pub(crate) fn nal_type(self, nal: &[u8]) -> u8 {
        let first = nal.first().copied().unwrap_or(0);
        match self {
            NalCodec::H264 => first & 0x1F,
            NalCodec::Hevc => (first >> 1) & 0x3F,
        }
    }

    /// The access unit delimiter's NAL unit type.
    pub(crate) const fn aud_type(self) -> u8 {
        match self {
            NalCodec::H264 => h264::NAL_AUD,
            NalCodec::Hevc => hevc::NAL_AUD,
        }
    }

    /// The access unit delimiter a writer puts first in an access unit.
    pub(crate) const fn aud(self) -> &'static [u8] {
        match self {
            NalCodec::H264 => &H264_AUD,
            NalCodec::Hevc => &HEVC_AUD,
        }
    }

    /// The parameter set types a decoder needs, in the order a configuration record and a
    /// writer put them: SPS, PPS (H.264); VPS, SPS, PPS (HEVC).
    pub(crate) const fn parameter_sets(self) -> &'static [u8] {
        match self {
            NalCodec::H264 => &[h264::NAL_SPS, h264::NAL_PPS],
            NalCodec::Hevc => &[hevc::NAL_VPS, hevc::NAL_SPS, hevc::NAL_PPS],
        }
    }

    /// Whether a NAL unit type is one of [`NalCodec::parameter_sets`].
    pub(crate) fn is_parameter_set(self, nal_type: u8) -> bool {
        self.parameter_sets().contains(&nal_type)
    }

    /// Whether a sample "carries its own" parameter sets (every type of
    /// [`NalCodec::parameter_sets`] is among those `has` says it holds) — the writers' rule
    /// for inserting them.
    pub(crate) fn carries_sets(self, has: impl Fn(u8) -> bool) -> bool {
        self.parameter_sets().iter().all(|&t| has(t))
    }

    /// Whether a sample of these NAL unit types is a keyframe: an IDR picture (H.264), an IRAP
    /// picture (HEVC).
    pub(crate) fn is_keyframe(self, types: &[u8]) -> bool {
        match self {
            NalCodec::H264 => types.contains(&h264::NAL_IDR),
            NalCodec::Hevc => types.iter().any(|&t| hevc::is_irap(t)),
        }
    }

    /// The name of a parameter set type, for messages.
    pub(crate) fn set_name(self, nal_type: u8) -> &'static str {
        match (self, nal_type) {
            (NalCodec::H264, h264::NAL_SPS) | (NalCodec::Hevc, hevc::NAL_SPS) => "SPS",
            (NalCodec::H264, h264::NAL_PPS) | (NalCodec::Hevc, hevc::NAL_PPS) => "PPS",
            (NalCodec::Hevc, hevc::NAL_VPS) => "VPS",
            (NalCodec::H264 | NalCodec::Hevc, _) => "parameter set",
        }
    }
}

/// Annex B start code with its zero_byte: 4 bytes, which Annex B B.1.2 requires before
/// parameter sets and the first NAL unit of an access unit and allows elsewhere.
pub(crate) const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// Splits an Annex B byte stream into NAL units (empty ones left out). Trailing zero bytes
/// belong to the next start code (Annex B B.2).
pub(crate) fn split_annex_b(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            starts.push(i);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(data.len());
        let mut nal = &data[s + 3..end];
        while let [rest @ .., 0] = nal {
            nal = rest;
        }
        if !nal.is_empty() {
            out.push(nal);
        }
    }
    out
}

fn u16_len(nal: &[u8]) -> Result<[u8; 2], String> {
    u16::try_from(nal.len())
        .map(u16::to_be_bytes)
        .map_err(|_| format!("parameter set of {} bytes exceeds 65535", nal.len()))
}

/// AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1) from SPS/PPS NAL units, as
/// ffmpeg's `ff_isom_write_avcc` writes it (4-byte NAL lengths).
pub(crate) fn build_avcc(sets: &[Vec<u8>]) -> Result<Vec<u8>, String> {
    let of = |t: u8| -> Vec<&Vec<u8>> {
        sets.iter()
            .filter(|n| NalCodec::H264.nal_type(n) == t)
            .collect()
    };
    let (sps, pps) = (of(h264::NAL_SPS), of(h264::NAL_PPS));
    let first = sps.first().ok_or("no SPS")?;
    let info = h264::parse_sps(first).map_err(|e| e.to_string())?;
    if sps.len() > 31 || pps.len() > 255 {
        return Err("too many parameter sets for avcC".into());
    }
    let mut r = vec![
        1,                      // configurationVersion
        info.profile_idc,       // AVCProfileIndication
        info.constraint_flags,  // profile_compatibility
        info.level_idc,         // AVCLevelIndication
        0xFF,                   // reserved '111111', lengthSizeMinusOne 3
        0xE0 | sps.len() as u8, // reserved '111', numOfSequenceParameterSets
    ];
    for s in &sps {
        r.extend(u16_len(s)?);
        r.extend_from_slice(s);
    }
    r.push(pps.len() as u8); // numOfPictureParameterSets
    for p in &pps {
        r.extend(u16_len(p)?);
        r.extend_from_slice(p);
    }
    if !matches!(info.profile_idc, 66 | 77 | 88) {
        r.push(0xFC | info.chroma_format_idc); // reserved '111111', chroma_format
        r.push(0xF8 | info.bit_depth_luma.saturating_sub(8)); // bit_depth_luma_minus8
        r.push(0xF8 | info.bit_depth_chroma.saturating_sub(8)); // bit_depth_chroma_minus8
        r.push(0); // numOfSequenceParameterSetExt
    }
    Ok(r)
}

/// HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1) from VPS/SPS/PPS NAL units, as
/// ffmpeg writes it for x265 streams (4-byte NAL lengths).
pub(crate) fn build_hvcc(sets: &[Vec<u8>]) -> Result<Vec<u8>, String> {
    let sps = sets
        .iter()
        .find(|n| NalCodec::Hevc.nal_type(n) == hevc::NAL_SPS)
        .ok_or("no SPS")?;
    let info = hevc::parse_sps(sps).map_err(|e| e.to_string())?;
    // sps_video_parameter_set_id … temporal_id_nesting (1 byte), then the 12-byte general
    // profile_tier_level, right after the 2-byte NAL header (H.265 §7.3.2.2.1, §7.3.3).
    let rbsp = super::bits::rbsp(sps.get(2..).unwrap_or_default());
    let ptl = rbsp
        .get(1..13)
        .ok_or("SPS too short for profile_tier_level")?;
    let nesting = rbsp.first().map_or(0, |b| b & 1);
    let mut r = vec![1]; // configurationVersion
    r.extend_from_slice(ptl); // profile space/tier/idc, compatibility flags, constraints, level
    r.extend([0xF0, 0x00]); // reserved '1111', min_spatial_segmentation_idc 0
    r.push(0xFC); // reserved, parallelismType 0 (unknown)
    r.push(0xFC | info.chroma_format_idc);
    r.push(0xF8 | info.bit_depth_luma.saturating_sub(8));
    r.push(0xF8 | info.bit_depth_chroma.saturating_sub(8));
    r.extend([0, 0]); // avgFrameRate unknown
    // constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne 3
    r.push(((info.max_sub_layers & 0x07) << 3) | (nesting << 2) | 0x03);
    let arrays: Vec<(u8, Vec<&Vec<u8>>)> = [hevc::NAL_VPS, hevc::NAL_SPS, hevc::NAL_PPS]
        .into_iter()
        .map(|t| {
            (
                t,
                sets.iter()
                    .filter(|n| NalCodec::Hevc.nal_type(n) == t)
                    .collect(),
            )
        })
        .collect();
    r.push(arrays.len() as u8); // numOfArrays
    for (t, nals) in arrays {
        r.push(0x80 | t); // array_completeness 1 (hvc1), reserved 0, NAL_unit_type
        let n = u16::try_from(nals.len()).map_err(|_| "too many parameter sets for hvcC")?;
        r.extend(n.to_be_bytes());
        for nal in nals {
            r.extend(u16_len(nal)?);
            r.extend_from_slice(nal);
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_delimiters_and_parameter_sets() {
        let h264 = NalCodec::H264;
        assert_eq!(h264.nal_type(&[0x67, 0x64]), h264::NAL_SPS);
        assert_eq!(h264.nal_type(h264.aud()), h264.aud_type());
        let hevc = NalCodec::Hevc;
        assert_eq!(hevc.nal_type(&[0x40, 0x01]), hevc::NAL_VPS);
        assert_eq!(hevc.nal_type(hevc.aud()), hevc.aud_type());
        assert!(hevc.carries_sets(|t| [32, 33, 34, 1].contains(&t)));
        assert!(!hevc.carries_sets(|t| [33, 34].contains(&t)));
        assert!(h264.is_keyframe(&[9, 5]) && !h264.is_keyframe(&[9, 1]));
        assert!(hevc.is_keyframe(&[35, 19]) && !hevc.is_keyframe(&[35, 1]));
        assert_eq!(hevc.set_name(hevc::NAL_VPS), "VPS");
        assert_eq!(NalCodec::of(VideoCodec::Av1), None);
    }

    #[test]
    fn splits_start_codes_and_trailing_zeros() {
        let d = [
            0, 0, 0, 1, 9, 0xF0, 0, 0, 1, 0x65, 1, 0, 0, 0, 0, 0, 1, 0x41, 0, 0, 1,
        ];
        assert_eq!(split_annex_b(&d), [&[9, 0xF0][..], &[0x65, 1], &[0x41]]);
        assert!(split_annex_b(&[1, 2, 3]).is_empty());
        assert!(split_annex_b(&[]).is_empty());
    }
}

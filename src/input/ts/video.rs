//! H.264 / HEVC elementary streams as MPEG-TS carries them (ITU-T H.264 / H.265 Annex B byte
//! streams) → the media model's length-prefixed samples (ISO/IEC 14496-15 §5.3.2, §8.3.2).
//!
//! Per access unit: NAL units are split at start codes (trailing zero bytes belong to the next
//! start code, Annex B B.2), a leading access unit delimiter is dropped, and, on a keyframe, the
//! configuration's parameter sets are dropped *when they appear as exactly the run a writer
//! inserts* (the record's SPS…PPS, or VPS…SPS…PPS…prefix SEI: kls-rec puts it right after the
//! delimiter, ffmpeg's `h264_mp4toannexb` before the first slice) and what remains carries no
//! complete set of its own — the writers' rule for inserting them — so a round trip gives back
//! the source payloads. Two cases cannot be told apart in a transport stream and read back
//! without those bytes: a source sample that began with its own access unit delimiter, and one
//! that carried the very same parameter sets in-band.
//!
//! The decoder configuration record is not in a transport stream. It is taken from a hint
//! (a record whose parameter sets equal the stream's, e.g. from another recording of the same
//! stream) when given, else generated from the first access unit carrying a complete set:
//! `avcC` as ffmpeg writes it (version 1, profile/compatibility/level from the SPS, 4-byte NAL
//! lengths, the SPS and PPS of that access unit, and the chroma/bit-depth extension for profiles
//! other than Baseline, Main and Extended), so streams ffmpeg muxed from an ffmpeg-written source
//! usually read back the identical record; `hvcC` with the SPS's profile_tier_level, 4-byte
//! lengths and VPS/SPS/PPS arrays, as ffmpeg writes it for x265 streams (less the SEI array
//! ffmpeg copies from the encoder's extradata, which the stream does not repeat).

use crate::codec::{self, h264, hevc};
use crate::media::{FlvVideoSignal, VideoCodec, VideoConfig};

use h264::{NAL_AUD as H264_AUD, NAL_IDR as H264_IDR, NAL_PPS as H264_PPS, NAL_SPS as H264_SPS};
use hevc::{
    NAL_AUD as HEVC_AUD, NAL_PPS as HEVC_PPS, NAL_PREFIX_SEI as HEVC_PREFIX_SEI,
    NAL_SPS as HEVC_SPS, NAL_VPS as HEVC_VPS,
};

/// Splits an Annex B byte stream into NAL units (empty ones left out).
pub fn split_annex_b(data: &[u8]) -> Vec<&[u8]> {
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

pub fn nal_type(codec: VideoCodec, nal: &[u8]) -> u8 {
    let b = nal.first().copied().unwrap_or(0);
    match codec {
        VideoCodec::H264 => b & 0x1F,
        VideoCodec::Hevc => (b >> 1) & 0x3F,
        // Not NAL-unit codecs; the TS reader maps no stream type to them.
        VideoCodec::Av1 | VideoCodec::Vp9 => 0,
    }
}

fn is_parameter_set(codec: VideoCodec, t: u8) -> bool {
    match codec {
        VideoCodec::H264 => matches!(t, H264_SPS | H264_PPS),
        VideoCodec::Hevc => matches!(t, HEVC_VPS | HEVC_SPS | HEVC_PPS),
        VideoCodec::Av1 | VideoCodec::Vp9 => false,
    }
}

fn is_keyframe(codec: VideoCodec, types: &[u8]) -> bool {
    match codec {
        VideoCodec::H264 => types.contains(&H264_IDR),
        VideoCodec::Hevc => types.iter().any(|&t| hevc::is_irap(t)),
        VideoCodec::Av1 | VideoCodec::Vp9 => false,
    }
}

/// The writer's rule: a sample "carries its own" parameter sets when it has SPS and PPS (and,
/// for HEVC, a VPS).
fn carries_sets(codec: VideoCodec, types: &[u8]) -> bool {
    let has = |t| types.contains(&t);
    match codec {
        VideoCodec::H264 => has(H264_SPS) && has(H264_PPS),
        VideoCodec::Hevc => has(HEVC_VPS) && has(HEVC_SPS) && has(HEVC_PPS),
        VideoCodec::Av1 | VideoCodec::Vp9 => false,
    }
}

/// What a configuration contributes in front of keyframes, in the writer's order, and its
/// parameter sets alone (for comparing with a stream's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ConfigSets {
    inserted: Vec<Vec<u8>>,
    sets: Vec<Vec<u8>>,
    nal_length_size: u8,
}

fn config_sets(config: &VideoConfig) -> Option<ConfigSets> {
    match config.codec {
        VideoCodec::H264 => {
            let avc = h264::parse_avcc(&config.record).ok()?;
            let sets: Vec<Vec<u8>> = avc.sps.into_iter().chain(avc.pps).collect();
            Some(ConfigSets {
                inserted: sets.iter().filter(|n| !n.is_empty()).cloned().collect(),
                sets,
                nal_length_size: avc.nal_length_size,
            })
        }
        VideoCodec::Hevc => {
            let hvc = hevc::parse_hvcc(&config.record).ok()?;
            let of = |wanted: &[u8]| -> Vec<Vec<u8>> {
                let mut v = Vec::new();
                for w in wanted {
                    v.extend(hvc.nal_units_of(*w).map(<[u8]>::to_vec));
                }
                v
            };
            let inserted = of(&[HEVC_VPS, HEVC_SPS, HEVC_PPS, HEVC_PREFIX_SEI]);
            Some(ConfigSets {
                inserted: inserted.into_iter().filter(|n| !n.is_empty()).collect(),
                sets: of(&[HEVC_VPS, HEVC_SPS, HEVC_PPS]),
                nal_length_size: hvc.nal_length_size,
            })
        }
        VideoCodec::Av1 | VideoCodec::Vp9 => None,
    }
}

/// One access unit converted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessUnit {
    pub keyframe: bool,
    /// Length-prefixed NAL units (the configuration's NAL length size).
    pub data: Vec<u8>,
    /// A configuration first seen here (the first, or a change).
    pub new_config: Option<VideoConfig>,
}

/// Turns one video PID's access units into samples.
#[derive(Debug)]
pub struct VideoStream {
    codec: VideoCodec,
    hint: Option<VideoConfig>,
    config: Option<(VideoConfig, ConfigSets)>,
}

impl VideoStream {
    pub fn new(codec: VideoCodec, hint: Option<VideoConfig>) -> VideoStream {
        VideoStream {
            codec,
            hint: hint.filter(|h| h.codec == codec),
            config: None,
        }
    }

    pub fn config(&self) -> Option<&VideoConfig> {
        self.config.as_ref().map(|c| &c.0)
    }

    /// Converts one PES payload. `Err` names why it cannot be used (no configuration yet).
    pub fn access_unit(&mut self, annex_b: &[u8]) -> Result<AccessUnit, String> {
        let codec = self.codec;
        let mut nals = split_annex_b(annex_b);
        let aud = match codec {
            VideoCodec::H264 => H264_AUD,
            VideoCodec::Hevc => HEVC_AUD,
            VideoCodec::Av1 | VideoCodec::Vp9 => {
                return Err(format!("{} in MPEG-TS is not read", codec.name()));
            }
        };
        if nals.first().is_some_and(|n| nal_type(codec, n) == aud) {
            nals.remove(0);
        }
        let types: Vec<u8> = nals.iter().map(|n| nal_type(codec, n)).collect();
        let keyframe = is_keyframe(codec, &types);
        let mut new_config = None;
        if carries_sets(codec, &types) {
            let stream_sets: Vec<Vec<u8>> = nals
                .iter()
                .zip(&types)
                .filter(|(_, t)| is_parameter_set(codec, **t))
                .map(|(n, _)| n.to_vec())
                .collect();
            let same = self
                .config
                .as_ref()
                .is_some_and(|(_, c)| same_sets(codec, &c.sets, &stream_sets));
            if !same {
                let cfg = self.make_config(&stream_sets)?;
                let sets = config_sets(&cfg).ok_or("the generated configuration does not parse")?;
                new_config = Some(cfg.clone());
                self.config = Some((cfg, sets));
            }
        }
        let Some((_, sets)) = &self.config else {
            return Err("video before the first parameter sets (SPS/PPS)".into());
        };
        // The configuration's sets as a writer inserts them in front of a keyframe lacking its
        // own: kls-rec right after the delimiter, ffmpeg's mp4toannexb before the first slice.
        let ins = sets.inserted.len();
        if keyframe && ins > 0 {
            let at = (0..=nals.len().saturating_sub(ins)).find(|&i| {
                nals.get(i..i + ins).is_some_and(|run| {
                    run.iter()
                        .zip(&sets.inserted)
                        .all(|(a, b)| *a == b.as_slice())
                })
            });
            if let Some(i) = at {
                let rest: Vec<u8> = types[..i]
                    .iter()
                    .chain(&types[i + ins..])
                    .copied()
                    .collect();
                if !carries_sets(codec, &rest) {
                    nals.drain(i..i + ins);
                }
            }
        }
        let len_size = usize::from(sets.nal_length_size);
        let mut data = Vec::with_capacity(annex_b.len());
        for nal in nals {
            let len = nal.len() as u64;
            if len_size < 8 && len >> (8 * len_size) != 0 {
                return Err(format!(
                    "NAL unit of {len} bytes exceeds the {len_size}-byte length field"
                ));
            }
            data.extend_from_slice(&len.to_be_bytes()[8 - len_size..]);
            data.extend_from_slice(nal);
        }
        Ok(AccessUnit {
            keyframe,
            data,
            new_config,
        })
    }

    /// The hint when its parameter sets are the stream's, else a generated record.
    fn make_config(&self, stream_sets: &[Vec<u8>]) -> Result<VideoConfig, String> {
        if let Some(h) = &self.hint
            && config_sets(h).is_some_and(|c| same_sets(self.codec, &c.sets, stream_sets))
        {
            return Ok(h.clone());
        }
        let record = match self.codec {
            VideoCodec::H264 => build_avcc(stream_sets)?,
            VideoCodec::Hevc => build_hvcc(stream_sets)?,
            VideoCodec::Av1 | VideoCodec::Vp9 => {
                return Err(format!("{} in MPEG-TS is not read", self.codec.name()));
            }
        };
        let (width, height) = match self.codec {
            VideoCodec::H264 => stream_sets
                .iter()
                .find(|n| nal_type(self.codec, n) == H264_SPS)
                .and_then(|n| h264::parse_sps(n).ok())
                .map_or((0, 0), |s| (s.width, s.height)),
            VideoCodec::Hevc => stream_sets
                .iter()
                .find(|n| nal_type(self.codec, n) == HEVC_SPS)
                .and_then(|n| hevc::parse_sps(n).ok())
                .map_or((0, 0), |s| (s.width, s.height)),
            VideoCodec::Av1 | VideoCodec::Vp9 => (0, 0),
        };
        Ok(VideoConfig {
            codec: self.codec,
            record,
            width,
            height,
            flv_signal: FlvVideoSignal::CodecId,
        })
    }
}

/// Parameter sets compared as a set per type, in order (SPS, PPS, VPS lists).
fn same_sets(codec: VideoCodec, a: &[Vec<u8>], b: &[Vec<u8>]) -> bool {
    let by_type = |v: &[Vec<u8>], t: u8| -> Vec<Vec<u8>> {
        v.iter()
            .filter(|n| nal_type(codec, n) == t)
            .cloned()
            .collect()
    };
    let types: &[u8] = match codec {
        VideoCodec::H264 => &[H264_SPS, H264_PPS],
        VideoCodec::Hevc => &[HEVC_VPS, HEVC_SPS, HEVC_PPS],
        VideoCodec::Av1 | VideoCodec::Vp9 => &[],
    };
    types.iter().all(|&t| by_type(a, t) == by_type(b, t))
}

fn u16_len(nal: &[u8]) -> Result<[u8; 2], String> {
    u16::try_from(nal.len())
        .map(u16::to_be_bytes)
        .map_err(|_| format!("parameter set of {} bytes exceeds 65535", nal.len()))
}

/// AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1) as ffmpeg's `ff_isom_write_avcc`.
pub fn build_avcc(sets: &[Vec<u8>]) -> Result<Vec<u8>, String> {
    let of = |t: u8| -> Vec<&Vec<u8>> {
        sets.iter()
            .filter(|n| nal_type(VideoCodec::H264, n) == t)
            .collect()
    };
    let (sps, pps) = (of(H264_SPS), of(H264_PPS));
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

/// HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1) from VPS/SPS/PPS NAL units.
pub fn build_hvcc(sets: &[Vec<u8>]) -> Result<Vec<u8>, String> {
    let sps = sets
        .iter()
        .find(|n| nal_type(VideoCodec::Hevc, n) == HEVC_SPS)
        .ok_or("no SPS")?;
    let info = hevc::parse_sps(sps).map_err(|e| e.to_string())?;
    // sps_video_parameter_set_id … temporal_id_nesting (1 byte), then the 12-byte general
    // profile_tier_level, right after the 2-byte NAL header (H.265 §7.3.2.2.1, §7.3.3).
    let rbsp = codec::bits::rbsp(sps.get(2..).unwrap_or_default());
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
    let arrays: Vec<(u8, Vec<&Vec<u8>>)> = [HEVC_VPS, HEVC_SPS, HEVC_PPS]
        .into_iter()
        .map(|t| {
            (
                t,
                sets.iter()
                    .filter(|n| nal_type(VideoCodec::Hevc, n) == t)
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
    fn splits_start_codes_and_trailing_zeros() {
        let d = [
            0, 0, 0, 1, 9, 0xF0, 0, 0, 1, 0x65, 1, 0, 0, 0, 0, 0, 1, 0x41, 0, 0, 1,
        ];
        assert_eq!(split_annex_b(&d), [&[9, 0xF0][..], &[0x65, 1], &[0x41]]);
        assert!(split_annex_b(&[1, 2, 3]).is_empty());
        assert!(split_annex_b(&[]).is_empty());
    }

    #[test]
    fn video_before_parameter_sets_is_refused() {
        let mut v = VideoStream::new(VideoCodec::H264, None);
        assert!(v.access_unit(&[0, 0, 1, 0x41, 1]).is_err());
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// `hvcC` records ffmpeg 5.1 wrote for x265 encodes (without their SEI arrays).
    const HVCC: [&str; 2] = [
        "0101600000009000000000003cf000fcfdf8f800000f03a00001001840010c01ffff01600000030090000003000003003c959809a10001002b42010101600000030090000003000003003ca00a880c1c9265959a4932bc05a020000003002000000303c1a2000100074401c172b46240",
        "0101600000009000000000003cf000fcfdf8f800001303a00001001c40010c02ffff01600000030090000003000003003c00009598acc048a10001002e42010201600000030090000003000003003c0000a0192069f7965662b349265780b404000003000400000300c820a2000100074401c172b46240",
    ];

    #[test]
    fn hevc_records_are_rebuilt_as_ffmpeg_writes_them() {
        for h in HVCC {
            let record = hex(h);
            let cfg = hevc::parse_hvcc(&record).unwrap();
            let sets: Vec<Vec<u8>> = [HEVC_VPS, HEVC_SPS, HEVC_PPS]
                .into_iter()
                .flat_map(|t| cfg.nal_units_of(t).map(<[u8]>::to_vec).collect::<Vec<_>>())
                .collect();
            assert_eq!(build_hvcc(&sets).unwrap(), record);
            // Through the stream: AUD, parameter sets, an IDR slice (type 19).
            let mut au = vec![0, 0, 0, 1, 0x46, 0x01, 0x50];
            for s in &sets {
                au.extend([0, 0, 0, 1]);
                au.extend(s);
            }
            au.extend([0, 0, 1, 0x26, 0x01, 0xAF, 0x00]);
            let mut v = VideoStream::new(VideoCodec::Hevc, None);
            let out = v.access_unit(&au).unwrap();
            assert!(out.keyframe);
            assert_eq!(out.new_config.unwrap().record, record);
            assert_eq!(out.data, [0, 0, 0, 3, 0x26, 0x01, 0xAF]);
            // The same sets again are no new configuration.
            assert!(v.access_unit(&au).unwrap().new_config.is_none());
        }
    }

    #[test]
    fn hint_keeps_its_bytes_and_length_size() {
        // The studio fixture's SPS and PPS, in a record with 2-byte NAL lengths.
        let sps = hex("6764000dacd94141fb011000000300100000030320f1429960");
        let pps = hex("68efbcb0");
        let mut record = vec![1, 0x64, 0, 0x0d, 0xFD, 0xE1];
        record.extend((sps.len() as u16).to_be_bytes());
        record.extend(&sps);
        record.push(1);
        record.extend((pps.len() as u16).to_be_bytes());
        record.extend(&pps);
        let hint = VideoConfig {
            codec: VideoCodec::H264,
            record: record.clone(),
            width: 320,
            height: 240,
            flv_signal: FlvVideoSignal::Enhanced,
        };
        let mut v = VideoStream::new(VideoCodec::H264, Some(hint.clone()));
        let mut au = vec![0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1];
        au.extend(&sps);
        au.extend([0, 0, 0, 1]);
        au.extend(&pps);
        au.extend([0, 0, 0, 1, 0x65, 0x88, 0x01]);
        let out = v.access_unit(&au).unwrap();
        assert_eq!(out.new_config.as_ref(), Some(&hint));
        assert_eq!(out.data, [0, 3, 0x65, 0x88, 0x01]);
        // A hint with other parameter sets does not apply: a record is generated.
        let other = VideoConfig {
            record: [&record[..8], &[0x67, 0x4D], &record[10..]].concat(),
            ..hint
        };
        let mut v = VideoStream::new(VideoCodec::H264, Some(other.clone()));
        let out = v.access_unit(&au).unwrap();
        let generated = out.new_config.unwrap();
        assert_ne!(generated.record, other.record);
        assert_eq!(generated.record[4], 0xFF);
        assert_eq!((generated.width, generated.height), (320, 240));
        assert_eq!(out.data, [0, 0, 0, 3, 0x65, 0x88, 0x01]);
    }
}

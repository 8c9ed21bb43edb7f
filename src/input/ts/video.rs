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

use crate::codec::nal::{NalCodec, build_avcc, build_hvcc, split_annex_b};
use crate::codec::{self, h264, hevc};
use crate::media::{FlvVideoSignal, VideoCodec, VideoConfig};

use hevc::{
    NAL_PPS as HEVC_PPS, NAL_PREFIX_SEI as HEVC_PREFIX_SEI, NAL_SPS as HEVC_SPS,
    NAL_VPS as HEVC_VPS,
};

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
        VideoCodec::Av1 | VideoCodec::Vp9 | VideoCodec::FlvOnly(_) => None,
    }
}

/// One access unit converted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AccessUnit {
    pub(crate) keyframe: bool,
    /// Length-prefixed NAL units (the configuration's NAL length size).
    pub(crate) data: Vec<u8>,
    /// A configuration first seen here (the first, or a change).
    pub(crate) new_config: Option<VideoConfig>,
}

/// Turns one video PID's access units into samples.
#[derive(Debug)]
pub(crate) struct VideoStream {
    codec: VideoCodec,
    hint: Option<VideoConfig>,
    config: Option<(VideoConfig, ConfigSets)>,
}

impl VideoStream {
    pub(crate) fn new(codec: VideoCodec, hint: Option<VideoConfig>) -> VideoStream {
        VideoStream {
            codec,
            hint: hint.filter(|h| h.codec == codec),
            config: None,
        }
    }

    pub(crate) fn codec(&self) -> VideoCodec {
        self.codec
    }

    /// Converts one PES payload. `Err` names why it cannot be used (no configuration yet).
    pub(crate) fn access_unit(&mut self, annex_b: &[u8]) -> Result<AccessUnit, String> {
        let Some(nal) = NalCodec::of(self.codec) else {
            return Err(format!("{} in MPEG-TS is not read", self.codec.name()));
        };
        let mut nals = split_annex_b(annex_b);
        if nals
            .first()
            .is_some_and(|n| nal.nal_type(n) == nal.aud_type())
        {
            nals.remove(0);
        }
        let types: Vec<u8> = nals.iter().map(|n| nal.nal_type(n)).collect();
        let keyframe = nal.is_keyframe(&types);
        let mut new_config = None;
        if nal.carries_sets(|t| types.contains(&t)) {
            let stream_sets: Vec<Vec<u8>> = nals
                .iter()
                .zip(&types)
                .filter(|(_, t)| nal.is_parameter_set(**t))
                .map(|(n, _)| n.to_vec())
                .collect();
            let same = self
                .config
                .as_ref()
                .is_some_and(|(_, c)| same_sets(nal, &c.sets, &stream_sets));
            if !same {
                let cfg = self.make_config(nal, &stream_sets)?;
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
                if !nal.carries_sets(|t| rest.contains(&t)) {
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
    fn make_config(&self, nal: NalCodec, stream_sets: &[Vec<u8>]) -> Result<VideoConfig, String> {
        if let Some(h) = &self.hint
            && config_sets(h).is_some_and(|c| same_sets(nal, &c.sets, stream_sets))
        {
            return Ok(h.clone());
        }
        let record = match nal {
            NalCodec::H264 => build_avcc(stream_sets)?,
            NalCodec::Hevc => build_hvcc(stream_sets)?,
        };
        let (width, height) = codec::coded_size(self.codec, &record).unwrap_or((0, 0));
        Ok(VideoConfig {
            flv_track: None,
            codec: self.codec,
            record,
            width,
            height,
            flv_signal: FlvVideoSignal::CodecId,
        })
    }
}

/// Parameter sets compared as a set per type, in order (SPS, PPS, VPS lists).
fn same_sets(nal: NalCodec, a: &[Vec<u8>], b: &[Vec<u8>]) -> bool {
    let by_type = |v: &[Vec<u8>], t: u8| -> Vec<Vec<u8>> {
        v.iter().filter(|n| nal.nal_type(n) == t).cloned().collect()
    };
    (nal.parameter_sets().iter()).all(|&t| by_type(a, t) == by_type(b, t))
}

#[cfg(test)]
mod tests {
    use super::*;

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
            flv_track: None,
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

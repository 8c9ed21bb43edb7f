//! Audio elementary streams as MPEG-TS carries them → raw frames: AAC in ADTS (ISO/IEC 14496-3
//! §1.A.2.2; stream_type 0x0F) loses its ADTS headers and gives its AudioSpecificConfig (the 2
//! bytes ISO/IEC 14496-3 §1.6.2.1 defines for the ADTS fields: object type = profile + 1,
//! sampling frequency index, channel configuration, GASpecificConfig zeros); MP3 (ISO/IEC
//! 11172-3 / 13818-3; stream_type 0x03/0x04) is split at its frame headers; AC-3 and E-AC-3
//! (ATSC A/52 Annex G; stream_type 0x81/0x87, or DVB private data) are split into access units
//! at their syncframes, an E-AC-3 access unit running from an independent substream 0 to the
//! next (its dependent and further substreams with it), and configure the track as the FLV and
//! MP4 readers do: `dac3` / `dec3` built from the first access unit (ETSI TS 102 366 Annex F).
//!
//! A PES may hold several frames: the first takes the PES's PTS and each next one adds a frame's
//! duration (1024, 1152 or 1536 samples), computed from the PES's PTS so that rounding never
//! accumulates. A frame cut by the end of a PES is completed from the next one.

use crate::codec::{aac, ac3, mp3};
use crate::container::flv::SOUND_BYTE_EX_HEADER;
use crate::media::{AudioCodec, AudioConfig};

/// Longest ADTS frame (13-bit aac_frame_length) and a generous MP3 frame bound.
const MAX_FRAME: usize = 8191;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AudioFrame {
    /// Presentation time (the unwrapped 90 kHz clock of the PES timestamps).
    pub(crate) pts_90k: i64,
    pub(crate) data: Vec<u8>,
    /// A configuration first seen here (the first, or a change).
    pub(crate) new_config: Option<AudioConfig>,
}

#[derive(Debug)]
pub(crate) struct AudioStream {
    codec: AudioCodec,
    hint: Option<AudioConfig>,
    config: Option<AudioConfig>,
    /// Bytes of a frame begun in the previous PES, and its presentation time.
    carry: Vec<u8>,
    carry_pts_90k: i64,
    /// Where the frame after the last one presents, for a PES without a PTS.
    next_pts_90k: i64,
}

/// ADTS header fields.
struct Adts {
    header_len: usize,
    frame_len: usize,
    asc: [u8; 2],
}

fn parse_adts(b: &[u8]) -> Result<Option<Adts>, String> {
    let Some(h) = b.first_chunk::<7>() else {
        return Ok(None);
    };
    if h[0] != 0xFF || h[1] & 0xF6 != 0xF0 {
        return Err("ADTS syncword missing".into());
    }
    let protection_absent = h[1] & 0x01 != 0;
    let profile = h[2] >> 6;
    let sf_index = (h[2] >> 2) & 0x0F;
    let channels = ((h[2] & 0x01) << 2) | (h[3] >> 6);
    let frame_len =
        (usize::from(h[3] & 0x03) << 11) | (usize::from(h[4]) << 3) | usize::from(h[5] >> 5);
    let header_len = if protection_absent { 7 } else { 9 };
    if frame_len < header_len {
        return Err(format!(
            "ADTS aac_frame_length {frame_len} is shorter than its header"
        ));
    }
    if sf_index > 12 {
        return Err(format!(
            "ADTS sampling_frequency_index {sf_index} is reserved"
        ));
    }
    let object_type = profile + 1;
    let asc = [
        (object_type << 3) | (sf_index >> 1),
        ((sf_index & 1) << 7) | (channels << 3),
    ];
    Ok(Some(Adts {
        header_len,
        frame_len,
        asc,
    }))
}

impl AudioStream {
    pub(crate) fn new(codec: AudioCodec, hint: Option<AudioConfig>) -> AudioStream {
        AudioStream {
            codec,
            hint: hint.filter(|h| h.codec == codec),
            config: None,
            carry: Vec::new(),
            carry_pts_90k: 0,
            next_pts_90k: 0,
        }
    }

    pub(crate) fn codec(&self) -> AudioCodec {
        self.codec
    }

    fn frame_90k(&self, index: u64) -> i64 {
        let (samples, rate) = match &self.config {
            Some(c) => (u128::from(c.codec.frame_samples()), c.sample_rate),
            None => (1024, 0),
        };
        if rate == 0 {
            return 0;
        }
        // Rounded to nearest: 1024 samples at 44.1 kHz are 2089.8 ticks.
        let rate = u128::from(rate);
        let t = (u128::from(index) * samples * 90_000 * 2 + rate) / (2 * rate);
        i64::try_from(t).unwrap_or(i64::MAX)
    }

    fn set_config(&mut self, cfg: AudioConfig) -> Option<AudioConfig> {
        let cfg = match &self.hint {
            // The hint's bytes, when they describe the same stream (a longer ASC, say).
            Some(h)
                if h.sample_rate == cfg.sample_rate
                    && h.channels == cfg.channels
                    && match h.codec {
                        AudioCodec::Mp3 => true,
                        AudioCodec::Aac => aac::parse_asc(&h.specific)
                            .is_ok_and(|i| i.core_object_type == cfg.specific[0] >> 3),
                        AudioCodec::Ac3
                        | AudioCodec::Eac3
                        | AudioCodec::Opus
                        | AudioCodec::Flac
                        | AudioCodec::FlvOnly(_) => h.specific == cfg.specific,
                    } =>
            {
                h.clone()
            }
            _ => cfg,
        };
        if self.config.as_ref() == Some(&cfg) {
            return None;
        }
        self.config = Some(cfg.clone());
        Some(cfg)
    }

    /// Splits one PES payload, presenting at `pts_90k` (else right after the last frame), into
    /// frames; damage found is returned beside them.
    pub(crate) fn pes(
        &mut self,
        payload: &[u8],
        pts_90k: Option<i64>,
    ) -> (Vec<AudioFrame>, Vec<String>) {
        let base = pts_90k.unwrap_or(self.next_pts_90k);
        let mut data = std::mem::take(&mut self.carry);
        let carried = !data.is_empty();
        data.extend_from_slice(payload);
        let mut frames = Vec::new();
        let mut damage = Vec::new();
        let mut pos = 0;
        // Frames begun in this PES so far.
        let mut index = 0u64;
        while pos < data.len() {
            let rest = &data[pos..];
            let parsed = match self.codec {
                AudioCodec::Aac => self.aac_frame(rest),
                AudioCodec::Mp3 => self.mp3_frame(rest),
                AudioCodec::Ac3 | AudioCodec::Eac3 => ac3_access_unit(self.codec, rest),
                AudioCodec::Opus | AudioCodec::Flac | AudioCodec::FlvOnly(_) => {
                    Err(format!("{} in MPEG-TS is not read", self.codec.name()))
                }
            };
            let carried_frame = carried && pos == 0;
            let pts = if carried_frame {
                self.carry_pts_90k
            } else {
                base.saturating_add(self.frame_90k(index))
            };
            match parsed {
                Ok(Some((header_len, frame_len, cfg))) if frame_len <= rest.len() => {
                    let new_config = cfg.and_then(|c| self.set_config(c));
                    frames.push(AudioFrame {
                        pts_90k: pts,
                        data: rest[header_len..frame_len].to_vec(),
                        new_config,
                    });
                    self.next_pts_90k = pts.saturating_add(self.frame_90k(1));
                    index += u64::from(!carried_frame);
                    pos += frame_len;
                }
                // The rest of the frame is in the next PES (or fewer bytes than a header are here).
                Ok(None) => {
                    self.carry = rest.to_vec();
                    self.carry_pts_90k = pts;
                    break;
                }
                Ok(Some((_, frame_len, _))) if frame_len <= MAX_FRAME => {
                    self.carry = rest.to_vec();
                    self.carry_pts_90k = pts;
                    break;
                }
                Ok(Some(_)) | Err(_) => {
                    let why = match parsed {
                        Err(e) => e,
                        _ => "frame longer than the largest frame".into(),
                    };
                    damage.push(format!("{why}; {} bytes of audio skipped", rest.len()));
                    break;
                }
            }
        }
        (frames, damage)
    }

    /// (header length, frame length, configuration) of the ADTS frame at the start of `b`.
    fn aac_frame(&self, b: &[u8]) -> Result<Option<(usize, usize, Option<AudioConfig>)>, String> {
        let Some(a) = parse_adts(b)? else {
            return Ok(None);
        };
        let info = aac::parse_asc(&a.asc).map_err(|e| e.to_string())?;
        let cfg = aac::audio_config(a.asc.to_vec(), info.sample_rate, info.channels);
        Ok(Some((a.header_len, a.frame_len, Some(cfg))))
    }

    fn mp3_frame(&self, b: &[u8]) -> Result<Option<(usize, usize, Option<AudioConfig>)>, String> {
        if b.len() < 4 {
            return Ok(None);
        }
        let h = mp3::parse_header(b).map_err(|e| e.to_string())?;
        // Free format has no length: the rest of the PES is one frame.
        let len = h.frame_len.map_or(b.len(), |l| l as usize).max(4);
        let cfg = mp3::audio_config(h.sample_rate, h.channels);
        Ok(Some((0, len, Some(cfg))))
    }
}

/// Bytes enough for any syncframe header (syncinfo and the bit stream information up to the
/// fields read): fewer may be a header cut by the end of the PES.
const AC3_HEADER_BYTES: usize = 64;

/// (0, access unit length, configuration) of the AC-3 / E-AC-3 access unit at the start of `b`;
/// `None` when its first header is not all here yet.
fn ac3_access_unit(
    codec: AudioCodec,
    b: &[u8],
) -> Result<Option<(usize, usize, Option<AudioConfig>)>, String> {
    if b.len() >= 2 && u16::from_be_bytes([b[0], b[1]]) != ac3::SYNCWORD {
        return Err(format!("{} syncword missing", codec.name()));
    }
    let first = match ac3::parse_syncframe(b) {
        Ok(f) => f,
        Err(_) if b.len() < AC3_HEADER_BYTES => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let mut len = first.frame_len;
    // E-AC-3: the substreams after the first, up to the next independent substream 0.
    while first.eac3 && len < b.len() {
        match ac3::parse_syncframe(&b[len..]) {
            Ok(f) if f.eac3 && !(f.strmtyp != 1 && f.substreamid == 0) => len += f.frame_len,
            Ok(_) | Err(_) => break,
        }
    }
    if len > b.len() {
        return Ok(Some((0, len, None)));
    }
    let specific = ac3::configuration(codec, &first, &b[..len]).map_err(|e| e.to_string())?;
    let cfg = AudioConfig {
        codec,
        specific,
        sample_rate: first.sample_rate,
        channels: first.channels(),
        flv_sound_byte: SOUND_BYTE_EX_HEADER,
        flv_track: None,
    };
    Ok(Some((0, len, Some(cfg))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adts(payload: &[u8]) -> Vec<u8> {
        let asc = aac::parse_asc(&[0x12, 0x10]).unwrap();
        let mut v = aac::adts_header(&asc, payload.len()).to_vec();
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn adts_frames_split_and_carry() {
        let mut a = AudioStream::new(AudioCodec::Aac, None);
        let mut pes = adts(&[1, 2, 3]);
        pes.extend(adts(&[4, 5]));
        let second = adts(&[6, 7, 8, 9]);
        pes.extend(&second[..5]);
        let (frames, damage) = a.pes(&pes, Some(0));
        assert!(damage.is_empty());
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].data, [1, 2, 3]);
        assert_eq!(
            frames[0].new_config.as_ref().unwrap().specific,
            [0x12, 0x10]
        );
        assert_eq!(frames[1].pts_90k, 2090); // 1024 samples at 44.1 kHz
        assert!(frames[1].new_config.is_none());
        let mut next = second[5..].to_vec();
        next.extend(adts(&[10]));
        let (frames, _) = a.pes(&next, Some(5000));
        assert_eq!(frames[0].data, [6, 7, 8, 9]);
        assert_eq!(frames[0].pts_90k, 4180);
        assert_eq!(
            (frames[1].data.as_slice(), frames[1].pts_90k),
            (&[10u8][..], 5000)
        );
    }

    #[test]
    fn garbage_is_reported() {
        let mut a = AudioStream::new(AudioCodec::Aac, None);
        let (frames, damage) = a.pes(&[0x12; 20], None);
        assert!(frames.is_empty());
        assert!(damage[0].contains("ADTS syncword"), "{damage:?}");
        let mut a = AudioStream::new(AudioCodec::Mp3, None);
        let (_, damage) = a.pes(&[0; 20], None);
        assert_eq!(damage.len(), 1);
    }

    /// FFmpeg 8's AC-3 encoder's first syncframe header (48 kHz stereo, 768 bytes), padded.
    fn ac3_frame() -> Vec<u8> {
        let mut f = crate::codec::testhex::hex("0b774966144043e106f4637fc3c3c3f8");
        f.resize(768, 0);
        f
    }

    #[test]
    fn ac3_access_units_split_configure_and_carry() {
        let mut a = AudioStream::new(AudioCodec::Ac3, None);
        let f = ac3_frame();
        let mut pes = [&f[..], &f[..], &f[..100]].concat();
        let (frames, damage) = a.pes(&pes, Some(0));
        assert!(damage.is_empty(), "{damage:?}");
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].data, f);
        let cfg = frames[0].new_config.as_ref().unwrap();
        assert_eq!((cfg.sample_rate, cfg.channels), (48_000, 2));
        assert_eq!(cfg.specific, crate::codec::testhex::hex("101140"));
        // 1536 samples at 48 kHz.
        assert_eq!(frames[1].pts_90k, 2880);
        pes = f[100..].to_vec();
        let (frames, _) = a.pes(&pes, Some(9000));
        assert_eq!((frames[0].pts_90k, frames[0].data.len()), (5760, 768));
        let (_, damage) = a.pes(&[0x12; 80], None);
        assert!(damage[0].contains("ac3 syncword"), "{damage:?}");
    }
}

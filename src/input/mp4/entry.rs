//! Sample entries (ISO/IEC 14496-12 §8.5.2, §12.1.3, §12.2.3) → the media model's codec
//! configuration, carrying the source bytes: `avcC` (ISO/IEC 14496-15 §5.3.4) and `hvcC`
//! (§8.4.1) payloads as the decoder configuration record, and the DecoderSpecificInfo of `esds`
//! (ISO/IEC 14496-14 §5.6, descriptors of ISO/IEC 14496-1 §7.2.6) as the AudioSpecificConfig;
//! `av1C` and `vpcC` as the record; for the audio codecs with a box of their own, the form the
//! rest of kls-rec carries (as Enhanced RTMP does): OpusHead rebuilt from `dOps`, the
//! STREAMINFO block of `dfLa`, the `dac3`/`dec3` body.

use super::boxes::{BoxError, Fields, FourCc, MemBox};
use crate::codec::{aac, ac3, flac, opus};
use crate::container::flv::SOUND_BYTE_EX_HEADER;
use crate::media::{AudioCodec, AudioConfig, FlvVideoSignal, TrackKind, VideoCodec, VideoConfig};

/// ISO/IEC 14496-1 §7.2.2.1 descriptor tags.
const ES_DESCR_TAG: u8 = 0x03;
const DECODER_CONFIG_DESCR_TAG: u8 = 0x04;
const DEC_SPECIFIC_INFO_TAG: u8 = 0x05;

/// objectTypeIndication values (ISO/IEC 14496-1 Table 5).
const OTI_AAC: u8 = 0x40; // ISO/IEC 14496-3
const OTI_AAC_MPEG2: [u8; 3] = [0x66, 0x67, 0x68]; // ISO/IEC 13818-7 Main, LC, SSR
const OTI_MPEG2_AUDIO: u8 = 0x69; // ISO/IEC 13818-3 (MP3 at the half rates)
const OTI_MPEG1_AUDIO: u8 = 0x6B; // ISO/IEC 11172-3

/// FLV AUDIODATA first byte for AAC (SoundFormat 10, rate index 3, 16-bit, stereo): what FLV
/// always signals for AAC, whatever the real rate and channels (the ASC carries them).
pub const FLV_SOUND_BYTE_AAC: u8 = 0xAF;

/// What a track's first sample entry says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleEntry {
    pub fourcc: FourCc,
    pub codec: EntryCodec,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryCodec {
    Video(VideoConfig),
    /// For MP3, `sample_rate`/`channels` come from the entry until the first frame is read.
    Audio(AudioConfig),
    /// A codec kls-rec does not carry; the reason names it.
    Unsupported(String),
}

/// Reads a sample entry box of a video or audio track.
pub fn read_entry(b: &MemBox<'_>, kind: Option<TrackKind>) -> Result<SampleEntry, BoxError> {
    let fourcc = b.header.kind;
    let codec = match (kind, &fourcc.0) {
        (Some(TrackKind::Video), b"avc1" | b"avc3") => visual(b, VideoCodec::H264, b"avcC")?,
        (Some(TrackKind::Video), b"hvc1" | b"hev1") => visual(b, VideoCodec::Hevc, b"hvcC")?,
        (Some(TrackKind::Video), b"av01") => visual(b, VideoCodec::Av1, b"av1C")?,
        (Some(TrackKind::Video), b"vp09") => visual(b, VideoCodec::Vp9, b"vpcC")?,
        (Some(TrackKind::Audio), b"mp4a") => audio(b)?,
        (Some(TrackKind::Audio), b"Opus") => own_box_audio(b, AudioCodec::Opus)?,
        (Some(TrackKind::Audio), b"fLaC") => own_box_audio(b, AudioCodec::Flac)?,
        (Some(TrackKind::Audio), b"ac-3") => own_box_audio(b, AudioCodec::Ac3)?,
        (Some(TrackKind::Audio), b"ec-3") => own_box_audio(b, AudioCodec::Eac3)?,
        (Some(TrackKind::Audio), b".mp3" | b"mp3 ") => {
            let (channels, rate, _) = audio_fields(b)?;
            EntryCodec::Audio(mp3_config(rate, channels))
        }
        _ => EntryCodec::Unsupported(format!("sample entry '{fourcc}'")),
    };
    Ok(SampleEntry { fourcc, codec })
}

/// §12.1.3 VisualSampleEntry: 78 bytes of fields, then boxes.
fn visual(b: &MemBox<'_>, codec: VideoCodec, config: &[u8; 4]) -> Result<EntryCodec, BoxError> {
    let mut r = b.reader();
    r.skip(24, "reserved, data_reference_index, pre_defined")?;
    let entry_width = u32::from(r.u16("width")?);
    let entry_height = u32::from(r.u16("height")?);
    let Some(cfg) = b.children_from(78, config)? else {
        return Err(BoxError::new(
            b.header.offset,
            format!(
                "sample entry '{}' has no '{}' box",
                b.header.kind,
                FourCc(*config)
            ),
        ));
    };
    let record = cfg.payload.to_vec();
    // The record is what decoders use; the entry's size is a fallback for records without one.
    let (width, height) =
        crate::codec::coded_size(codec, &record).unwrap_or((entry_width, entry_height));
    // FLV can only signal AV1 and VP9 by Enhanced RTMP FourCC.
    let flv_signal = match codec {
        VideoCodec::H264 | VideoCodec::Hevc => FlvVideoSignal::CodecId,
        VideoCodec::Av1 | VideoCodec::Vp9 => FlvVideoSignal::Enhanced,
        // No MP4 sample entry maps to one.
        VideoCodec::FlvOnly(_) => FlvVideoSignal::CodecId,
    };
    Ok(EntryCodec::Video(VideoConfig {
        flv_track: None,
        codec,
        record,
        width,
        height,
        flv_signal,
    }))
}

/// §12.2.3 AudioSampleEntry fields (QuickTime sound description versions 1 and 2 included):
/// (channelcount, samplerate, offset of the child boxes in the payload).
fn audio_fields(b: &MemBox<'_>) -> Result<(u8, u32, usize), BoxError> {
    let mut r = b.reader();
    r.skip(8, "reserved, data_reference_index")?;
    let version = r.u16("version")?;
    r.skip(6, "reserved")?;
    let channels = r.u16("channelcount")?;
    r.skip(6, "samplesize, pre_defined, reserved")?;
    let rate = r.u32("samplerate")? >> 16;
    let children = match version {
        1 => 28 + 16,
        2 => 28 + 36,
        _ => 28,
    };
    Ok((channels.min(255) as u8, rate, children))
}

fn audio(b: &MemBox<'_>) -> Result<EntryCodec, BoxError> {
    let (channels, rate, children) = audio_fields(b)?;
    // QuickTime files put `esds` inside a `wave` box.
    let esds = match b.children_from(children, b"esds")? {
        Some(e) => Some(e),
        None => match b.children_from(children, b"wave")? {
            Some(w) => w.child(b"esds")?,
            None => None,
        },
    };
    let Some(esds) = esds else {
        return Err(BoxError::new(
            b.header.offset,
            "sample entry 'mp4a' has no 'esds' box",
        ));
    };
    let (oti, specific) = read_esds(&esds)?;
    Ok(match oti {
        OTI_MPEG1_AUDIO | OTI_MPEG2_AUDIO => EntryCodec::Audio(mp3_config(rate, channels)),
        o if o == OTI_AAC || OTI_AAC_MPEG2.contains(&o) => {
            let Some(specific) = specific else {
                return Err(BoxError::new(
                    esds.header.offset,
                    "'esds': AAC without a DecoderSpecificInfo (AudioSpecificConfig)",
                ));
            };
            let (sample_rate, channels) = aac::parse_asc(&specific)
                .map(|i| (i.sample_rate, i.channels))
                .unwrap_or((rate, channels));
            EntryCodec::Audio(AudioConfig {
                codec: AudioCodec::Aac,
                specific,
                sample_rate,
                channels,
                flv_sound_byte: FLV_SOUND_BYTE_AAC,
                flv_track: None,
            })
        }
        o => EntryCodec::Unsupported(format!("'mp4a' objectTypeIndication 0x{o:02x}")),
    })
}

/// An audio entry whose configuration box is the codec's own (`dOps`, `dfLa`, `dac3`, `dec3`).
fn own_box_audio(b: &MemBox<'_>, codec: AudioCodec) -> Result<EntryCodec, BoxError> {
    let (_, _, children) = audio_fields(b)?;
    let Some(name) = codec.ids().mp4.map(|m| m.config) else {
        return Ok(EntryCodec::Unsupported(format!("{} in MP4", codec.name())));
    };
    let Some(cfg) = b.children_from(children, &name)? else {
        return Err(BoxError::new(
            b.header.offset,
            format!(
                "sample entry '{}' has no '{}' box",
                b.header.kind,
                FourCc(name)
            ),
        ));
    };
    let bad = |e: crate::codec::CodecError| BoxError::new(cfg.header.offset, e.to_string());
    let (specific, sample_rate, channels) = match codec {
        AudioCodec::Opus => {
            let c = opus::parse_dops(cfg.payload).map_err(bad)?;
            (c.to_opus_head(), opus::DECODE_RATE, c.channels)
        }
        AudioCodec::Flac => {
            let info = flac::parse_dfla(cfg.payload).map_err(bad)?;
            let s = flac::parse_streaminfo(info).map_err(bad)?;
            (info.to_vec(), s.sample_rate, s.channels)
        }
        AudioCodec::Ac3 => {
            let i = ac3::parse_dac3(cfg.payload).map_err(bad)?;
            (cfg.payload.to_vec(), i.sample_rate, i.channels)
        }
        AudioCodec::Eac3 => {
            let i = ac3::parse_dec3(cfg.payload).map_err(bad)?;
            (cfg.payload.to_vec(), i.sample_rate, i.channels)
        }
        AudioCodec::Aac | AudioCodec::Mp3 | AudioCodec::FlvOnly(_) => {
            let what = format!("{} in a '{}' box", codec.name(), FourCc(name));
            return Ok(EntryCodec::Unsupported(what));
        }
    };
    Ok(EntryCodec::Audio(AudioConfig {
        codec,
        specific,
        sample_rate,
        channels,
        flv_sound_byte: SOUND_BYTE_EX_HEADER,
        flv_track: None,
    }))
}

/// MP3 configuration from a rate and channel count (refined later from the first frame).
pub fn mp3_config(sample_rate: u32, channels: u8) -> AudioConfig {
    AudioConfig {
        codec: AudioCodec::Mp3,
        specific: Vec::new(),
        sample_rate,
        channels,
        flv_sound_byte: flv_sound_byte_mp3(sample_rate, channels),
        flv_track: None,
    }
}

/// The FLV AUDIODATA byte an FLV muxer writes for MP3 (Adobe FLV spec E.4.2.1): SoundFormat 2
/// (14 for "MP3 8 kHz"), the nearest SoundRate index of 5.5/11/22/44 kHz, 16-bit, mono/stereo.
pub fn flv_sound_byte_mp3(sample_rate: u32, channels: u8) -> u8 {
    let format: u8 = if sample_rate == 8000 { 14 } else { 2 };
    let rate_index: u8 = match sample_rate {
        0..=8_250 => 0,
        8_251..=16_537 => 1,
        16_538..=33_075 => 2,
        _ => 3,
    };
    (format << 4) | (rate_index << 2) | 0b10 | u8::from(channels >= 2)
}

/// ISO/IEC 14496-14 §5.6 `esds`: the objectTypeIndication and the DecoderSpecificInfo bytes.
fn read_esds(esds: &MemBox<'_>) -> Result<(u8, Option<Vec<u8>>), BoxError> {
    let (_, _, mut r) = esds.full()?;
    let (tag, len) = descriptor(&mut r)?;
    if tag != ES_DESCR_TAG {
        return Err(r.err("ES_Descriptor", format!("tag 0x{tag:02x}, expected 0x03")));
    }
    let mut es = sub(&mut r, len, "ES_Descriptor")?;
    es.u16("ES_ID")?;
    let flags = es.u8("flags")?;
    if flags & 0x80 != 0 {
        es.u16("dependsOn_ES_ID")?;
    }
    if flags & 0x40 != 0 {
        let n = es.u8("URLlength")?;
        es.skip(usize::from(n), "URLstring")?;
    }
    if flags & 0x20 != 0 {
        es.u16("OCR_ES_Id")?;
    }
    // Descriptors follow; the DecoderConfigDescriptor is the one needed.
    while es.remaining() > 0 {
        let (tag, len) = descriptor(&mut es)?;
        let mut d = sub(&mut es, len, "descriptor")?;
        if tag != DECODER_CONFIG_DESCR_TAG {
            continue;
        }
        let oti = d.u8("objectTypeIndication")?;
        d.skip(12, "streamType, bufferSizeDB, maxBitrate, avgBitrate")?;
        while d.remaining() > 0 {
            let (tag, len) = descriptor(&mut d)?;
            let mut s = sub(&mut d, len, "descriptor")?;
            if tag == DEC_SPECIFIC_INFO_TAG {
                return Ok((oti, Some(s.take(len, "DecoderSpecificInfo")?.to_vec())));
            }
        }
        return Ok((oti, None));
    }
    Err(r.err("DecoderConfigDescriptor", "missing"))
}

/// §8.3.3 descriptor header: tag, then sizeOfInstance in 1–4 bytes of 7 bits.
fn descriptor(r: &mut Fields<'_>) -> Result<(u8, usize), BoxError> {
    let tag = r.u8("descriptor tag")?;
    let mut len = 0usize;
    for _ in 0..4 {
        let b = r.u8("sizeOfInstance")?;
        len = (len << 7) | usize::from(b & 0x7F);
        if b & 0x80 == 0 {
            return Ok((tag, len));
        }
    }
    Ok((tag, len))
}

/// A reader over the next `len` bytes, which must be present.
fn sub<'a>(r: &mut Fields<'a>, len: usize, field: &str) -> Result<Fields<'a>, BoxError> {
    let at = r.clone();
    let bytes = r.take(len, field)?;
    Ok(at.narrowed(bytes.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mp3_sound_bytes_follow_flv() {
        assert_eq!(flv_sound_byte_mp3(44_100, 2), 0x2F);
        assert_eq!(flv_sound_byte_mp3(48_000, 1), 0x2E);
        assert_eq!(flv_sound_byte_mp3(22_050, 2), 0x2B);
        assert_eq!(flv_sound_byte_mp3(11_025, 1), 0x26);
        assert_eq!(flv_sound_byte_mp3(8_000, 1), 0xE2);
    }
}

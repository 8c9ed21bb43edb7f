//! Sample entries (ISO/IEC 14496-12 §8.5.2, §12.1.3, §12.2.3) → the media model's codec
//! configuration, carrying the source bytes: `avcC` (ISO/IEC 14496-15 §5.3.4) and `hvcC`
//! (§8.4.1) payloads as the decoder configuration record, and the DecoderSpecificInfo of `esds`
//! (ISO/IEC 14496-14 §5.6, descriptors of ISO/IEC 14496-1 §7.2.6) as the AudioSpecificConfig;
//! `av1C` and `vpcC` as the record; for the audio codecs with a box of their own, the form the
//! rest of kls-rec carries (as Enhanced RTMP does): OpusHead rebuilt from `dOps`, the
//! STREAMINFO block of `dfLa`, the `dac3`/`dec3` body.

use super::boxes::{BoxError, Fields, FourCc, MemBox};
use crate::codec::{aac, ac3, flac, ids, mp3, opus};
use crate::container::flv::SOUND_BYTE_EX_HEADER;
use crate::media::{AudioCodec, AudioConfig, FlvVideoSignal, TrackKind, VideoCodec, VideoConfig};

use crate::container::mp4::{DEC_SPECIFIC_INFO_TAG, DECODER_CONFIG_DESCR_TAG, ES_DESCR_TAG};

/// What a track's first sample entry says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SampleEntry {
    pub(crate) fourcc: FourCc,
    pub(crate) codec: EntryCodec,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum EntryCodec {
    Video(VideoConfig),
    /// For MP3, `sample_rate`/`channels` come from the entry until the first frame is read.
    Audio(AudioConfig),
    /// A codec kls-rec does not carry; the reason names it.
    Unsupported(String),
}

/// Reads a sample entry box of a video or audio track.
pub(crate) fn read_entry(b: &MemBox<'_>, kind: Option<TrackKind>) -> Result<SampleEntry, BoxError> {
    let fourcc = b.header.kind;
    let unsupported = || EntryCodec::Unsupported(format!("sample entry '{fourcc}'"));
    let codec = match kind {
        Some(TrackKind::Video) => match ids::video_by_mp4_entry(&fourcc.0) {
            Some(codec) => visual(b, codec)?,
            None => unsupported(),
        },
        Some(TrackKind::Audio) => match ids::audio_by_mp4_entry(&fourcc.0) {
            Some(codec) => audio(b, codec)?,
            None => unsupported(),
        },
        None => unsupported(),
    };
    Ok(SampleEntry { fourcc, codec })
}

/// §12.1.3 VisualSampleEntry: 78 bytes of fields, then boxes.
fn visual(b: &MemBox<'_>, codec: VideoCodec) -> Result<EntryCodec, BoxError> {
    let Some(config) = codec.ids().mp4.map(|m| m.config) else {
        return Ok(EntryCodec::Unsupported(format!("{} in MP4", codec.name())));
    };
    let config = &config;
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

/// An audio entry of a codec: `mp4a` (looked up as AAC) with the `esds` that names the codec,
/// QuickTime's MP3 entries (no configuration: the first frame gives it), or an entry with a
/// configuration box of the codec's own.
fn audio(b: &MemBox<'_>, codec: AudioCodec) -> Result<EntryCodec, BoxError> {
    let (channels, rate, children) = audio_fields(b)?;
    match codec {
        AudioCodec::Aac => esds_audio(b, rate, channels, children),
        AudioCodec::Mp3 => Ok(EntryCodec::Audio(mp3::audio_config(rate, channels))),
        AudioCodec::Opus
        | AudioCodec::Flac
        | AudioCodec::Ac3
        | AudioCodec::Eac3
        | AudioCodec::FlvOnly(_) => own_box_audio(b, codec, children),
    }
}

/// `mp4a`: the MPEG-4 audio codec its `esds` objectTypeIndication names.
fn esds_audio(
    b: &MemBox<'_>,
    rate: u32,
    channels: u8,
    children: usize,
) -> Result<EntryCodec, BoxError> {
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
    let Some(codec) = ids::audio_by_object_type(oti) else {
        let what = format!("'mp4a' objectTypeIndication 0x{oti:02x}");
        return Ok(EntryCodec::Unsupported(what));
    };
    Ok(match codec {
        AudioCodec::Mp3 => EntryCodec::Audio(mp3::audio_config(rate, channels)),
        AudioCodec::Aac => {
            let Some(specific) = specific else {
                return Err(BoxError::new(
                    esds.header.offset,
                    "'esds': AAC without a DecoderSpecificInfo (AudioSpecificConfig)",
                ));
            };
            let (sample_rate, channels) = aac::parse_asc(&specific)
                .map(|i| (i.sample_rate, i.channels))
                .unwrap_or((rate, channels));
            EntryCodec::Audio(aac::audio_config(specific, sample_rate, channels))
        }
        AudioCodec::Opus
        | AudioCodec::Flac
        | AudioCodec::Ac3
        | AudioCodec::Eac3
        | AudioCodec::FlvOnly(_) => EntryCodec::Unsupported(format!("{} in 'esds'", codec.name())),
    })
}

/// An audio entry whose configuration box is the codec's own (`dOps`, `dfLa`, `dac3`, `dec3`).
fn own_box_audio(
    b: &MemBox<'_>,
    codec: AudioCodec,
    children: usize,
) -> Result<EntryCodec, BoxError> {
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

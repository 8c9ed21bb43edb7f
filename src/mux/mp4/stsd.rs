//! Sample descriptions (ISO/IEC 14496-12 §8.5.2), the entry and configuration box names from
//! each codec's descriptor ([`crate::codec::ids`]):
//!
//! - video: `avc1`/`avcC`, `hvc1`/`hvcC` (ISO/IEC 14496-15 §5.3.4, §8.4.1), `av01`/`av1C`
//!   (AV1-ISOBMFF §2.3), `vp09`/`vpcC` (VP-codec ISOBMFF §2.2): the source's decoder
//!   configuration record, unchanged (`vpcC` as Enhanced RTMP and MP4 carry it, version and
//!   flags included);
//! - audio: `mp4a` with its `esds` (ISO/IEC 14496-14 §5.6, descriptors from ISO/IEC 14496-1
//!   §7.2.6) carrying the AudioSpecificConfig bytes; `Opus`/`dOps` (Opus in ISOBMFF §4.3),
//!   `fLaC`/`dfLa` (FLAC in ISOBMFF §3.3) and `ac-3`/`dac3`, `ec-3`/`dec3` (ETSI TS 102 366
//!   Annex F). Rebuilt where the push carried another form: `dOps` from OpusHead (the same
//!   fields, big-endian), `dfLa` around the STREAMINFO block; `dac3`/`dec3` are the ones the
//!   reader built from a syncframe.

use anyhow::{Result, bail};

use super::bmff::BoxWriter;
use super::plan::{Entry, TrackPlan};
use crate::codec::{flac, opus};
use crate::media::{AudioCodec, AudioConfig, CodecConfig, VideoConfig};

use crate::container::mp4::{
    DEC_SPECIFIC_INFO_TAG, DECODER_CONFIG_DESCR_TAG, ES_DESCR_TAG, SL_CONFIG_DESCR_TAG,
};

/// streamType AudioStream (0x05) << 2 | upStream 0 | reserved 1.
const STREAM_TYPE_AUDIO: u8 = 0x15;

pub(crate) fn write_stsd(w: &mut BoxWriter, t: &TrackPlan<'_>) -> Result<()> {
    w.open_full(b"stsd", 0, 0);
    w.u32(1); // entry_count
    match t.entry {
        Entry::Video(v) => visual_entry(w, v)?,
        Entry::Audio(a) => audio_entry(w, t, a)?,
    }
    w.close();
    Ok(())
}

/// The `esds` objectTypeIndication of an MPEG-4 audio codec (MP3's by its sample rate, as
/// ffmpeg chooses); `None` for the codecs with a configuration box of their own.
fn audio_oti(a: &AudioConfig) -> Option<u8> {
    let object_type = a.codec.ids().mp4?.object_type?;
    Some(object_type.written(a.sample_rate))
}

/// The configuration box body of a codec with a box of its own, from the configuration the
/// source sent.
fn audio_config_box(a: &AudioConfig) -> Result<Vec<u8>> {
    Ok(match a.codec {
        AudioCodec::Opus => opus::parse_opus_head(&a.specific)?.to_dops(),
        AudioCodec::Flac => flac::dfla_from_streaminfo(flac::streaminfo_bytes(&a.specific)?),
        AudioCodec::Ac3 | AudioCodec::Eac3 => a.specific.clone(),
        AudioCodec::Aac | AudioCodec::Mp3 => bail!("mp4: {} audio goes in esds", a.codec.name()),
        AudioCodec::FlvOnly(_) => bail!("{}", flv_only(a.codec.name())),
    })
}

/// Refuses, before anything is written, a configuration this writer cannot describe.
pub(crate) fn check_carried(config: &CodecConfig) -> Result<()> {
    if let Some(a) = &config.audio
        && audio_oti(a).is_none()
    {
        audio_config_box(a)?;
    }
    Ok(())
}

/// A codec only FLV carries; the recording pipeline keeps its tracks from this writer.
fn flv_only(codec: &str) -> String {
    format!("MP4 cannot carry {codec} (only FLV does)")
}

/// §12.1.3 VisualSampleEntry.
fn visual_entry(w: &mut BoxWriter, v: &VideoConfig) -> Result<()> {
    let Some(ids) = v.codec.ids().mp4 else {
        bail!("{}", flv_only(v.codec.name()));
    };
    w.open(&ids.entry);
    w.zeros(6); // reserved
    w.u16(1); // data_reference_index
    w.zeros(2 + 2 + 12); // pre_defined, reserved, pre_defined[3]
    w.u16(v.width.min(0xFFFF) as u16);
    w.u16(v.height.min(0xFFFF) as u16);
    w.u32(0x0048_0000); // horizresolution 72 dpi
    w.u32(0x0048_0000); // vertresolution 72 dpi
    w.u32(0); // reserved
    w.u16(1); // frame_count
    w.zeros(32); // compressorname: empty
    w.u16(0x0018); // depth: colour, no alpha
    w.u16(0xFFFF); // pre_defined −1
    w.open(&ids.config);
    w.bytes(&v.record);
    w.close();
    w.close();
    Ok(())
}

/// §12.2.3 AudioSampleEntry (version 0) with its configuration box.
fn audio_entry(w: &mut BoxWriter, t: &TrackPlan<'_>, a: &AudioConfig) -> Result<()> {
    let Some(ids) = a.codec.ids().mp4 else {
        bail!("{}", flv_only(a.codec.name()));
    };
    let sample_size = match a.codec {
        AudioCodec::Flac => flac::streaminfo_bytes(&a.specific)
            .and_then(flac::parse_streaminfo)
            .map_or(16, |i| u16::from(i.bits_per_sample)),
        AudioCodec::Aac | AudioCodec::Mp3 | AudioCodec::Opus => 16,
        AudioCodec::Ac3 | AudioCodec::Eac3 | AudioCodec::FlvOnly(_) => 16,
    };
    w.open(&ids.entry);
    w.zeros(6); // reserved
    w.u16(1); // data_reference_index
    w.zeros(8); // reserved
    w.u16(u16::from(a.channels)); // channelcount
    w.u16(sample_size); // samplesize
    w.zeros(4); // pre_defined, reserved
    // 16.16 fixed point; rates beyond 65535 Hz are signalled by the decoder configuration only.
    w.u32(if a.sample_rate <= 0xFFFF {
        a.sample_rate << 16
    } else {
        0
    });
    match audio_oti(a) {
        Some(oti) => esds(w, t, a, oti)?,
        None => {
            let body = audio_config_box(a)?;
            w.open(&ids.config);
            w.bytes(&body);
            w.close();
        }
    }
    w.close();
    Ok(())
}

/// Writes a descriptor header with the 4-byte length form ffmpeg writes (§8.3.3 sizeOfInstance).
fn descriptor(w: &mut BoxWriter, tag: u8, len: usize) -> Result<()> {
    if len >= 1 << 28 {
        bail!("mp4 esds: descriptor 0x{tag:02x} of {len} bytes is too long");
    }
    w.u8(tag);
    w.u8(0x80 | ((len >> 21) as u8 & 0x7F));
    w.u8(0x80 | ((len >> 14) as u8 & 0x7F));
    w.u8(0x80 | ((len >> 7) as u8 & 0x7F));
    w.u8((len as u8) & 0x7F);
    Ok(())
}

/// ISO/IEC 14496-14 §5.6 ES descriptor box.
fn esds(w: &mut BoxWriter, t: &TrackPlan<'_>, a: &AudioConfig, oti: u8) -> Result<()> {
    let ix = t.index;
    let specific_len = if a.specific.is_empty() {
        0
    } else {
        5 + a.specific.len()
    };
    let decoder_config_len = 13 + specific_len;
    let sl_len = 5 + 1;
    let es_len = 3 + 5 + decoder_config_len + sl_len;

    // Bitrates from the samples: the busiest one-second window, and the mean over the media.
    let seconds_x_ts = t.timing.media_duration.max(1) as u128;
    let avg = (u128::from(ix.total_bytes) * 8 * u128::from(t.timing.timescale)) / seconds_x_ts;
    let avg_bitrate = u32::try_from(avg).unwrap_or(u32::MAX);
    let max_bitrate = u32::try_from(ix.max_window_bytes.saturating_mul(8)).unwrap_or(u32::MAX);

    w.open_full(b"esds", 0, 0);
    descriptor(w, ES_DESCR_TAG, es_len)?;
    w.u16(t.id as u16); // ES_ID
    w.u8(0); // no stream dependence, URL or OCR stream
    descriptor(w, DECODER_CONFIG_DESCR_TAG, decoder_config_len)?;
    w.u8(oti);
    w.u8(STREAM_TYPE_AUDIO);
    w.u24(ix.max_size.min(0xFF_FFFF)); // bufferSizeDB
    w.u32(max_bitrate.max(avg_bitrate));
    w.u32(avg_bitrate);
    if !a.specific.is_empty() {
        descriptor(w, DEC_SPECIFIC_INFO_TAG, a.specific.len())?;
        w.bytes(&a.specific);
    }
    descriptor(w, SL_CONFIG_DESCR_TAG, 1)?;
    w.u8(0x02); // predefined: reserved for use in MP4 files
    w.close();
    Ok(())
}

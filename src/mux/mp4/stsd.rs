//! Sample descriptions (ISO/IEC 14496-12 §8.5.2): `avc1`/`hvc1` visual entries carrying the
//! source's decoder configuration record as `avcC`/`hvcC` (ISO/IEC 14496-15 §5.3.4, §8.4.1),
//! and the `mp4a` audio entry with its `esds` (ISO/IEC 14496-14 §5.6, descriptors from
//! ISO/IEC 14496-1 §7.2.6) carrying the AudioSpecificConfig bytes. Nothing is rebuilt.

use anyhow::{Result, bail};

use super::bmff::BoxWriter;
use super::plan::{Entry, TrackPlan};
use crate::media::{AudioCodec, AudioConfig, CodecConfig, VideoCodec, VideoConfig};

/// ISO/IEC 14496-1 §7.2.2.1 descriptor tags.
const ES_DESCR_TAG: u8 = 0x03;
const DECODER_CONFIG_DESCR_TAG: u8 = 0x04;
const DEC_SPECIFIC_INFO_TAG: u8 = 0x05;
const SL_CONFIG_DESCR_TAG: u8 = 0x06;

/// objectTypeIndication values (ISO/IEC 14496-1 Table 5, the MP4 registration authority).
const OTI_AAC: u8 = 0x40; // ISO/IEC 14496-3 Audio
const OTI_MPEG1_AUDIO: u8 = 0x6B; // ISO/IEC 11172-3, MP3 at 32/44.1/48 kHz
const OTI_MPEG2_AUDIO: u8 = 0x69; // ISO/IEC 13818-3, MP3 at the half rates (as ffmpeg chooses)

/// streamType AudioStream (0x05) << 2 | upStream 0 | reserved 1.
const STREAM_TYPE_AUDIO: u8 = 0x15;

pub fn write_stsd(w: &mut BoxWriter, t: &TrackPlan<'_>) -> Result<()> {
    w.open_full(b"stsd", 0, 0);
    w.u32(1); // entry_count
    match t.entry {
        Entry::Video(v) => visual_entry(w, v)?,
        Entry::Audio(a) => audio_entry(w, t, a)?,
    }
    w.close();
    Ok(())
}

/// The sample entry and configuration box of a video codec; `None` where this writer has no
/// sample entry for it yet.
fn video_boxes(codec: VideoCodec) -> Option<(&'static [u8; 4], &'static [u8; 4])> {
    match codec {
        VideoCodec::H264 => Some((b"avc1", b"avcC")),
        VideoCodec::Hevc => Some((b"hvc1", b"hvcC")),
        VideoCodec::Av1 | VideoCodec::Vp9 => None,
    }
}

/// The `esds` objectTypeIndication of an audio codec; `None` where this writer has no sample
/// entry for it yet.
fn audio_oti(a: &AudioConfig) -> Option<u8> {
    match a.codec {
        AudioCodec::Aac => Some(OTI_AAC),
        AudioCodec::Mp3 if a.sample_rate > 24_000 => Some(OTI_MPEG1_AUDIO),
        AudioCodec::Mp3 => Some(OTI_MPEG2_AUDIO),
        AudioCodec::Opus | AudioCodec::Flac | AudioCodec::Ac3 | AudioCodec::Eac3 => None,
    }
}

/// Refuses, before anything is written, a configuration with a codec this writer has no
/// sample entry for.
pub fn check_carried(config: &CodecConfig) -> Result<()> {
    if let Some(v) = &config.video
        && video_boxes(v.codec).is_none()
    {
        bail!(
            "mp4: {} video cannot be written to MP4 yet (no sample entry for it)",
            v.codec.name()
        );
    }
    if let Some(a) = &config.audio
        && audio_oti(a).is_none()
    {
        bail!(
            "mp4: {} audio cannot be written to MP4 yet (no sample entry for it)",
            a.codec.name()
        );
    }
    Ok(())
}

/// §12.1.3 VisualSampleEntry.
fn visual_entry(w: &mut BoxWriter, v: &VideoConfig) -> Result<()> {
    let Some((entry, config)) = video_boxes(v.codec) else {
        bail!("mp4: no sample entry for {} video", v.codec.name());
    };
    w.open(entry);
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
    w.open(config);
    w.bytes(&v.record);
    w.close();
    w.close();
    Ok(())
}

/// §12.2.3 AudioSampleEntry (version 0) with its `esds`.
fn audio_entry(w: &mut BoxWriter, t: &TrackPlan<'_>, a: &AudioConfig) -> Result<()> {
    w.open(b"mp4a");
    w.zeros(6); // reserved
    w.u16(1); // data_reference_index
    w.zeros(8); // reserved
    w.u16(u16::from(a.channels)); // channelcount
    w.u16(16); // samplesize
    w.zeros(4); // pre_defined, reserved
    // 16.16 fixed point; rates beyond 65535 Hz are signalled by the decoder configuration only.
    w.u32(if a.sample_rate <= 0xFFFF {
        a.sample_rate << 16
    } else {
        0
    });
    esds(w, t, a)?;
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
fn esds(w: &mut BoxWriter, t: &TrackPlan<'_>, a: &AudioConfig) -> Result<()> {
    let ix = t.index;
    let Some(oti) = audio_oti(a) else {
        bail!("mp4: no sample entry for {} audio", a.codec.name());
    };
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

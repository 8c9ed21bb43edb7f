//! AAC: AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1, GASpecificConfig §4.4.1,
//! program_config_element §4.4.1.1) and the ADTS header (§1.A.2.2) that MPEG-TS carriage needs.
//!
//! SBR (HE-AAC) and PS (HE-AACv2) are recognised in both explicit forms: hierarchical
//! (audioObjectType 5 or 29 first, then the core type) and backward compatible (the core config
//! followed by the 0x2B7 sync extension, as FFmpeg writes it). Implicit signalling, where only
//! the raw data reveals SBR, cannot be seen here; FFmpeg finds it by decoding, so for such
//! streams ffprobe reports twice the rate this parser returns.

use super::CodecError;
use super::bits::BitReader;
use crate::media::{AudioCodec, AudioConfig};

const ASC: &str = "AudioSpecificConfig";

/// Sampling frequencies by samplingFrequencyIndex (§1.6.3.4, Table 1.18); 13 and 14 reserved.
const SAMPLE_RATES: [u32; 13] = [
    96000, // 0
    88200, // 1
    64000, // 2
    48000, // 3
    44100, // 4
    32000, // 5
    24000, // 6
    22050, // 7
    16000, // 8
    12000, // 9
    11025, // 10
    8000,  // 11
    7350,  // 12
];

/// Output channels by channelConfiguration, as FFmpeg counts them (`ff_mpeg4audio_channels`);
/// 0 means a program_config_element says.
const CHANNELS: [u8; 15] = [
    0,  // 0: defined by a program_config_element
    1,  // 1: C
    2,  // 2: L R
    3,  // 3: C L R
    4,  // 4: C L R Cs
    5,  // 5: C L R Ls Rs
    6,  // 6: 5.1
    8,  // 7: 7.1
    0,  // 8: reserved
    0,  // 9: reserved
    0,  // 10: reserved
    7,  // 11: 6.1
    8,  // 12: 7.1 rear
    24, // 13: 22.2
    8,  // 14: 7.1 top
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AscInfo {
    /// audioObjectType as signalled (2 = AAC LC, 5 = SBR/HE-AAC, 29 = PS/HE-AACv2). SBR or PS
    /// found in a backward-compatible sync extension also report 5 or 29 here.
    pub object_type: u8,
    /// The core coder's audioObjectType (2 for HE-AAC over LC): what ADTS can carry.
    pub(crate) core_object_type: u8,
    /// The core coder's samplingFrequencyIndex; 15 when the rate was explicit.
    pub(crate) sampling_frequency_index: u8,
    /// The core coder's sample rate.
    pub(crate) core_sample_rate: u32,
    /// Sample rate as ffprobe reports it (the core rate; HE-AAC's extension rate when signalled).
    pub(crate) sample_rate: u32,
    pub(crate) channel_configuration: u8,
    /// Channels as ffprobe reports them (PS mono decodes to stereo).
    pub(crate) channels: u8,
    pub(crate) sbr: bool,
    pub(crate) ps: bool,
    /// Samples per frame of the core coder: 1024, or 960 with frameLengthFlag.
    pub(crate) frame_length: u32,
}

/// Parses an AudioSpecificConfig. The fields after the core configuration (GASpecificConfig,
/// the sync extension) are optional: when they are cut short, what was read before stands.
pub fn parse_asc(asc: &[u8]) -> Result<AscInfo, CodecError> {
    let mut r = BitReader::new(ASC, asc);
    let signalled = read_object_type(&mut r)?;
    let (sampling_frequency_index, core_sample_rate) = read_sample_rate(&mut r)?;
    let channel_configuration = r.bits(4, "channelConfiguration")? as u8;
    let mut info = AscInfo {
        object_type: signalled,
        core_object_type: signalled,
        sampling_frequency_index,
        core_sample_rate,
        sample_rate: core_sample_rate,
        channel_configuration,
        channels: CHANNELS
            .get(usize::from(channel_configuration))
            .copied()
            .unwrap_or(0),
        sbr: false,
        ps: false,
        frame_length: 1024,
    };
    if signalled == 5 || signalled == 29 {
        // Hierarchical signalling: the extension's rate, then the core's object type.
        info.sbr = true;
        info.ps = signalled == 29;
        info.sample_rate = read_sample_rate(&mut r)?.1;
        info.core_object_type = read_object_type(&mut r)?;
        if info.core_object_type == 22 {
            r.bits(4, "extensionChannelConfiguration")?;
        }
    }
    // What follows only refines the answer; a record cut here is still usable.
    if matches!(info.core_object_type, 1..=4 | 6 | 7 | 17 | 19..=23) {
        if read_ga_specific(&mut r, &mut info).is_err() {
            return Ok(finish(info));
        }
        if !info.sbr && r.remaining() >= 16 {
            let _ = read_sync_extension(&mut r, &mut info);
        }
    }
    Ok(finish(info))
}

/// What the decoder makes of the signalled tools: PS decodes mono to stereo.
fn finish(mut info: AscInfo) -> AscInfo {
    if info.ps && info.channels == 1 {
        info.channels = 2;
    }
    if info.ps {
        info.object_type = 29;
    } else if info.sbr {
        info.object_type = 5;
    }
    info
}

/// GASpecificConfig (§4.4.1): frame length, and the channel count of a program_config_element.
fn read_ga_specific(r: &mut BitReader<'_>, info: &mut AscInfo) -> Result<(), CodecError> {
    if r.bit("frameLengthFlag")? {
        info.frame_length = 960;
    }
    if r.bit("dependsOnCoreCoder")? {
        r.skip(14, "coreCoderDelay")?;
    }
    let extension_flag = r.bit("extensionFlag")?;
    if info.channel_configuration == 0 {
        info.channels = read_pce_channels(r)?;
    }
    if matches!(info.core_object_type, 6 | 20) {
        r.skip(3, "layerNr")?;
    }
    if extension_flag {
        if info.core_object_type == 22 {
            r.skip(16, "numOfSubFrame")?;
        }
        if matches!(info.core_object_type, 17 | 19 | 20 | 23) {
            r.skip(3, "aacSectionDataResilienceFlag")?;
        }
        r.skip(1, "extensionFlag3")?;
    }
    Ok(())
}

/// program_config_element() (§4.4.1.1): the number of output channels it describes.
fn read_pce_channels(r: &mut BitReader<'_>) -> Result<u8, CodecError> {
    r.skip(4 + 2 + 4, "element_instance_tag")?;
    let front = r.bits(4, "num_front_channel_elements")?;
    let side = r.bits(4, "num_side_channel_elements")?;
    let back = r.bits(4, "num_back_channel_elements")?;
    let lfe = r.bits(2, "num_lfe_channel_elements")?;
    let assoc = r.bits(3, "num_assoc_data_elements")?;
    let cc = r.bits(4, "num_valid_cc_elements")?;
    if r.bit("mono_mixdown_present")? {
        r.skip(4, "mono_mixdown_element_number")?;
    }
    if r.bit("stereo_mixdown_present")? {
        r.skip(4, "stereo_mixdown_element_number")?;
    }
    if r.bit("matrix_mixdown_idx_present")? {
        r.skip(3, "matrix_mixdown_idx")?;
    }
    let mut channels = 0u32;
    for _ in 0..front + side + back {
        channels += if r.bit("is_cpe")? { 2 } else { 1 };
        r.skip(4, "element_tag_select")?;
    }
    channels += lfe;
    r.skip(
        4 * (lfe + assoc) as usize + 5 * cc as usize,
        "element_tag_select",
    )?;
    // byte_alignment() is relative to the start of the AudioSpecificConfig.
    let pad = (8 - r.position() % 8) % 8;
    r.skip(pad, "byte_alignment")?;
    let comment_bytes = r.bits(8, "comment_field_bytes")?;
    r.skip(comment_bytes as usize * 8, "comment_field_data")?;
    Ok(channels.min(u32::from(u8::MAX)) as u8)
}

/// The backward-compatible SBR/PS signalling after the core configuration (§1.6.5.2,
/// syncExtensionType 0x2B7 then 0x548).
fn read_sync_extension(r: &mut BitReader<'_>, info: &mut AscInfo) -> Result<(), CodecError> {
    if r.bits(11, "syncExtensionType")? != 0x2b7 {
        return Ok(());
    }
    if read_object_type(r)? != 5 {
        return Ok(());
    }
    if !r.bit("sbrPresentFlag")? {
        return Ok(());
    }
    let (_, ext_rate) = read_sample_rate(r)?;
    // FFmpeg ignores an SBR extension at the core rate.
    if ext_rate != info.core_sample_rate {
        info.sbr = true;
        info.sample_rate = ext_rate;
    }
    if r.remaining() >= 12 && r.bits(11, "syncExtensionType")? == 0x548 {
        info.ps = r.bit("psPresentFlag")?;
    }
    Ok(())
}

/// GetAudioObjectType() (§1.6.2.1): 5 bits, 31 escapes to 32 + 6 bits.
fn read_object_type(r: &mut BitReader<'_>) -> Result<u8, CodecError> {
    let t = r.bits(5, "audioObjectType")? as u8;
    if t == 31 {
        Ok(32 + r.bits(6, "audioObjectTypeExt")? as u8)
    } else {
        Ok(t)
    }
}

/// samplingFrequencyIndex, and the explicit 24-bit samplingFrequency after index 15.
fn read_sample_rate(r: &mut BitReader<'_>) -> Result<(u8, u32), CodecError> {
    let index = r.bits(4, "samplingFrequencyIndex")? as u8;
    if index == 15 {
        let rate = r.bits(24, "samplingFrequency")?;
        if rate == 0 {
            return Err(CodecError::new(ASC, "samplingFrequency", "explicit rate 0"));
        }
        return Ok((15, rate));
    }
    SAMPLE_RATES
        .get(usize::from(index))
        .map(|&rate| (index, rate))
        .ok_or_else(|| {
            CodecError::new(
                ASC,
                "samplingFrequencyIndex",
                format!("reserved value {index}"),
            )
        })
}

/// Largest raw AAC frame an ADTS header can describe (13-bit aac_frame_length minus the header).
pub(crate) const MAX_ADTS_PAYLOAD: usize = 8191 - 7;

/// The 7-byte ADTS header (no CRC) for one raw AAC frame of `payload_len` bytes.
///
/// ADTS has a 2-bit profile (= audioObjectType − 1), so only Main, LC, SSR and LTP are
/// representable: HE-AAC and HE-AACv2 are written as their core (LC) at the core sample rate,
/// and decoders find SBR/PS in the raw data (implicit signalling, as ISO/IEC 14496-3 §1.6.5.2
/// allows). An explicit rate without an index is written as the nearest standard index.
/// ADTS has no room for channelConfiguration above 7: they are written as 0 (PCE in the data).
/// A payload over [`MAX_ADTS_PAYLOAD`] cannot be described: the length saturates; use
/// [`adts_header_checked`] to refuse it.
pub(crate) fn adts_header(asc: &AscInfo, payload_len: usize) -> [u8; 7] {
    let frame_len = (payload_len.min(MAX_ADTS_PAYLOAD) + 7) as u32;
    let profile = u32::from(asc.core_object_type.clamp(1, 4) - 1);
    let index = u32::from(adts_sampling_index(asc));
    let channels = if asc.channel_configuration <= 7 {
        u32::from(asc.channel_configuration)
    } else {
        0
    };
    let fullness = 0x7ffu32; // variable bit rate
    [
        0xff,                                                    // syncword (12 bits)
        0xf1, // syncword, ID 0 (MPEG-4), layer 00, protection_absent 1
        ((profile << 6) | (index << 2) | (channels >> 2)) as u8, // profile, sf index, private, chan
        (((channels & 3) << 6) | (frame_len >> 11)) as u8, // chan, orig, home, copyright, length
        ((frame_len >> 3) & 0xff) as u8, // aac_frame_length
        (((frame_len & 7) << 5) | (fullness >> 6)) as u8, // length, buffer fullness
        (((fullness & 0x3f) << 2) as u8), // fullness, number_of_raw_data_blocks_in_frame 0
    ]
}

/// [`adts_header`], refusing payloads that ADTS cannot describe.
pub fn adts_header_checked(asc: &AscInfo, payload_len: usize) -> Result<[u8; 7], CodecError> {
    if payload_len > MAX_ADTS_PAYLOAD {
        return Err(CodecError::new(
            "adts_fixed_header",
            "aac_frame_length",
            format!("raw frame of {payload_len} bytes exceeds the {MAX_ADTS_PAYLOAD} ADTS allows"),
        ));
    }
    Ok(adts_header(asc, payload_len))
}

/// The core samplingFrequencyIndex, or for an explicit rate the index of the nearest table rate.
fn adts_sampling_index(asc: &AscInfo) -> u8 {
    if asc.sampling_frequency_index < 13 {
        return asc.sampling_frequency_index;
    }
    let mut best = 0u8;
    for (i, &rate) in SAMPLE_RATES.iter().enumerate() {
        let d = rate.abs_diff(asc.core_sample_rate);
        if d < SAMPLE_RATES[usize::from(best)].abs_diff(asc.core_sample_rate) {
            best = i as u8;
        }
    }
    best
}

/// ffprobe's profile name for a signalled audioObjectType ("LC", "HE-AAC", "HE-AACv2", "Main",
/// …), following FFmpeg's `ff_aac_profiles`; "unknown" for types it has no name for.
pub fn profile_name(object_type: u8) -> &'static str {
    match object_type {
        1 => "Main",
        2 => "LC",
        3 => "SSR",
        4 => "LTP",
        5 => "HE-AAC",
        23 => "LD",
        29 => "HE-AACv2",
        39 => "ELD",
        _ => "unknown",
    }
}

/// FLV AUDIODATA first byte for AAC (SoundFormat 10, rate index 3, 16-bit, stereo): what FLV
/// always signals for AAC, whatever the real rate and channels (the ASC carries them).
pub(crate) const FLV_SOUND_BYTE: u8 = 0xAF;

/// An AAC track's configuration: the AudioSpecificConfig as the source sent it, with the rate
/// and channels the caller read from it (or from its container, where it does not parse).
pub(crate) fn audio_config(asc: Vec<u8>, sample_rate: u32, channels: u8) -> AudioConfig {
    AudioConfig {
        codec: AudioCodec::Aac,
        specific: asc,
        sample_rate,
        channels,
        flv_sound_byte: FLV_SOUND_BYTE,
        flv_track: None,
    }
}

#[cfg(test)]
mod tests;

//! MPEG audio layer III frame header (ISO/IEC 11172-3 §2.4.1.3 for MPEG-1, ISO/IEC 13818-3
//! §2.4.1.3 for the MPEG-2 low sampling frequencies, and the unofficial MPEG-2.5 extension).

use super::CodecError;
use super::ids::{SOUND_FORMAT_MP3, SOUND_FORMAT_MP3_8K};
use crate::container::flv::SOUND_SIZE_16_BIT;
use crate::media::{AudioCodec, AudioConfig};

const HEADER: &str = "MPEG audio frame header";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MpegVersion {
    Mpeg1,
    Mpeg2,
    /// Not an ISO version: the 8 / 11.025 / 12 kHz extension most decoders accept.
    Mpeg25,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mp3Header {
    pub(crate) version: MpegVersion,
    pub(crate) sample_rate: u32,
    pub(crate) channels: u8,
    /// 0 for free-format streams.
    pub(crate) bitrate_kbps: u32,
    pub(crate) samples_per_frame: u32,
    /// Bytes of the whole frame, header included; `None` for free format.
    pub(crate) frame_len: Option<u32>,
}

/// Layer III bit rates in kbit/s by bitrate_index (0 = free format, 15 = forbidden).
const BITRATES_V1: [u32; 15] = [
    0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
];
const BITRATES_V2: [u32; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

/// MPEG-1 sampling frequencies by sampling_frequency index; MPEG-2 halves, MPEG-2.5 quarters.
const RATES_V1: [u32; 3] = [44100, 48000, 32000];

/// Parses the 4-byte header at the start of `frame`.
pub fn parse_header(frame: &[u8]) -> Result<Mp3Header, CodecError> {
    let Some(&[b0, b1, b2, b3]) = frame.first_chunk::<4>() else {
        return Err(CodecError::new(HEADER, "header", "shorter than 4 bytes"));
    };
    if b0 != 0xff || b1 & 0xe0 != 0xe0 {
        return Err(CodecError::new(
            HEADER,
            "syncword",
            "missing 11-bit frame sync",
        ));
    }
    let version = match (b1 >> 3) & 3 {
        0 => MpegVersion::Mpeg25,
        2 => MpegVersion::Mpeg2,
        3 => MpegVersion::Mpeg1,
        _ => return Err(CodecError::new(HEADER, "ID", "reserved version")),
    };
    let layer = (b1 >> 1) & 3;
    if layer != 1 {
        let what = ["reserved value 0", "", "layer II", "layer I"][usize::from(layer)];
        return Err(CodecError::new(
            HEADER,
            "layer",
            format!("{what}, not layer III"),
        ));
    }
    let bitrate_index = usize::from(b2 >> 4);
    let table = if version == MpegVersion::Mpeg1 {
        &BITRATES_V1
    } else {
        &BITRATES_V2
    };
    let bitrate_kbps = *table
        .get(bitrate_index)
        .ok_or_else(|| CodecError::new(HEADER, "bitrate_index", "forbidden value 15"))?;
    let base_rate = *RATES_V1
        .get(usize::from((b2 >> 2) & 3))
        .ok_or_else(|| CodecError::new(HEADER, "sampling_frequency", "reserved value 3"))?;
    let sample_rate = match version {
        MpegVersion::Mpeg1 => base_rate,
        MpegVersion::Mpeg2 => base_rate / 2,
        MpegVersion::Mpeg25 => base_rate / 4,
    };
    let padding = u32::from((b2 >> 1) & 1);
    let channels = if b3 >> 6 == 3 { 1 } else { 2 };
    let samples_per_frame = if version == MpegVersion::Mpeg1 {
        1152
    } else {
        576
    };
    // Frame bytes = samples / 8 × bit rate / sample rate + padding (one slot of 1 byte).
    let frame_len = (bitrate_kbps > 0)
        .then(|| samples_per_frame / 8 * bitrate_kbps * 1000 / sample_rate + padding);
    Ok(Mp3Header {
        version,
        sample_rate,
        channels,
        bitrate_kbps,
        samples_per_frame,
        frame_len,
    })
}

/// An MP3 track's configuration from a rate and channel count (refined later from the first
/// frame): MP3 has no configuration record.
pub(crate) fn audio_config(sample_rate: u32, channels: u8) -> AudioConfig {
    AudioConfig {
        codec: AudioCodec::Mp3,
        specific: Vec::new(),
        sample_rate,
        channels,
        flv_sound_byte: flv_sound_byte(sample_rate, channels),
        flv_track: None,
    }
}

/// The FLV AUDIODATA byte an FLV muxer writes for MP3 (Adobe FLV spec E.4.2.1): SoundFormat 2
/// (14 for "MP3 8 kHz"), the nearest SoundRate index of 5.5/11/22/44 kHz, 16-bit, mono/stereo.
pub(crate) fn flv_sound_byte(sample_rate: u32, channels: u8) -> u8 {
    let format = if sample_rate == 8000 {
        SOUND_FORMAT_MP3_8K
    } else {
        SOUND_FORMAT_MP3
    };
    let rate_index: u8 = match sample_rate {
        0..=8_250 => 0,
        8_251..=16_537 => 1,
        16_538..=33_075 => 2,
        _ => 3,
    };
    (format << 4) | (rate_index << 2) | SOUND_SIZE_16_BIT | u8::from(channels >= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mp3_sound_bytes_follow_flv() {
        assert_eq!(flv_sound_byte(44_100, 2), 0x2F);
        assert_eq!(flv_sound_byte(48_000, 1), 0x2E);
        assert_eq!(flv_sound_byte(22_050, 2), 0x2B);
        assert_eq!(flv_sound_byte(11_025, 1), 0x26);
        assert_eq!(flv_sound_byte(8_000, 1), 0xE2);
    }

    #[test]
    fn common_headers() {
        // MPEG-1 layer III, 128 kbit/s, 44.1 kHz, joint stereo, no padding: 417 bytes.
        let h = parse_header(&[0xff, 0xfb, 0x90, 0x64]).unwrap();
        assert_eq!(
            h,
            Mp3Header {
                version: MpegVersion::Mpeg1,
                sample_rate: 44100,
                channels: 2,
                bitrate_kbps: 128,
                samples_per_frame: 1152,
                frame_len: Some(417),
            }
        );
        // MPEG-2 layer III, 64 kbit/s, 22.05 kHz, mono, padded: 209 bytes.
        let h = parse_header(&[0xff, 0xf3, 0x82, 0xc4]).unwrap();
        assert_eq!(
            (h.version, h.sample_rate, h.channels),
            (MpegVersion::Mpeg2, 22050, 1)
        );
        assert_eq!(
            (h.bitrate_kbps, h.samples_per_frame, h.frame_len),
            (64, 576, Some(209))
        );
        // MPEG-2.5, 8 kbit/s, 8 kHz (index 2 of 32 kHz / 4).
        let h = parse_header(&[0xff, 0xe3, 0x18, 0xc0]).unwrap();
        assert_eq!(
            (h.version, h.sample_rate, h.bitrate_kbps),
            (MpegVersion::Mpeg25, 8000, 8)
        );
        // Free format.
        let h = parse_header(&[0xff, 0xfb, 0x00, 0x00]).unwrap();
        assert_eq!((h.bitrate_kbps, h.frame_len), (0, None));
    }

    #[test]
    fn errors_name_the_field() {
        let field = |b: &[u8]| parse_header(b).unwrap_err().field;
        assert_eq!(field(&[0xff, 0xfb, 0x90]), "header");
        assert_eq!(field(&[0xfe, 0xfb, 0x90, 0]), "syncword");
        assert_eq!(field(&[0xff, 0xeb, 0x90, 0]), "ID");
        assert_eq!(field(&[0xff, 0xfd, 0x90, 0]), "layer");
        assert_eq!(field(&[0xff, 0xfb, 0xf0, 0]), "bitrate_index");
        assert_eq!(field(&[0xff, 0xfb, 0x9c, 0]), "sampling_frequency");
        for a in 0..=255u8 {
            for b in [0u8, 0x55, 0xaa, 0xff] {
                let _ = parse_header(&[0xff, a, b, b]);
                let _ = parse_header(&[0xff, 0xff, a, b]);
            }
        }
    }
}

//! Opus: the identification header `OpusHead` (RFC 7845 §5.1, little-endian), which is the
//! body of an Enhanced RTMP `Opus` SequenceStart and FFmpeg's extradata, and the MP4 `dOps`
//! box (Encapsulation of Opus in ISOBMFF §4.3.2, big-endian, no magic).
//!
//! The two carry the same fields, so each is rebuilt from the other: MP4 writes a `dOps`
//! derived from the source's `OpusHead` (a rebuilt configuration, as FFmpeg's MP4 muxer does),
//! and the MP4 reader turns a `dOps` back into the `OpusHead` the session carries.

use super::CodecError;
use super::bits::ByteReader;

const MAGIC: &[u8; 8] = b"OpusHead";

/// One form of the header: the name errors give it, its byte order and its fields' names as
/// its specification spells them. The fields after the version are the same in both.
struct Form {
    what: &'static str,
    little_endian: bool,
    channels: &'static str,
    pre_skip: &'static str,
    input_sample_rate: &'static str,
    output_gain: &'static str,
    mapping_family: &'static str,
}

/// RFC 7845 §5.1: little-endian.
const HEAD: Form = Form {
    what: "OpusHead",
    little_endian: true,
    channels: "channel_count",
    pre_skip: "pre_skip",
    input_sample_rate: "input_sample_rate",
    output_gain: "output_gain",
    mapping_family: "channel_mapping_family",
};

/// Encapsulation of Opus in ISOBMFF §4.3.2: big-endian.
const DOPS: Form = Form {
    what: "OpusSpecificBox",
    little_endian: false,
    channels: "OutputChannelCount",
    pre_skip: "PreSkip",
    input_sample_rate: "InputSampleRate",
    output_gain: "OutputGain",
    mapping_family: "ChannelMappingFamily",
};

/// The fields of an identification header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpusConfig {
    pub(crate) channels: u8,
    /// Samples at 48 kHz to discard from the decoder output at the start.
    pub(crate) pre_skip: u16,
    /// The original input's rate (informational; Opus always decodes at 48 kHz).
    pub(crate) input_sample_rate: u32,
    /// Q7.8 dB.
    pub(crate) output_gain: i16,
    pub(crate) mapping_family: u8,
    /// stream count, coupled count and one entry per channel; `None` for family 0.
    pub(crate) mapping: Option<ChannelMapping>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ChannelMapping {
    pub(crate) stream_count: u8,
    pub(crate) coupled_count: u8,
    pub(crate) channel_mapping: Vec<u8>,
}

/// Opus decodes at 48 kHz whatever the input rate was (RFC 7845 §5.1): ffprobe's sample_rate.
pub(crate) const DECODE_RATE: u32 = 48_000;

/// Parses an `OpusHead` packet (magic, version 1, little-endian fields).
pub fn parse_opus_head(data: &[u8]) -> Result<OpusConfig, CodecError> {
    let mut r = ByteReader::new(HEAD.what, data);
    if r.take(8, "magic")? != MAGIC {
        return Err(CodecError::new(HEAD.what, "magic", "not \"OpusHead\""));
    }
    let version = r.u8("version")?;
    // RFC 7845 §5.1: a major version (upper nibble) other than 0 is incompatible.
    if version >> 4 != 0 {
        return Err(r.err("version", format!("{version}, major version not 0")));
    }
    HEAD.parse_fields(r)
}

/// Parses a `dOps` body (Version 0, big-endian fields).
pub fn parse_dops(data: &[u8]) -> Result<OpusConfig, CodecError> {
    let mut r = ByteReader::new(DOPS.what, data);
    let version = r.u8("Version")?;
    if version != 0 {
        return Err(r.err("Version", format!("{version}, only 0 is defined")));
    }
    DOPS.parse_fields(r)
}

impl Form {
    /// The fields after the version, then the channel mapping table that follows a non-zero
    /// family.
    fn parse_fields(&self, mut r: ByteReader<'_>) -> Result<OpusConfig, CodecError> {
        let channels = r.u8(self.channels)?;
        let pre_skip = self.u16(&mut r, self.pre_skip)?;
        let input_sample_rate = self.u32(&mut r, self.input_sample_rate)?;
        let output_gain = self.u16(&mut r, self.output_gain)? as i16;
        let mapping_family = r.u8(self.mapping_family)?;
        if channels == 0 {
            return Err(r.err("channel_count", "0 channels"));
        }
        let mapping = if mapping_family == 0 {
            if channels > 2 {
                return Err(r.err("channel_count", format!("{channels} with mapping family 0")));
            }
            None
        } else {
            Some(parse_mapping(&mut r, channels)?)
        };
        Ok(OpusConfig {
            channels,
            pre_skip,
            input_sample_rate,
            output_gain,
            mapping_family,
            mapping,
        })
    }

    fn u16(&self, r: &mut ByteReader<'_>, field: &'static str) -> Result<u16, CodecError> {
        if self.little_endian {
            r.u16_le(field)
        } else {
            r.u16(field)
        }
    }

    fn u32(&self, r: &mut ByteReader<'_>, field: &'static str) -> Result<u32, CodecError> {
        if self.little_endian {
            r.u32_le(field)
        } else {
            r.u32(field)
        }
    }
}

/// The channel mapping table, the same in both forms.
fn parse_mapping(r: &mut ByteReader<'_>, channels: u8) -> Result<ChannelMapping, CodecError> {
    let stream_count = r.u8("stream_count")?;
    let coupled_count = r.u8("coupled_count")?;
    if stream_count == 0 || coupled_count > stream_count {
        return Err(r.err(
            "coupled_count",
            format!("{coupled_count} coupled of {stream_count} streams"),
        ));
    }
    let channel_mapping = r.take(usize::from(channels), "channel_mapping")?.to_vec();
    Ok(ChannelMapping {
        stream_count,
        coupled_count,
        channel_mapping,
    })
}

impl OpusConfig {
    /// The `OpusHead` form (version 1), as FFmpeg and E-RTMP carry it.
    pub fn to_opus_head(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.push(1); // version
        out.push(self.channels);
        out.extend(self.pre_skip.to_le_bytes());
        out.extend(self.input_sample_rate.to_le_bytes());
        out.extend(self.output_gain.to_le_bytes());
        out.push(self.mapping_family);
        self.push_mapping(&mut out);
        out
    }

    /// The `dOps` body (Opus in ISOBMFF §4.3.2).
    pub fn to_dops(&self) -> Vec<u8> {
        let mut out = vec![0, self.channels]; // Version, OutputChannelCount
        out.extend(self.pre_skip.to_be_bytes()); // PreSkip
        out.extend(self.input_sample_rate.to_be_bytes()); // InputSampleRate
        out.extend(self.output_gain.to_be_bytes()); // OutputGain
        out.push(self.mapping_family); // ChannelMappingFamily
        self.push_mapping(&mut out);
        out
    }

    fn push_mapping(&self, out: &mut Vec<u8>) {
        if let Some(m) = &self.mapping {
            out.push(m.stream_count);
            out.push(m.coupled_count);
            out.extend(&m.channel_mapping);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::testhex::hex;

    /// libopus extradata (FFmpeg 8) and the `dOps` bodies its MP4 muxer wrote for them.
    const HEAD_STEREO: &str = "4f707573486561640102380180bb0000000000";
    const DOPS_STEREO: &str = "000201380000bb80000000";
    const HEAD_51: &str = "4f707573486561640106380180bb00000000010402000401020305";
    const DOPS_51: &str = "000601380000bb800000010402000401020305";

    #[test]
    fn converts_both_ways_as_ffmpeg_does() {
        for (head, dops) in [(HEAD_STEREO, DOPS_STEREO), (HEAD_51, DOPS_51)] {
            let h = parse_opus_head(&hex(head)).unwrap();
            assert_eq!(h.to_dops(), hex(dops));
            let d = parse_dops(&hex(dops)).unwrap();
            assert_eq!(d, h);
            assert_eq!(d.to_opus_head(), hex(head));
        }
        let h = parse_opus_head(&hex(HEAD_51)).unwrap();
        assert_eq!(
            (h.channels, h.pre_skip, h.input_sample_rate),
            (6, 312, 48000)
        );
        let m = h.mapping.unwrap();
        assert_eq!((m.stream_count, m.coupled_count), (4, 2));
    }

    #[test]
    fn bad_headers_name_the_field() {
        assert_eq!(parse_opus_head(b"OpusHea").unwrap_err().field, "magic");
        assert_eq!(parse_opus_head(b"OpusTags\x01").unwrap_err().field, "magic");
        let mut v = hex(HEAD_STEREO);
        v[8] = 0x10;
        assert_eq!(parse_opus_head(&v).unwrap_err().field, "version");
        v[8] = 1;
        v[9] = 3; // three channels need a mapping table
        assert_eq!(parse_opus_head(&v).unwrap_err().field, "channel_count");
        let cut = hex(HEAD_51);
        assert_eq!(
            parse_opus_head(&cut[..cut.len() - 1]).unwrap_err().field,
            "channel_mapping"
        );
        assert_eq!(parse_dops(&[1]).unwrap_err().field, "Version");
        assert_eq!(parse_dops(&[0, 2, 1]).unwrap_err().field, "PreSkip");
    }
}

//! FLAC: the STREAMINFO metadata block (RFC 9639 §8.2), which FFmpeg keeps as its extradata and
//! an Enhanced RTMP `fLaC` SequenceStart carries, and the MP4 `dfLa` box (Encapsulation of FLAC
//! in ISOBMFF §3.3.2: a FullBox holding metadata blocks, STREAMINFO first).
//!
//! MP4 writes a `dfLa` derived from the source's STREAMINFO (a rebuilt configuration: the block
//! header is added, as FFmpeg's MP4 muxer does), and the MP4 reader takes the STREAMINFO back
//! out of a `dfLa`.

use super::CodecError;
use super::bits::{BitReader, ByteReader};

const STREAMINFO: &str = "METADATA_BLOCK_STREAMINFO";
const DFLA: &str = "FLACSpecificBox";

/// Bytes of a STREAMINFO block's data.
pub(crate) const STREAMINFO_LEN: usize = 34;
/// BLOCK_TYPE of STREAMINFO (RFC 9639 §8.1).
const BLOCK_STREAMINFO: u8 = 0;
/// The stream marker before the metadata blocks of a native FLAC stream.
const MARKER: &[u8; 4] = b"fLaC";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamInfo {
    pub(crate) min_block_size: u16,
    pub(crate) max_block_size: u16,
    pub(crate) sample_rate: u32,
    pub(crate) channels: u8,
    pub(crate) bits_per_sample: u8,
    /// 0 when unknown (a live encoder writes its header before the end).
    pub(crate) total_samples: u64,
}

/// Parses the 34 bytes of STREAMINFO data (without the metadata block header).
pub fn parse_streaminfo(data: &[u8]) -> Result<StreamInfo, CodecError> {
    let mut r = BitReader::new(STREAMINFO, data);
    let min_block_size = r.bits(16, "minimum block size")? as u16;
    let max_block_size = r.bits(16, "maximum block size")? as u16;
    r.skip(48, "minimum frame size")?; // + maximum frame size
    let sample_rate = r.bits(20, "sample rate")?;
    let channels = r.bits(3, "number of channels")? as u8 + 1;
    let bits_per_sample = r.bits(5, "bits per sample")? as u8 + 1;
    let total_samples = r.bits64(36, "total samples")?;
    r.skip(128, "MD5 checksum")?;
    if sample_rate == 0 {
        return Err(CodecError::new(STREAMINFO, "sample rate", "0"));
    }
    if min_block_size < 16 || max_block_size < min_block_size {
        return Err(CodecError::new(
            STREAMINFO,
            "minimum block size",
            format!("{min_block_size}..{max_block_size}"),
        ));
    }
    Ok(StreamInfo {
        min_block_size,
        max_block_size,
        sample_rate,
        channels,
        bits_per_sample,
        total_samples,
    })
}

/// The STREAMINFO data in a FLAC configuration as a source may send it: the 34 bytes alone
/// (FFmpeg's extradata, E-RTMP), or the `fLaC` marker and/or metadata blocks before it.
pub fn streaminfo_bytes(config: &[u8]) -> Result<&[u8], CodecError> {
    if config.len() == STREAMINFO_LEN {
        return Ok(config);
    }
    let blocks = config.strip_prefix(MARKER.as_slice()).unwrap_or(config);
    first_streaminfo(&mut ByteReader::new(STREAMINFO, blocks))
}

/// Reads a metadata block header and returns the STREAMINFO data it holds.
fn first_streaminfo<'a>(r: &mut ByteReader<'a>) -> Result<&'a [u8], CodecError> {
    let header = r.u8("BLOCK_TYPE")?;
    if header & 0x7f != BLOCK_STREAMINFO {
        return Err(r.err(
            "BLOCK_TYPE",
            format!("{}, STREAMINFO must come first", header & 0x7f),
        ));
    }
    let len = r.take(3, "length")?;
    let len = usize::from(len[0]) << 16 | usize::from(len[1]) << 8 | usize::from(len[2]);
    if len != STREAMINFO_LEN {
        return Err(r.err("length", format!("{len}, STREAMINFO is {STREAMINFO_LEN}")));
    }
    r.take(len, "STREAMINFO")
}

/// The STREAMINFO data of a `dfLa` body (version 0, flags, metadata blocks).
pub fn parse_dfla(data: &[u8]) -> Result<&[u8], CodecError> {
    let mut r = ByteReader::new(DFLA, data);
    let version = r.u8("version")?;
    if version != 0 {
        return Err(r.err("version", format!("{version}, only 0 is defined")));
    }
    r.take(3, "flags")?;
    first_streaminfo(&mut r)
}

/// The `dfLa` body for a STREAMINFO: version and flags 0, then STREAMINFO as the last metadata
/// block, as FFmpeg's MP4 muxer writes it.
pub fn dfla_from_streaminfo(streaminfo: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0, 0]; // version, flags
    out.push(0x80 | BLOCK_STREAMINFO); // last-metadata-block flag, BLOCK_TYPE
    let len = streaminfo.len() as u32;
    out.extend(&len.to_be_bytes()[1..]); // length (24 bits)
    out.extend(streaminfo);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::testhex::hex;

    /// STREAMINFO of FFmpeg 8's flac encoder (44.1 kHz stereo 16-bit) as its FLV muxer sent it,
    /// and the `dfLa` its MP4 muxer wrote (96 kHz mono 24-bit, totals filled in at the end).
    const FLV_STREAMINFO: &str =
        "12001200000000004a580ac442f00000000000000000000000000000000000000000";
    const DFLA_96K_MONO: &str = "0000000080000022200020000037310037311770017000001200\
                                 3af9a0516d3c62bd9cbd91162852eafc";

    #[test]
    fn reads_streaminfo_and_dfla() {
        let s = parse_streaminfo(&hex(FLV_STREAMINFO)).unwrap();
        assert_eq!(
            (s.sample_rate, s.channels, s.bits_per_sample),
            (44100, 2, 16)
        );
        assert_eq!((s.min_block_size, s.max_block_size), (4608, 4608));
        let dfla = hex(DFLA_96K_MONO);
        let info = parse_dfla(&dfla).unwrap();
        assert_eq!(dfla_from_streaminfo(info), dfla);
        let s = parse_streaminfo(info).unwrap();
        assert_eq!(
            (s.sample_rate, s.channels, s.bits_per_sample),
            (96000, 1, 24)
        );
        assert_eq!(s.total_samples, 0x1200);
        // The same STREAMINFO behind a stream marker and a block header.
        let mut native = b"fLaC".to_vec();
        native.extend(&dfla[4..]);
        assert_eq!(streaminfo_bytes(&native).unwrap(), info);
        assert_eq!(streaminfo_bytes(info).unwrap(), info);
    }

    #[test]
    fn bad_input_names_the_field() {
        let s = hex(FLV_STREAMINFO);
        assert_eq!(
            parse_streaminfo(&s[..17]).unwrap_err().field,
            "total samples"
        );
        let mut z = s.clone();
        z[10..12].fill(0);
        z[12] &= 0x0f;
        assert_eq!(parse_streaminfo(&z).unwrap_err().field, "sample rate");
        assert_eq!(parse_dfla(&[1, 0, 0, 0]).unwrap_err().field, "version");
        assert_eq!(
            parse_dfla(&[0, 0, 0, 0, 0x84]).unwrap_err().field,
            "BLOCK_TYPE"
        );
        assert_eq!(
            parse_dfla(&[0, 0, 0, 0, 0x80, 0, 0, 5]).unwrap_err().field,
            "length"
        );
        assert_eq!(streaminfo_bytes(b"fLaC").unwrap_err().field, "BLOCK_TYPE");
    }
}

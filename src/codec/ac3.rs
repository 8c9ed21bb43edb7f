//! AC-3 and E-AC-3: the syncframe header — AC-3 syncinfo() and bsi() (ATSC A/52 §5.4.1,
//! §5.4.2), E-AC-3 bsi() (A/52 Annex E §E.1.2.2) — and the MP4 configuration boxes `dac3`
//! (AC3SpecificBox, ETSI TS 102 366 §F.4) and `dec3` (EC3SpecificBox, §F.6).
//!
//! AC-3 carries no configuration of its own: every syncframe repeats it. Neither FLV (Enhanced
//! RTMP sends no SequenceStart body for `ac-3`/`ec-3`) nor MPEG-TS has a record, so the MP4
//! boxes are derived from the first access unit (a rebuilt configuration, field for field as
//! FFmpeg's MP4 muxer derives them), and the MP4 reader reads the boxes back.
//!
//! E-AC-3 channels are those of independent substream 0 (acmod and lfeon); the channels a
//! dependent substream adds are signalled in `dec3`'s chan_loc but not counted.

use super::CodecError;
use super::bits::BitReader;
use crate::media::AudioCodec;

const SYNCINFO: &str = "syncinfo";
const BSI: &str = "bsi";
const DAC3: &str = "AC3SpecificBox";
const DEC3: &str = "EC3SpecificBox";

/// syncword (A/52 §5.4.1.1).
pub(crate) const SYNCWORD: u16 = 0x0b77;

/// Sample rates by fscod (A/52 Table 5.6); E-AC-3's fscod2 (Table E.1.3) when fscod is 3.
const SAMPLE_RATES: [u32; 3] = [48000, 44100, 32000];
const SAMPLE_RATES_FSCOD2: [u32; 3] = [24000, 22050, 16000];

/// Nominal bit rates in kbit/s by frmsizecod / 2 (A/52 Table 5.18).
const BIT_RATES_KBPS: [u32; 19] = [
    32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640,
];

/// Full-bandwidth channels by acmod (A/52 Table 5.8): 1+1, 1/0, 2/0, 3/0, 2/1, 3/1, 2/2, 3/2.
const ACMOD_CHANNELS: [u8; 8] = [2, 1, 2, 3, 3, 4, 4, 5];

/// Audio blocks per syncframe by numblkscod (A/52 Table E.1.4).
const BLOCKS: [u8; 4] = [1, 2, 3, 6];

/// One syncframe's header fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncFrame {
    /// bsid 11..=16: E-AC-3 (Annex E); 0..=10: AC-3.
    pub(crate) eac3: bool,
    /// E-AC-3 strmtyp: 0 independent, 1 dependent, 2 independent (converted AC-3); 0 for AC-3.
    pub(crate) strmtyp: u8,
    pub(crate) substreamid: u8,
    /// Bytes of the whole syncframe.
    pub(crate) frame_len: usize,
    /// fscod; for E-AC-3 at the reduced rates, 3 (and [`SyncFrame::sample_rate`] says which).
    pub(crate) fscod: u8,
    pub(crate) sample_rate: u32,
    pub(crate) bsid: u8,
    /// bsmod (AC-3 only; 0 for E-AC-3, whose bsmod sits in the optional info metadata).
    pub(crate) bsmod: u8,
    pub(crate) acmod: u8,
    pub(crate) lfeon: bool,
    /// AC-3 frmsizecod; 0 for E-AC-3.
    pub(crate) frmsizecod: u8,
    pub(crate) num_blocks: u8,
    /// A dependent substream's chanmap, when chanmape is set.
    pub(crate) chanmap: Option<u16>,
}

impl SyncFrame {
    /// Channels as ffprobe counts them: acmod's full-bandwidth channels plus the LFE.
    pub fn channels(&self) -> u8 {
        ACMOD_CHANNELS[usize::from(self.acmod & 7)] + u8::from(self.lfeon)
    }

    /// Bit rate in kbit/s: AC-3's nominal rate; E-AC-3's from the frame size and duration.
    pub fn bit_rate_kbps(&self) -> u32 {
        if self.eac3 {
            let bits = self.frame_len as u64 * 8 * u64::from(self.sample_rate);
            (bits / (u64::from(self.num_blocks) * 256) / 1000) as u32
        } else {
            BIT_RATES_KBPS[usize::from(self.frmsizecod / 2)]
        }
    }
}

/// Parses the syncframe header at the start of `data`.
pub fn parse_syncframe(data: &[u8]) -> Result<SyncFrame, CodecError> {
    let mut r = BitReader::new(SYNCINFO, data);
    let sync = r.bits(16, "syncword")? as u16;
    if sync != SYNCWORD {
        return Err(CodecError::new(
            SYNCINFO,
            "syncword",
            format!("{sync:#06x}, expected {SYNCWORD:#06x}"),
        ));
    }
    let bsid = data.get(5).map(|b| b >> 3).ok_or_else(|| {
        CodecError::new(BSI, "bsid", format!("needs 6 bytes, {} given", data.len()))
    })?;
    match bsid {
        0..=10 => parse_ac3(&mut r, bsid),
        11..=16 => parse_eac3(&mut r, bsid),
        _ => Err(CodecError::new(BSI, "bsid", format!("{bsid}, above 16"))),
    }
}

/// AC-3 syncinfo() after the syncword, and bsi() up to lfeon (A/52 §5.3.1, §5.3.2).
fn parse_ac3(r: &mut BitReader<'_>, bsid: u8) -> Result<SyncFrame, CodecError> {
    r.skip(16, "crc1")?;
    let fscod = r.bits(2, "fscod")? as u8;
    let frmsizecod = r.bits(6, "frmsizecod")? as u8;
    let sample_rate = *SAMPLE_RATES
        .get(usize::from(fscod))
        .ok_or_else(|| CodecError::new(SYNCINFO, "fscod", "reserved value 3"))?;
    let kbps = *BIT_RATES_KBPS
        .get(usize::from(frmsizecod / 2))
        .ok_or_else(|| CodecError::new(SYNCINFO, "frmsizecod", format!("{frmsizecod}")))?;
    // 16-bit words per frame (A/52 Table 5.18): 2 per kbit/s at 48 kHz, 3 at 32 kHz; at
    // 44.1 kHz the fraction is rounded down and odd codes add a word.
    let words = match fscod {
        0 => kbps * 2,
        1 => kbps * 320 / 147 + u32::from(frmsizecod & 1),
        _ => kbps * 3,
    };
    r.skip(5, "bsid")?;
    let bsmod = r.bits(3, "bsmod")? as u8;
    let acmod = r.bits(3, "acmod")? as u8;
    skip_mix_levels(r, acmod)?;
    let lfeon = r.bit("lfeon")?;
    Ok(SyncFrame {
        eac3: false,
        strmtyp: 0,
        substreamid: 0,
        frame_len: words as usize * 2,
        fscod,
        sample_rate,
        bsid,
        bsmod,
        acmod,
        lfeon,
        frmsizecod,
        num_blocks: 6,
        chanmap: None,
    })
}

/// cmixlev, surmixlev, dsurmod: present for some acmods only (A/52 §5.4.2.4–§5.4.2.6).
fn skip_mix_levels(r: &mut BitReader<'_>, acmod: u8) -> Result<(), CodecError> {
    if acmod & 1 == 1 && acmod != 1 {
        r.skip(2, "cmixlev")?;
    }
    if acmod & 4 == 4 {
        r.skip(2, "surmixlev")?;
    }
    if acmod == 2 {
        r.skip(2, "dsurmod")?;
    }
    Ok(())
}

/// E-AC-3 bsi() after the syncword, as far as chanmap (A/52 §E.1.2.2).
fn parse_eac3(r: &mut BitReader<'_>, bsid: u8) -> Result<SyncFrame, CodecError> {
    let strmtyp = r.bits(2, "strmtyp")? as u8;
    if strmtyp == 3 {
        return Err(CodecError::new(BSI, "strmtyp", "reserved value 3"));
    }
    let substreamid = r.bits(3, "substreamid")? as u8;
    let frame_len = (r.bits(11, "frmsiz")? as usize + 1) * 2;
    let fscod = r.bits(2, "fscod")? as u8;
    let (sample_rate, num_blocks) = if fscod == 3 {
        let fscod2 = r.bits(2, "fscod2")? as usize;
        let rate = SAMPLE_RATES_FSCOD2
            .get(fscod2)
            .ok_or_else(|| CodecError::new(BSI, "fscod2", "reserved value 3"))?;
        (*rate, 6)
    } else {
        let numblkscod = r.bits(2, "numblkscod")? as usize;
        (SAMPLE_RATES[usize::from(fscod)], BLOCKS[numblkscod])
    };
    let acmod = r.bits(3, "acmod")? as u8;
    let lfeon = r.bit("lfeon")?;
    r.skip(5 + 5, "bsid")?; // + dialnorm
    if r.bit("compre")? {
        r.skip(8, "compr")?;
    }
    if acmod == 0 {
        r.skip(5, "dialnorm2")?;
        if r.bit("compr2e")? {
            r.skip(8, "compr2")?;
        }
    }
    let mut chanmap = None;
    if strmtyp == 1 && r.bit("chanmape")? {
        chanmap = Some(r.bits(16, "chanmap")? as u16);
    }
    Ok(SyncFrame {
        eac3: true,
        strmtyp,
        substreamid,
        frame_len,
        fscod,
        sample_rate,
        bsid,
        bsmod: 0,
        acmod,
        lfeon,
        frmsizecod: 0,
        num_blocks,
        chanmap,
    })
}

/// Every syncframe of an access unit (E-AC-3 substreams follow each other), in order.
pub(crate) fn syncframes(mut data: &[u8]) -> Result<Vec<SyncFrame>, CodecError> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let frame = parse_syncframe(data)?;
        if frame.frame_len > data.len() {
            return Err(CodecError::new(
                SYNCINFO,
                "frame size",
                format!("{} exceeds the {} bytes left", frame.frame_len, data.len()),
            ));
        }
        data = &data[frame.frame_len..];
        out.push(frame);
    }
    Ok(out)
}

/// The MP4 configuration of `codec` for an access unit that begins with `frame`: `dec3` (every
/// substream of the access unit) for E-AC-3, `dac3` for AC-3.
pub(crate) fn configuration(
    codec: AudioCodec,
    frame: &SyncFrame,
    access_unit: &[u8],
) -> Result<Vec<u8>, CodecError> {
    match codec {
        AudioCodec::Eac3 => dec3(access_unit),
        AudioCodec::Ac3
        | AudioCodec::Aac
        | AudioCodec::Mp3
        | AudioCodec::Opus
        | AudioCodec::Flac
        | AudioCodec::FlvOnly(_) => Ok(dac3(frame).to_vec()),
    }
}

/// The `dac3` body (§F.4) for an AC-3 syncframe: fscod, bsid, bsmod, acmod, lfeon,
/// bit_rate_code, 5 reserved bits.
pub fn dac3(frame: &SyncFrame) -> [u8; 3] {
    let v = u32::from(frame.fscod) << 22
        | u32::from(frame.bsid) << 17
        | u32::from(frame.bsmod) << 14
        | u32::from(frame.acmod) << 11
        | u32::from(frame.lfeon) << 10
        | u32::from(frame.frmsizecod / 2) << 5;
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

/// What a `dac3` or `dec3` says (of independent substream 0 for `dec3`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoxInfo {
    pub(crate) sample_rate: u32,
    pub(crate) channels: u8,
    pub(crate) bsid: u8,
    /// dac3 bit_rate_code's rate; dec3's data_rate.
    pub(crate) bit_rate_kbps: u32,
}

/// Parses a `dac3` body.
pub fn parse_dac3(data: &[u8]) -> Result<BoxInfo, CodecError> {
    let mut r = BitReader::new(DAC3, data);
    let fscod = r.bits(2, "fscod")? as usize;
    let bsid = r.bits(5, "bsid")? as u8;
    r.skip(3, "bsmod")?;
    let acmod = r.bits(3, "acmod")? as usize;
    let lfeon = r.bit("lfeon")?;
    let code = r.bits(5, "bit_rate_code")? as usize;
    Ok(BoxInfo {
        sample_rate: *SAMPLE_RATES
            .get(fscod)
            .ok_or_else(|| CodecError::new(DAC3, "fscod", "reserved value 3"))?,
        channels: ACMOD_CHANNELS[acmod] + u8::from(lfeon),
        bsid,
        bit_rate_kbps: *BIT_RATES_KBPS
            .get(code)
            .ok_or_else(|| CodecError::new(DAC3, "bit_rate_code", format!("{code}")))?,
    })
}

/// One independent substream of a `dec3`, with what its dependent substreams add.
struct Independent {
    frame: SyncFrame,
    num_dep_sub: u8,
    chan_loc: u16,
}

/// The `dec3` body (§F.6) for an E-AC-3 access unit: data_rate, then per independent substream
/// its fields and dependent substreams, as FFmpeg's MP4 muxer derives them (chan_loc from the
/// dependent substreams' chanmap bits 5..13; data_rate the highest substream rate).
pub fn dec3(access_unit: &[u8]) -> Result<Vec<u8>, CodecError> {
    let mut independents: Vec<Independent> = Vec::new();
    let mut data_rate = 0u32;
    for frame in syncframes(access_unit)? {
        data_rate = data_rate.max(frame.bit_rate_kbps());
        if frame.strmtyp == 1 {
            let Some(parent) = independents.last_mut() else {
                return Err(CodecError::new(BSI, "strmtyp", "dependent substream first"));
            };
            parent.num_dep_sub += 1;
            parent.chan_loc |= frame.chanmap.map_or(0, |m| (m >> 5) & 0x1ff);
        } else {
            independents.push(Independent {
                frame,
                num_dep_sub: 0,
                chan_loc: 0,
            });
        }
    }
    if independents.is_empty() || independents.len() > 8 {
        return Err(CodecError::new(
            DEC3,
            "num_ind_sub",
            format!("{} independent substreams", independents.len()),
        ));
    }
    let mut bits = BitWriter::default();
    bits.put(13, data_rate.min(0x1fff));
    bits.put(3, independents.len() as u32 - 1);
    for ind in &independents {
        bits.put(2, u32::from(ind.frame.fscod));
        bits.put(5, u32::from(ind.frame.bsid));
        bits.put(2, 0); // reserved, asvc
        bits.put(3, u32::from(ind.frame.bsmod));
        bits.put(3, u32::from(ind.frame.acmod));
        bits.put(1, u32::from(ind.frame.lfeon));
        bits.put(3, 0); // reserved
        bits.put(4, u32::from(ind.num_dep_sub));
        if ind.num_dep_sub > 0 {
            bits.put(9, u32::from(ind.chan_loc));
        } else {
            bits.put(1, 0); // reserved
        }
    }
    Ok(bits.finish())
}

/// Parses a `dec3` body: data_rate and independent substream 0.
pub fn parse_dec3(data: &[u8]) -> Result<BoxInfo, CodecError> {
    let mut r = BitReader::new(DEC3, data);
    let data_rate = r.bits(13, "data_rate")?;
    r.skip(3, "num_ind_sub")?;
    let fscod = r.bits(2, "fscod")? as usize;
    let bsid = r.bits(5, "bsid")? as u8;
    r.skip(1 + 1 + 3, "asvc")?; // reserved, asvc, bsmod
    let acmod = r.bits(3, "acmod")? as usize;
    let lfeon = r.bit("lfeon")?;
    let sample_rate = match fscod {
        0..=2 => SAMPLE_RATES[fscod],
        // fscod 3 in dec3: a reduced rate, which the box does not say; FFmpeg reports half.
        _ => SAMPLE_RATES_FSCOD2[0],
    };
    Ok(BoxInfo {
        sample_rate,
        channels: ACMOD_CHANNELS[acmod] + u8::from(lfeon),
        bsid,
        bit_rate_kbps: data_rate,
    })
}

/// MSB-first bit packing for the `dec3` body.
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    fn put(&mut self, bits: u32, value: u32) {
        self.acc = (self.acc << bits) | u64::from(value & ((1u32 << bits) - 1));
        self.n += bits;
        while self.n >= 8 {
            self.n -= 8;
            self.out.push((self.acc >> self.n) as u8);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            let pad = 8 - self.n;
            self.put(pad, 0);
        }
        self.out
    }
}

#[cfg(test)]
mod tests;

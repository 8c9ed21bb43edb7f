//! Bit reader with Exp-Golomb codes (ITU-T H.264 §9.1, H.265 §9.2) over an RBSP: the payload of
//! a NAL unit with its emulation-prevention bytes removed (H.264 §7.4.1, H.265 §7.4.2).
//!
//! Every read is bounded: reading past the end is a [`CodecError`] naming the structure and the
//! field being read, never a panic.

use super::CodecError;

/// Removes emulation-prevention bytes: every `00 00 03` becomes `00 00` (H.264 §7.4.1). The
/// output is never longer than the input.
pub(crate) fn rbsp(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0usize;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            // The 0x03 is emulation prevention; the zero run restarts after it.
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// Reads bits MSB first from a byte slice.
#[derive(Clone, Debug)]
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Position in bits from the start of `data`.
    pos: usize,
    structure: &'static str,
}

impl<'a> BitReader<'a> {
    /// `structure` names what is being parsed, for errors ("seq_parameter_set_rbsp").
    pub(crate) fn new(structure: &'static str, data: &'a [u8]) -> Self {
        BitReader {
            data,
            pos: 0,
            structure,
        }
    }

    fn err(&self, field: &'static str, detail: impl Into<String>) -> CodecError {
        CodecError::new(self.structure, field, detail)
    }

    /// Bits left to read.
    pub(crate) fn remaining(&self) -> usize {
        (self.data.len() * 8).saturating_sub(self.pos)
    }

    /// Bits read so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// One bit.
    pub(crate) fn bit(&mut self, field: &'static str) -> Result<bool, CodecError> {
        let byte = self
            .data
            .get(self.pos / 8)
            .ok_or_else(|| self.err(field, format!("ends at bit {}", self.pos)))?;
        let v = (byte >> (7 - (self.pos % 8))) & 1;
        self.pos += 1;
        Ok(v == 1)
    }

    /// `n` bits (0..=32) as an unsigned number.
    pub(crate) fn bits(&mut self, n: u32, field: &'static str) -> Result<u32, CodecError> {
        if n > 32 {
            return Err(self.err(field, format!("{n}-bit read exceeds 32 bits")));
        }
        if (n as usize) > self.remaining() {
            return Err(self.err(
                field,
                format!(
                    "needs {n} bits, {} left at bit {}",
                    self.remaining(),
                    self.pos
                ),
            ));
        }
        let mut v: u64 = 0;
        for _ in 0..n {
            v = (v << 1) | u64::from(self.bit(field)?);
        }
        Ok(v as u32)
    }

    /// `n` bits (0..=64) as an unsigned number.
    pub(crate) fn bits64(&mut self, n: u32, field: &'static str) -> Result<u64, CodecError> {
        if n > 64 {
            return Err(self.err(field, format!("{n}-bit read exceeds 64 bits")));
        }
        let hi_n = n.saturating_sub(32);
        let hi = u64::from(self.bits(hi_n, field)?);
        let lo = u64::from(self.bits(n - hi_n, field)?);
        Ok((hi << (n - hi_n)) | lo)
    }

    /// Skips `n` bits.
    pub(crate) fn skip(&mut self, n: usize, field: &'static str) -> Result<(), CodecError> {
        if n > self.remaining() {
            return Err(self.err(
                field,
                format!(
                    "skipping {n} bits, {} left at bit {}",
                    self.remaining(),
                    self.pos
                ),
            ));
        }
        self.pos += n;
        Ok(())
    }

    /// ue(v): unsigned Exp-Golomb code (H.264 §9.1). Values up to 2^32 − 2.
    pub(crate) fn ue(&mut self, field: &'static str) -> Result<u32, CodecError> {
        let mut leading_zeros = 0u32;
        while !self.bit(field)? {
            leading_zeros += 1;
            if leading_zeros > 31 {
                return Err(self.err(field, "Exp-Golomb code longer than 32 bits"));
            }
        }
        let suffix = u64::from(self.bits(leading_zeros, field)?);
        let v = (1u64 << leading_zeros) - 1 + suffix;
        u32::try_from(v).map_err(|_| self.err(field, "Exp-Golomb value exceeds 32 bits"))
    }

    /// ue(v) that must not exceed `max`; larger values are an error naming the field.
    pub(crate) fn ue_max(&mut self, max: u32, field: &'static str) -> Result<u32, CodecError> {
        let v = self.ue(field)?;
        if v > max {
            return Err(self.err(field, format!("{v} exceeds the maximum {max}")));
        }
        Ok(v)
    }

    /// se(v): signed Exp-Golomb code (H.264 §9.1.1): 1, −1, 2, −2, …
    pub(crate) fn se(&mut self, field: &'static str) -> Result<i32, CodecError> {
        let k = i64::from(self.ue(field)?);
        let v = if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) };
        i32::try_from(v).map_err(|_| self.err(field, "signed Exp-Golomb value out of range"))
    }
}

/// Reads big-endian fields from a byte-aligned structure (decoder configuration records), naming
/// the field and byte offset when the bytes run out.
#[derive(Clone, Debug)]
pub(crate) struct ByteReader<'a> {
    data: &'a [u8],
    pos: usize,
    structure: &'static str,
}

impl<'a> ByteReader<'a> {
    pub(crate) fn new(structure: &'static str, data: &'a [u8]) -> Self {
        ByteReader {
            data,
            pos: 0,
            structure,
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// An error at the current offset.
    pub(crate) fn err(&self, field: &'static str, detail: impl std::fmt::Display) -> CodecError {
        CodecError::new(
            self.structure,
            field,
            format!("at byte {}: {detail}", self.pos),
        )
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], CodecError> {
        if n > self.remaining() {
            return Err(self.err(field, format!("needs {n} bytes, {} left", self.remaining())));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, CodecError> {
        Ok(self.take(1, field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, CodecError> {
        self.array(field).map(u16::from_be_bytes)
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, CodecError> {
        self.array(field).map(u32::from_be_bytes)
    }

    /// A little-endian u16 (Ogg-family headers such as `OpusHead`).
    pub(crate) fn u16_le(&mut self, field: &'static str) -> Result<u16, CodecError> {
        self.array(field).map(u16::from_le_bytes)
    }

    /// A little-endian u32.
    pub(crate) fn u32_le(&mut self, field: &'static str) -> Result<u32, CodecError> {
        self.array(field).map(u32::from_le_bytes)
    }

    /// The next `N` bytes, for a field of that width.
    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], CodecError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_emulation_prevention() {
        assert_eq!(rbsp(&[0, 0, 3, 1, 0, 0, 3]), vec![0, 0, 1, 0, 0]);
        assert_eq!(rbsp(&[0, 0, 3, 0, 0, 3, 0]), vec![0, 0, 0, 0, 0]);
        // A 03 after a single zero is data.
        assert_eq!(rbsp(&[0, 3, 0, 0, 0, 3]), vec![0, 3, 0, 0, 0]);
        assert_eq!(rbsp(&[]), Vec::<u8>::new());
    }

    #[test]
    fn reads_bits_and_exp_golomb() {
        // 1 | 010 | 011 | 00100 | 00101 | 0... → ue 0, 1, 2, 3, se(4) = -2
        let data = [0b1010_0110, 0b0100_0010, 0b1000_0000];
        let mut r = BitReader::new("test", &data);
        assert_eq!(r.ue("a").unwrap(), 0);
        assert_eq!(r.ue("b").unwrap(), 1);
        assert_eq!(r.ue("c").unwrap(), 2);
        assert_eq!(r.ue("d").unwrap(), 3);
        assert_eq!(r.se("e").unwrap(), -2);
        assert_eq!(r.remaining(), 7);
        assert!(r.bits(8, "f").is_err());
        assert_eq!(r.bits(7, "g").unwrap(), 0);
        assert!(r.bit("h").is_err());
    }

    #[test]
    fn wide_reads() {
        let data = [0xff; 9];
        let mut r = BitReader::new("test", &data);
        assert_eq!(r.bits(32, "a").unwrap(), u32::MAX);
        assert_eq!(r.bits64(40, "b").unwrap(), (1u64 << 40) - 1);
        assert!(r.bits(33, "c").is_err());
    }

    #[test]
    fn hostile_codes_are_errors() {
        let mut r = BitReader::new("test", &[0; 8]);
        let e = r.ue("num_ref_frames").unwrap_err();
        assert_eq!(e.field, "num_ref_frames");
        let mut r = BitReader::new("test", &[]);
        assert!(r.ue("x").is_err());
        assert!(r.skip(1, "x").is_err());
        // 32 leading zeros then 1 and 32 ones: exceeds u32.
        let mut d = vec![0u8; 4];
        d.extend([0xff; 5]);
        let mut r = BitReader::new("test", &d);
        assert!(r.ue("x").is_err());
        // Largest representable value: 31 zeros, 1, 31 ones = 2^32 - 2.
        let mut r = BitReader::new("test", &[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(r.ue("x").unwrap(), u32::MAX - 1);
    }
}

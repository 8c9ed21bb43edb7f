//! A byte writer for ISO/IEC 14496-12 boxes (ISO base media file format §4.2): big-endian
//! fields, boxes opened and closed like brackets, each size patched in when the box closes.

use anyhow::{Result, bail};

/// Builds nested boxes into one buffer.
#[derive(Default)]
pub(crate) struct BoxWriter {
    buf: Vec<u8>,
    /// Start offsets of the boxes still open, innermost last.
    open: Vec<usize>,
    /// The first box whose size did not fit its 32-bit field.
    too_large: Option<[u8; 4]>,
}

impl BoxWriter {
    pub(crate) fn new() -> BoxWriter {
        BoxWriter::default()
    }

    /// Opens a box (§4.2 `Box`): a size placeholder and the four-character type.
    pub(crate) fn open(&mut self, fourcc: &[u8; 4]) {
        self.open.push(self.buf.len());
        self.u32(0);
        self.bytes(fourcc);
    }

    /// Opens a full box (§4.2 `FullBox`): a box with an 8-bit version and 24-bit flags.
    pub(crate) fn open_full(&mut self, fourcc: &[u8; 4], version: u8, flags: u32) {
        self.open(fourcc);
        self.u8(version);
        self.u24(flags);
    }

    /// Closes the innermost open box, writing its size.
    pub(crate) fn close(&mut self) {
        let Some(start) = self.open.pop() else {
            debug_assert!(false, "close without open");
            return;
        };
        let size = self.buf.len() - start;
        let field = u32::try_from(size).unwrap_or_else(|_| {
            // Boxes in `moov` never need the 64-bit largesize; report instead of wrapping.
            if self.too_large.is_none() {
                let mut t = [0u8; 4];
                t.copy_from_slice(&self.buf[start + 4..start + 8]);
                self.too_large = Some(t);
            }
            0
        });
        self.buf[start..start + 4].copy_from_slice(&field.to_be_bytes());
    }

    /// The finished bytes; every box must be closed.
    pub(crate) fn finish(self) -> Result<Vec<u8>> {
        if let Some(t) = self.too_large {
            bail!(
                "mp4 box '{}' exceeds 4 GiB (too many samples for one file)",
                String::from_utf8_lossy(&t)
            );
        }
        debug_assert!(self.open.is_empty(), "unclosed box");
        Ok(self.buf)
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn u24(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes()[1..]);
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// A time or duration of a full box whose version 1 widens it from 32 to 64 bits
    /// (`mvhd`, `tkhd`, `mdhd`, `elst`).
    pub(crate) fn u32_or_u64(&mut self, version: u8, v: u64) {
        if version == 1 {
            self.u64(v);
        } else {
            self.u32(v as u32);
        }
    }

    /// [`BoxWriter::u32_or_u64`] for a signed field (`elst`'s media_time).
    pub(crate) fn i32_or_i64(&mut self, version: u8, v: i64) {
        if version == 1 {
            self.i64(v);
        } else {
            self.i32(v as i32);
        }
    }

    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }

    pub(crate) fn zeros(&mut self, n: usize) {
        self.buf.resize(self.buf.len() + n, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_sizes_are_patched() {
        let mut w = BoxWriter::new();
        w.open(b"moov");
        w.open_full(b"mvhd", 1, 0x000003);
        w.u16(0xABCD);
        w.close();
        w.close();
        let b = w.finish().unwrap();
        assert_eq!(
            b,
            [
                0, 0, 0, 22, b'm', b'o', b'o', b'v', // moov, 8 + 14
                0, 0, 0, 14, b'm', b'v', b'h', b'd', 1, 0, 0, 3, 0xAB, 0xCD
            ]
        );
    }
}

//! Box framing (ISO/IEC 14496-12 §4.2): headers with 32-bit size, 64-bit `largesize` (size 1)
//! and "to the end of the enclosing box" (size 0), each checked against its parent before anything
//! is read or allocated, and a big-endian field reader for box payloads held in memory.

use std::fmt;

use crate::container::mp4::{BOX_HEADER_LEN, LARGE_BOX_HEADER_LEN, SIZE_IS_LARGE, SIZE_TO_END};

/// Why a box or field could not be read; `offset` is the file offset of the failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoxError {
    pub(crate) offset: u64,
    pub(crate) message: String,
}

impl BoxError {
    pub(crate) fn new(offset: u64, message: impl Into<String>) -> BoxError {
        BoxError {
            offset,
            message: message.into(),
        }
    }
}

impl fmt::Display for BoxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.message)
    }
}

/// A four-character code, printed as text when it is printable.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FourCc(pub [u8; 4]);

impl fmt::Display for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            // Printable ASCII is valid UTF-8.
            f.write_str(std::str::from_utf8(&self.0).unwrap_or("????"))
        } else {
            write!(f, "0x{:08x}", u32::from_be_bytes(self.0))
        }
    }
}

impl fmt::Debug for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// A box header: where the box starts, how long its header is, and its total size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BoxHeader {
    pub(crate) kind: FourCc,
    /// File offset of the box's first byte.
    pub(crate) offset: u64,
    /// 8, or 16 with a `largesize`.
    pub(crate) header_len: u64,
    /// Total size, header included; never past the parent's end.
    pub(crate) size: u64,
}

impl BoxHeader {
    pub(crate) fn payload_offset(&self) -> u64 {
        self.offset + self.header_len
    }

    pub(crate) fn payload_len(&self) -> u64 {
        self.size - self.header_len
    }

    pub(crate) fn end(&self) -> u64 {
        self.offset + self.size
    }

    /// Parses a header from `bytes` (at least 8, 16 for a `largesize`) found at file offset
    /// `offset` inside a parent ending at `parent_end`.
    pub(crate) fn parse(bytes: &[u8], offset: u64, parent_end: u64) -> Result<BoxHeader, BoxError> {
        let Some(&[s0, s1, s2, s3, t0, t1, t2, t3]) = bytes.first_chunk::<8>() else {
            return Err(BoxError::new(
                offset,
                format!(
                    "box header needs 8 bytes, {} left in the enclosing box",
                    bytes.len()
                ),
            ));
        };
        let kind = FourCc([t0, t1, t2, t3]);
        let room = parent_end.saturating_sub(offset);
        let (header_len, size) = match u32::from_be_bytes([s0, s1, s2, s3]) {
            SIZE_TO_END => (BOX_HEADER_LEN, room),
            SIZE_IS_LARGE => {
                let Some(large) = bytes.get(8..16) else {
                    return Err(BoxError::new(
                        offset,
                        format!("box '{kind}': largesize needs 16 header bytes"),
                    ));
                };
                let mut b = [0u8; 8];
                b.copy_from_slice(large);
                (LARGE_BOX_HEADER_LEN, u64::from_be_bytes(b))
            }
            s => (BOX_HEADER_LEN, u64::from(s)),
        };
        if size < header_len {
            return Err(BoxError::new(
                offset,
                format!("box '{kind}': size {size} is smaller than its {header_len}-byte header"),
            ));
        }
        if size > room {
            return Err(BoxError::new(
                offset,
                format!(
                    "box '{kind}': size {size} exceeds the {room} bytes left in the enclosing {}",
                    if parent_end == u64::MAX {
                        "stream"
                    } else {
                        "box or file"
                    }
                ),
            ));
        }
        Ok(BoxHeader {
            kind,
            offset,
            header_len,
            size,
        })
    }
}

/// A box whose payload is in memory (everything inside `moov`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct MemBox<'a> {
    pub(crate) header: BoxHeader,
    pub(crate) payload: &'a [u8],
}

impl<'a> MemBox<'a> {
    /// The child boxes of a container payload, each checked against it.
    pub(crate) fn children(&self) -> Children<'a> {
        Children {
            data: self.payload,
            base: self.header.payload_offset(),
            pos: 0,
        }
    }

    /// The child boxes starting `skip` bytes into the payload (none when it is shorter).
    pub(crate) fn children_at(&self, skip: usize) -> Children<'a> {
        Children {
            data: self.payload.get(skip..).unwrap_or_default(),
            base: self.header.payload_offset() + skip as u64,
            pos: 0,
        }
    }

    /// The first child of `kind`, if any; a malformed child list is an error.
    pub(crate) fn child(&self, kind: &[u8; 4]) -> Result<Option<MemBox<'a>>, BoxError> {
        self.children_from(0, kind)
    }

    /// Like [`MemBox::child`], for containers whose children start `skip` bytes into the payload
    /// (sample entries).
    pub(crate) fn children_from(
        &self,
        skip: usize,
        kind: &[u8; 4],
    ) -> Result<Option<MemBox<'a>>, BoxError> {
        for b in self.children_at(skip) {
            let b = b?;
            if &b.header.kind.0 == kind {
                return Ok(Some(b));
            }
        }
        Ok(None)
    }

    /// The child of `kind`, or an error naming the path that lacks it.
    pub(crate) fn require(&self, kind: &[u8; 4]) -> Result<MemBox<'a>, BoxError> {
        self.child(kind)?.ok_or_else(|| {
            BoxError::new(
                self.header.offset,
                format!("box '{}' has no '{}' box", self.header.kind, FourCc(*kind)),
            )
        })
    }

    /// A reader over the payload.
    pub(crate) fn reader(&self) -> Fields<'a> {
        Fields {
            data: self.payload,
            base: self.header.payload_offset(),
            pos: 0,
            kind: self.header.kind,
        }
    }

    /// A reader past a full box's version and flags, returning them.
    pub(crate) fn full(&self) -> Result<(u8, u32, Fields<'a>), BoxError> {
        let mut r = self.reader();
        let v = r.u32("version and flags")?;
        Ok(((v >> 24) as u8, v & 0x00FF_FFFF, r))
    }
}

/// Iterates the boxes of an in-memory container payload; stops after the first error.
pub(crate) struct Children<'a> {
    data: &'a [u8],
    base: u64,
    pos: usize,
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<MemBox<'a>, BoxError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.data.get(self.pos..)?;
        // Fewer than 8 trailing bytes: padding some writers leave (a 4-byte zero terminator in
        // QuickTime `udta`); nothing to read.
        if rest.len() < 8 {
            self.pos = self.data.len();
            return None;
        }
        let offset = self.base + self.pos as u64;
        let end = self.base + self.data.len() as u64;
        match BoxHeader::parse(rest, offset, end) {
            Err(e) => {
                self.pos = self.data.len();
                Some(Err(e))
            }
            Ok(header) => {
                // size ≤ rest.len(), checked by parse against `end`.
                let size = header.size as usize;
                let payload = &rest[header.header_len as usize..size];
                self.pos += size;
                Some(Ok(MemBox { header, payload }))
            }
        }
    }
}

/// Big-endian fields of a box payload; errors name the box, the field and the file offset.
#[derive(Clone, Debug)]
pub(crate) struct Fields<'a> {
    data: &'a [u8],
    base: u64,
    pos: usize,
    kind: FourCc,
}

impl<'a> Fields<'a> {
    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub(crate) fn err(&self, field: &str, detail: impl fmt::Display) -> BoxError {
        BoxError::new(self.offset(), format!("'{}' {field}: {detail}", self.kind))
    }

    pub(crate) fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8], BoxError> {
        if n > self.remaining() {
            return Err(self.err(
                field,
                format!("needs {n} bytes, {} left in the box", self.remaining()),
            ));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// This reader limited to its next `len` bytes (no more than remain).
    pub(crate) fn narrowed(&self, len: usize) -> Fields<'a> {
        let end = self.pos + len.min(self.remaining());
        Fields {
            data: &self.data[..end],
            base: self.base,
            pos: self.pos,
            kind: self.kind,
        }
    }

    pub(crate) fn skip(&mut self, n: usize, field: &str) -> Result<(), BoxError> {
        self.take(n, field).map(|_| ())
    }

    pub(crate) fn u8(&mut self, field: &str) -> Result<u8, BoxError> {
        Ok(self.take(1, field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &str) -> Result<u16, BoxError> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self, field: &str) -> Result<u32, BoxError> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u64(&mut self, field: &str) -> Result<u64, BoxError> {
        let b = self.take(8, field)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// A 32-bit field in version 0, a 64-bit one in version 1.
    pub(crate) fn versioned(&mut self, version: u8, field: &str) -> Result<u64, BoxError> {
        if version == 1 {
            self.u64(field)
        } else {
            self.u32(field).map(u64::from)
        }
    }

    /// An entry count whose `entry_len`-byte entries must all be present: checked before any
    /// allocation sized by it.
    pub(crate) fn count(&mut self, entry_len: usize, field: &str) -> Result<usize, BoxError> {
        let n = self.u32(field)? as usize;
        if n.saturating_mul(entry_len) > self.remaining() {
            return Err(self.err(
                field,
                format!(
                    "{n} entries of {entry_len} bytes exceed the {} bytes left in the box",
                    self.remaining()
                ),
            ));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_sizes_are_checked() {
        let h = BoxHeader::parse(&[0, 0, 0, 16, b'f', b'r', b'e', b'e'], 100, 200).unwrap();
        assert_eq!((h.header_len, h.size, h.end()), (8, 16, 116));
        // Size 0 runs to the parent's end.
        let h = BoxHeader::parse(&[0, 0, 0, 0, b'm', b'd', b'a', b't'], 100, 200).unwrap();
        assert_eq!(h.size, 100);
        // largesize
        let mut b = vec![0, 0, 0, 1, b'm', b'd', b'a', b't'];
        b.extend(40u64.to_be_bytes());
        let h = BoxHeader::parse(&b, 0, 40).unwrap();
        assert_eq!((h.header_len, h.size, h.payload_len()), (16, 40, 24));
        assert!(BoxHeader::parse(&b[..12], 0, 40).is_err());
        let e = BoxHeader::parse(&b, 0, 39).unwrap_err();
        assert!(e.message.contains("'mdat': size 40 exceeds"), "{e}");
        b[8..].copy_from_slice(&u64::MAX.to_be_bytes());
        assert!(BoxHeader::parse(&b, 10, 1 << 40).is_err());
        // Smaller than the header.
        let e = BoxHeader::parse(&[0, 0, 0, 7, b'a', b'b', b'c', b'd'], 5, 100).unwrap_err();
        assert_eq!(e.offset, 5);
        assert!(BoxHeader::parse(&[0, 0, 0, 8], 0, 100).is_err());
    }

    #[test]
    fn children_and_counts() {
        // A container with one 12-byte child and 3 bytes of padding.
        let payload = [0, 0, 0, 12, b's', b't', b'c', b'o', 0, 0, 0, 9, 0, 0, 0];
        let parent = MemBox {
            header: BoxHeader {
                kind: FourCc(*b"stbl"),
                offset: 1000,
                header_len: 8,
                size: 8 + payload.len() as u64,
            },
            payload: &payload,
        };
        let kids: Vec<_> = parent.children().collect::<Result<_, _>>().unwrap();
        assert_eq!(kids.len(), 1);
        assert_eq!(kids[0].header.offset, 1008);
        let mut r = kids[0].reader();
        let e = r.count(4, "entry_count").unwrap_err();
        assert_eq!(e.offset, 1020);
        assert!(e.message.contains("'stco' entry_count: 9 entries"), "{e}");
        assert!(parent.require(b"stsz").is_err());
        assert_eq!(FourCc(*b"avc1").to_string(), "avc1");
        assert_eq!(FourCc([0, 1, 2, 3]).to_string(), "0x00010203");
    }
}

//! Temporary files the inputs write and read back: a capture's spool (`pcap/spool.rs`) and the
//! spilled runs of a segment log's sort (`log/sort.rs`), both unnamed files in `TMPDIR`
//! ([`unnamed_file`], also the `--json` summary's parts), both records of little-endian `u64`
//! fields, bytes and a `u64` length before each byte string ([`put_u64`], [`put_bytes`],
//! [`Fields`]).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicU64, Ordering};

/// An unnamed read-write file in the temporary directory: it goes when it is closed, and
/// leaves nothing behind when the run is killed.
pub(crate) fn unnamed_file() -> io::Result<File> {
    let dir = std::env::temp_dir();
    let tmpfile = OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE)
        .open(&dir);
    match tmpfile {
        Ok(f) => Ok(f),
        // Filesystems without O_TMPFILE: a fresh name, unlinked at once.
        Err(_) => {
            static NEXT: AtomicU64 = AtomicU64::new(0);
            let path = dir.join(format!(
                ".kls-rec-capture-{}-{}.spool",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)?;
            std::fs::remove_file(&path)?;
            Ok(f)
        }
    }
}

pub(crate) fn put_u64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(&v.to_le_bytes());
}

/// A byte string: its length, then its bytes.
pub(crate) fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    put_u64(buf, b.len() as u64);
    buf.extend_from_slice(b);
}

/// The fields of a record, read in order; each `None` where the record is cut short.
pub(crate) struct Fields<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Fields<'a> {
        Fields { buf, at: 0 }
    }

    /// Bytes read so far.
    pub(crate) fn consumed(&self) -> usize {
        self.at
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        let b = self.buf.get(self.at..self.at.checked_add(8)?)?;
        self.at += 8;
        Some(u64::from_le_bytes(b.try_into().ok()?))
    }

    /// A byte string [`put_bytes`] wrote.
    pub(crate) fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.u64()?).ok()?;
        let b = self.buf.get(self.at..self.at.checked_add(len)?)?;
        self.at += len;
        Some(b)
    }

    /// A byte string that is UTF-8.
    pub(crate) fn text(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
}

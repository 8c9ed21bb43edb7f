//! Atomic, idempotent local files.
//!
//! Every output is written under a hidden temporary name in its final directory and renamed into
//! place only when complete (SPEC §3, §7): a crash, kill or full disk never leaves an incomplete
//! file under a final name. An existing file with the final name is never replaced by different
//! bytes; an identical one is left alone, so re-runs are byte-identical and cheap.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use md5::{Digest, Md5};

static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// A unique hidden temporary path in `dir`, derived from `hint` (e.g. the file's stem).
pub fn temp_path(dir: &Path, hint: &str, suffix: &str) -> PathBuf {
    let n = TEMP_SEQ.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{hint}.{}-{n}.{suffix}", std::process::id()))
}

/// A file being written under a temporary name: counts its bytes and hashes them (MD5 is the
/// callback's ETag) as they pass, so the file is never read back.
pub struct OutFile {
    temp: PathBuf,
    inner: Option<BufWriter<File>>,
    md5: Md5,
    len: u64,
}

impl OutFile {
    pub fn create(dir: &Path, hint: &str) -> Result<OutFile> {
        fs::create_dir_all(dir).with_context(|| format!("creating directory {}", dir.display()))?;
        let temp = temp_path(dir, hint, "partial");
        let file = File::create(&temp).with_context(|| format!("creating {}", temp.display()))?;
        Ok(OutFile {
            temp,
            inner: Some(BufWriter::with_capacity(1 << 20, file)),
            md5: Md5::new(),
            len: 0,
        })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Flushes, syncs and renames the file to `final_path` (see [`commit`]). On failure (a full
    /// disk fails the last flush or the sync) the temporary file is removed.
    pub fn commit(mut self, final_path: &Path) -> Result<Committed> {
        let w = self.inner.take().expect("OutFile committed once");
        let md5: [u8; 16] = self.md5.clone().finalize().into();
        let done = (|| {
            let file = w
                .into_inner()
                .map_err(|e| e.into_error())
                .with_context(|| format!("writing {}", self.temp.display()))?;
            file.sync_all()
                .with_context(|| format!("syncing {}", self.temp.display()))?;
            drop(file);
            commit(&self.temp, final_path, self.len, &md5)
        })();
        let outcome = match done {
            Ok(o) => o,
            Err(e) => {
                // Drop no longer sees a writer, so it would leave the partial file behind.
                let _ = fs::remove_file(&self.temp);
                return Err(e);
            }
        };
        Ok(Committed {
            path: final_path.to_path_buf(),
            size: self.len,
            md5,
            outcome,
        })
    }
}

impl Write for OutFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self
            .inner
            .as_mut()
            .expect("OutFile written after commit")
            .write(buf)?;
        self.md5.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.inner.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for OutFile {
    fn drop(&mut self) {
        if self.inner.take().is_some() {
            // Abandoned (error or panic): never leave the partial file behind.
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// What committing a file did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The file did not exist and now does.
    Written,
    /// An identical file already existed; it was left untouched.
    Unchanged,
}

/// A file now complete under its final name.
#[derive(Clone, Debug)]
pub struct Committed {
    pub path: PathBuf,
    pub size: u64,
    pub md5: [u8; 16],
    pub outcome: Outcome,
}

/// Renames `temp` to `final_path`. If `final_path` exists with the same bytes, `temp` is removed
/// and the existing file kept; with different bytes, nothing is replaced and an error says so.
pub fn commit(temp: &Path, final_path: &Path, len: u64, md5: &[u8; 16]) -> Result<Outcome> {
    if let Ok(meta) = fs::metadata(final_path) {
        let same = meta.len() == len && md5_of_file(final_path).map(|m| &m == md5).unwrap_or(false);
        let _ = fs::remove_file(temp);
        if same {
            return Ok(Outcome::Unchanged);
        }
        bail!(
            "{} already exists with different content; kls-rec never overwrites a recording \
             (remove it or choose another --out-dir)",
            final_path.display()
        );
    }
    fs::rename(temp, final_path)
        .with_context(|| format!("renaming {} to {}", temp.display(), final_path.display()))?;
    if let Some(dir) = final_path.parent() {
        // Make the rename itself durable.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(Outcome::Written)
}

/// MD5 of a whole file, streamed.
pub fn md5_of_file(path: &Path) -> io::Result<[u8; 16]> {
    let mut f = File::open(path)?;
    let mut h = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Scratch storage for data that must be written after something computed from it (the FLV
/// keyframe index, the MP4 `moov`): a hidden file beside the output, removed when dropped.
pub struct Spool {
    path: PathBuf,
    file: BufWriter<File>,
    len: u64,
}

impl Spool {
    pub fn create(dir: &Path, hint: &str) -> Result<Spool> {
        fs::create_dir_all(dir).with_context(|| format!("creating directory {}", dir.display()))?;
        let path = temp_path(dir, hint, "spool");
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        Ok(Spool {
            path,
            file: BufWriter::with_capacity(1 << 20, file),
            len: 0,
        })
    }

    /// Bytes written so far: the offset the next write lands at.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies the whole spool into `out`.
    pub fn copy_to(&mut self, out: &mut impl Write) -> Result<()> {
        self.file.flush()?;
        let f = self.file.get_mut();
        f.seek(SeekFrom::Start(0))?;
        let copied = io::copy(&mut f.take(self.len), out)
            .with_context(|| format!("copying {}", self.path.display()))?;
        if copied != self.len {
            bail!("{} shrank while being copied", self.path.display());
        }
        Ok(())
    }
}

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kls-rec-local-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn commit_is_atomic_and_idempotent() {
        let dir = scratch("commit");
        let target = dir.join("a.flv");
        let mut f = OutFile::create(&dir, "a").unwrap();
        f.write_all(b"hello").unwrap();
        let c = f.commit(&target).unwrap();
        assert_eq!(c.outcome, Outcome::Written);
        assert_eq!(hex(&c.md5), "5d41402abc4b2a76b9719d911017c592");

        let mut again = OutFile::create(&dir, "a").unwrap();
        again.write_all(b"hello").unwrap();
        assert_eq!(again.commit(&target).unwrap().outcome, Outcome::Unchanged);

        let mut other = OutFile::create(&dir, "a").unwrap();
        other.write_all(b"HELLO").unwrap();
        assert!(other.commit(&target).is_err());
        assert_eq!(fs::read(&target).unwrap(), b"hello");
        // No temporaries left behind.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn abandoned_file_leaves_nothing() {
        let dir = scratch("abandon");
        {
            let mut f = OutFile::create(&dir, "x").unwrap();
            f.write_all(b"partial").unwrap();
        }
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
    }

    #[test]
    fn spool_copies_back() {
        let dir = scratch("spool");
        let mut s = Spool::create(&dir, "s").unwrap();
        s.write_all(b"abc").unwrap();
        s.write_all(b"def").unwrap();
        let mut v = Vec::new();
        s.copy_to(&mut v).unwrap();
        assert_eq!(v, b"abcdef");
        drop(s);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
    }
}

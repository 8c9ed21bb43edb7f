//! Atomic, idempotent local files.
//!
//! Every output is written under a hidden temporary name in its final directory and renamed into
//! place only when complete (README "Outputs", "Bad input, crashes, full disks"): a crash, kill or
//! full disk never leaves an incomplete file under a final name. An existing file with the final
//! name is never replaced by different bytes; an identical one is left alone, so re-runs are
//! byte-identical and cheap. Temporaries a killed run left behind are removed by the next process
//! that writes in their directory.
//!
//! Writing is off the muxing thread: [`OutFile`] (hashed: its MD5 is the callback's ETag),
//! [`PlainFile`] (no digest) and [`Spool`] hand 1 MiB blocks to worker threads (see `pipe`), so
//! on two cores the page-cache work and MD5 run beside the demuxing and muxing.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use md5::{Digest, Md5};

mod pipe;

use pipe::{Block, BlockPipe};

static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// Suffixes of the temporaries named by [`temp_path`].
const TEMP_SUFFIXES: [&str; 2] = ["partial", "spool"];

/// A unique hidden temporary path in `dir`, derived from `hint` (e.g. the file's stem):
/// `.{hint}.{pid}-{n}.{suffix}`. The first time a process names one in a directory, the
/// temporaries left there by dead processes (a killed run) are removed.
pub(crate) fn temp_path(dir: &Path, hint: &str, suffix: &str) -> PathBuf {
    sweep_stale_temporaries(dir);
    let n = TEMP_SEQ.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{hint}.{}-{n}.{suffix}", std::process::id()))
}

/// Removes, once per directory and process, the temporaries of `dir` whose owner pid no longer
/// runs. A live owner's files are kept, and so is anything not named like a temporary.
fn sweep_stale_temporaries(dir: &Path) {
    static SWEPT: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());
    let first = SWEPT
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(dir.to_path_buf());
    if !first {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let own = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_owner) else {
            continue;
        };
        if pid != own && !process_alive(pid) && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The pid in a name made by [`temp_path`], or `None` for any other name.
fn temp_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let (rest, suffix) = rest.rsplit_once('.')?;
    if !TEMP_SUFFIXES.contains(&suffix) {
        return None;
    }
    let (_, owner) = rest.rsplit_once('.')?;
    let (pid, n) = owner.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(pid) || !digits(n) {
        return None;
    }
    pid.parse().ok()
}

/// Whether a process with this pid exists (signal 0 checks without sending anything).
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks for the process; no memory is shared.
    let rc = unsafe { libc::kill(pid, 0) };
    // EPERM: it exists, owned by someone else.
    rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// The writing shared by [`OutFile`], [`PlainFile`] and [`Spool`]: bytes gather in 1 MiB
/// blocks that a worker thread writes (and hashes, for an [`OutFile`]), so the producer only
/// copies, and even 188-byte transport packets reach the kernel in large writes.
struct Writer {
    path: PathBuf,
    /// `None` once complete.
    pipe: Option<BlockPipe>,
    block: Block,
    len: u64,
}

impl Writer {
    fn new(path: PathBuf, file: File, hashed: bool, sync: bool) -> Writer {
        Writer {
            path,
            pipe: Some(BlockPipe::new(file, hashed, sync)),
            block: Block::new(),
            len: 0,
        }
    }

    /// Hands the filled block to the worker and takes an empty one.
    fn ship(&mut self) -> io::Result<()> {
        let pipe = self
            .pipe
            .as_mut()
            .ok_or_else(|| io::Error::other("write to a file already complete"))?;
        let done = std::mem::replace(&mut self.block, Block::empty());
        self.block = pipe.send(done)?;
        Ok(())
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = self.block.push(buf);
        if self.block.is_full() {
            self.ship()?;
        }
        self.len += n as u64;
        Ok(n)
    }

    /// Appends `len` bytes read from `r`, reading straight into the blocks.
    fn append_from(&mut self, r: &mut impl Read, mut len: u64) -> io::Result<u64> {
        let mut copied = 0;
        while len > 0 {
            if self.block.is_full() {
                self.ship()?;
            }
            let spare = self.block.spare();
            let want = spare.len().min(usize::try_from(len).unwrap_or(usize::MAX));
            let n = match r.read(&mut spare[..want]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.block.filled += n;
            self.len += n as u64;
            copied += n as u64;
            len -= n as u64;
        }
        if self.block.is_full() {
            self.ship()?;
        }
        Ok(copied)
    }

    /// Writes what is left and waits until it is written; the digest when hashing.
    fn complete(&mut self) -> io::Result<Option<[u8; 16]>> {
        let pipe = self
            .pipe
            .take()
            .ok_or_else(|| io::Error::other("file completed twice"))?;
        pipe.finish(std::mem::replace(&mut self.block, Block::empty()))
    }
}

/// A file being written under a temporary name, renamed into place by `commit`.
struct TempFile {
    w: Writer,
    /// Still under the temporary name (removed if dropped so).
    pending: bool,
}

impl TempFile {
    fn create(dir: &Path, hint: &str, hashed: bool) -> Result<TempFile> {
        fs::create_dir_all(dir).with_context(|| format!("creating directory {}", dir.display()))?;
        let temp = temp_path(dir, hint, "partial");
        let file = File::create(&temp).with_context(|| format!("creating {}", temp.display()))?;
        Ok(TempFile {
            w: Writer::new(temp, file, hashed, true),
            pending: true,
        })
    }

    /// Completes and syncs the file, renames it to `final_path` (see [`commit`]).
    fn commit(&mut self, final_path: &Path) -> Result<(Outcome, Option<[u8; 16]>)> {
        let temp = self.w.path.clone();
        let md5 = self
            .w
            .complete()
            .with_context(|| format!("writing {}", temp.display()))?;
        self.pending = false;
        let outcome = commit(&temp, final_path, self.w.len);
        if outcome.is_err() {
            let _ = fs::remove_file(&temp);
        }
        Ok((outcome?, md5))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.pending {
            // Abandoned (error or panic): never leave the partial file behind. The worker
            // ends once the pipe is dropped; the file goes now.
            self.w.pipe = None;
            let _ = fs::remove_file(&self.w.path);
        }
    }
}

/// Whether an [`Output`] hashes the bytes it writes.
pub(crate) trait Hashing {
    const HASHED: bool;
}

/// An [`OutFile`]'s bytes are hashed as they pass: its MD5 is the callback's ETag.
pub(crate) enum Hashed {}

/// A [`PlainFile`]'s bytes are not hashed.
pub(crate) enum Unhashed {}

impl Hashing for Hashed {
    const HASHED: bool = true;
}

impl Hashing for Unhashed {
    const HASHED: bool = false;
}

/// A file being written under a temporary name: counts its bytes (and hashes them, as `H` says)
/// as they pass, on a worker thread, so the file is never read back.
pub(crate) struct Output<H>(TempFile, PhantomData<H>);

/// A file being written under a temporary name, hashed (MD5 is the callback's ETag).
pub(crate) type OutFile = Output<Hashed>;

/// Like [`OutFile`], without the digest: for files no callback carries an ETag of (HLS
/// segments; an uploader hashes what it sends itself).
pub(crate) type PlainFile = Output<Unhashed>;

impl<H: Hashing> Output<H> {
    pub(crate) fn create(dir: &Path, hint: &str) -> Result<Output<H>> {
        TempFile::create(dir, hint, H::HASHED).map(|f| Output(f, PhantomData))
    }
}

impl<H> Output<H> {
    pub(crate) fn len(&self) -> u64 {
        self.0.w.len
    }

    pub(crate) fn temp_path(&self) -> &Path {
        &self.0.w.path
    }
}

impl OutFile {
    /// Writes, syncs and renames the file to `final_path` (see [`commit`]).
    pub(crate) fn commit(mut self, final_path: &Path) -> Result<Committed> {
        let (outcome, md5) = self.0.commit(final_path)?;
        let Some(md5) = md5 else {
            bail!("{}: no digest was computed", final_path.display());
        };
        Ok(Committed {
            path: final_path.to_path_buf(),
            size: self.0.w.len,
            md5,
            outcome,
        })
    }
}

impl PlainFile {
    /// Writes, syncs and renames the file to `final_path` (see [`commit`]).
    pub(crate) fn commit(mut self, final_path: &Path) -> Result<Outcome> {
        Ok(self.0.commit(final_path)?.0)
    }
}

impl<H> Write for Output<H> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.w.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        // Blocks go out whole; `commit` writes the rest.
        Ok(())
    }
}

/// What committing a file did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The file did not exist and now does.
    Written,
    /// An identical file already existed; it was left untouched.
    Unchanged,
}

/// A file now complete under its final name.
#[derive(Clone, Debug)]
pub(crate) struct Committed {
    pub(crate) path: PathBuf,
    pub(crate) size: u64,
    pub(crate) md5: [u8; 16],
    pub(crate) outcome: Outcome,
}

/// Renames the complete file `temp` (`len` bytes) to `final_path`. If `final_path` exists with
/// the same bytes, `temp` is removed and the existing file kept; with different bytes, nothing
/// is replaced and an error says so.
pub(crate) fn commit(temp: &Path, final_path: &Path, len: u64) -> Result<Outcome> {
    if let Ok(meta) = fs::metadata(final_path) {
        let same = meta.len() == len && same_bytes(temp, final_path).unwrap_or(false);
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

/// Whether two files hold the same bytes: a comparison, cheaper than hashing either.
fn same_bytes(a: &Path, b: &Path) -> io::Result<bool> {
    let (mut fa, mut fb) = (File::open(a)?, File::open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let n = read_full(&mut fa, &mut ba)?;
        if read_full(&mut fb, &mut bb[..n.max(1)])? != n || ba[..n] != bb[..n] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
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
pub(crate) struct Spool {
    /// Our handle, for reading back; the writer's worker has its own.
    file: File,
    w: Writer,
}

impl Spool {
    pub(crate) fn create(dir: &Path, hint: &str) -> Result<Spool> {
        fs::create_dir_all(dir).with_context(|| format!("creating directory {}", dir.display()))?;
        let path = temp_path(dir, hint, "spool");
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        let for_writer = file.try_clone();
        let for_writer = match for_writer {
            Ok(f) => f,
            Err(e) => {
                let _ = fs::remove_file(&path);
                return Err(e).with_context(|| format!("opening {}", path.display()));
            }
        };
        Ok(Spool {
            file,
            w: Writer::new(path, for_writer, false, false),
        })
    }

    /// Bytes written so far: the offset the next write lands at.
    pub(crate) fn len(&self) -> u64 {
        self.w.len
    }

    /// Copies the whole spool to the end of `out`, reading straight into its blocks. Nothing
    /// may be written to the spool afterwards.
    pub(crate) fn copy_to(&mut self, out: &mut OutFile) -> Result<()> {
        let path = self.w.path.clone();
        self.w
            .complete()
            .with_context(|| format!("writing {}", path.display()))?;
        self.file.seek(SeekFrom::Start(0))?;
        let mut copied = 0;
        while copied < self.w.len {
            let n = out
                .0
                .w
                .append_from(&mut self.file, RELEASE_STEP.min(self.w.len - copied))
                .with_context(|| {
                    format!("copying {} to {}", path.display(), out.0.w.path.display())
                })?;
            if n == 0 {
                bail!("{} shrank while being copied", path.display());
            }
            release(&self.file, copied, n);
            copied += n;
        }
        Ok(())
    }
}

/// Bytes of a spool copied between two releases of its storage.
const RELEASE_STEP: u64 = 8 << 20;

/// Gives the storage of a copied range of a spool back (a hole punched in the file), so a spool
/// and the file it is copied into never both hold the whole media: half the peak space on disk
/// or tmpfs. Best effort: where holes are not supported the spool goes when dropped.
#[cfg(target_os = "linux")]
fn release(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: fallocate(2) reads only its integer arguments; the descriptor stays open for the
    // duration of the call since `file` is borrowed.
    let _ = unsafe {
        libc::fallocate(
            file.as_raw_fd(),
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            offset,
            len,
        )
    };
}

#[cfg(not(target_os = "linux"))]
fn release(_file: &File, _offset: u64, _len: u64) {}

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.w.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        self.w.pipe = None;
        let _ = fs::remove_file(&self.w.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipe::BLOCK_LEN;

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
    fn temporaries_of_dead_processes_are_swept() {
        let dir = scratch("sweep");
        // No process has pid i32::MAX: Linux's pid_max is at most 2^22.
        let dead = format!(".a.{}-0.partial", i32::MAX);
        let live = format!(".a.{}-7.spool", std::process::id());
        let other = [
            ".kls-rec-callbacks.spool",
            ".a.12x-0.partial",
            "a.1-0.partial",
        ];
        for name in [dead.as_str(), live.as_str()].iter().chain(&other) {
            fs::write(dir.join(name), b"x").unwrap();
        }
        assert_eq!(temp_owner(&dead), Some(i32::MAX as u32));
        assert_eq!(
            temp_owner(".kls-rec-callbacks.spool.12-3.partial"),
            Some(12)
        );
        let t = temp_path(&dir, "b", "partial");
        assert!(!dir.join(&dead).exists());
        assert!(dir.join(&live).exists());
        assert!(other.iter().all(|n| dir.join(n).exists()));
        assert_eq!(
            temp_owner(t.file_name().unwrap().to_str().unwrap()),
            Some(std::process::id())
        );
    }

    #[test]
    fn spool_copies_back() {
        let dir = scratch("spool");
        let mut s = Spool::create(&dir, "s").unwrap();
        s.write_all(b"abc").unwrap();
        s.write_all(b"def").unwrap();
        let mut out = OutFile::create(&dir, "o").unwrap();
        out.write_all(b">").unwrap();
        s.copy_to(&mut out).unwrap();
        let c = out.commit(&dir.join("o")).unwrap();
        assert_eq!(fs::read(&c.path).unwrap(), b">abcdef");
        assert_eq!(c.md5, <[u8; 16]>::from(Md5::digest(b">abcdef")));
        drop(s);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    }

    /// Several blocks, written in uneven pieces and through a spool, hash as one file.
    #[test]
    fn large_files_hash_and_copy_exactly() {
        let dir = scratch("large");
        let bytes: Vec<u8> = (0..(3 * BLOCK_LEN + 4321))
            .map(|i| (i * 31 + i / 7) as u8)
            .collect();
        let mut spool = Spool::create(&dir, "s").unwrap();
        spool.write_all(&bytes[1000..]).unwrap();
        let mut out = OutFile::create(&dir, "big").unwrap();
        for piece in bytes[..1000].chunks(188) {
            out.write_all(piece).unwrap();
        }
        spool.copy_to(&mut out).unwrap();
        assert_eq!(out.len(), bytes.len() as u64);
        let c = out.commit(&dir.join("big")).unwrap();
        assert_eq!(c.md5, <[u8; 16]>::from(Md5::digest(&bytes)));
        assert_eq!(fs::read(&c.path).unwrap(), bytes);

        let mut plain = PlainFile::create(&dir, "plain").unwrap();
        plain.write_all(&bytes[..10]).unwrap();
        plain.write_all(&bytes[10..]).unwrap();
        let target = dir.join("plain");
        assert_eq!(plain.commit(&target).unwrap(), Outcome::Written);
        assert_eq!(fs::read(&target).unwrap(), bytes);
    }

    #[test]
    fn plain_files_commit_idempotently() {
        let dir = scratch("plain");
        let target = dir.join("a.ts");
        let write = |b: &[u8]| {
            let mut f = PlainFile::create(&dir, "a").unwrap();
            f.write_all(b).unwrap();
            f.commit(&target)
        };
        assert_eq!(write(b"segment").unwrap(), Outcome::Written);
        assert_eq!(write(b"segment").unwrap(), Outcome::Unchanged);
        assert!(write(b"segmenT").is_err());
        assert!(write(b"segment+").is_err());
        assert_eq!(fs::read(&target).unwrap(), b"segment");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    }
}

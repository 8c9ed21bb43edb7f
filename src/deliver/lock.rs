//! One run per output root: an exclusive lock ([`File::lock`], `flock(2)` on Linux) on
//! `.kls-rec.lock` in the root (README "Bad input, crashes, full disks").
//!
//! Two cron runs writing the same tree would race on the callback spool and the delivered-log.
//! The lock is advisory and tied to the open file: it is released when [`OutputLock`] drops and
//! by the kernel when the process dies, so a crash never leaves a stale lock. The holder writes
//! its pid into the file, which the second run names in its message.

use std::fs::{self, File, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// File name of the lock in the output root.
pub(crate) const LOCK_FILE: &str = ".kls-rec.lock";

/// Longest pid text read back from a lock file (the file may hold anything).
const PID_TEXT_MAX: u64 = 64;

/// The held lock; released on drop.
#[derive(Debug)]
pub struct OutputLock {
    root: PathBuf,
    // Keeps the descriptor, and with it the lock, open.
    _file: File,
}

impl OutputLock {
    /// Locks `root` (created if missing). With `wait`, blocks until the other run ends;
    /// without, fails at once with a message naming the other run's pid.
    pub fn acquire(root: &Path, wait: bool) -> Result<OutputLock> {
        fs::create_dir_all(root)
            .with_context(|| format!("creating output directory {}", root.display()))?;
        let path = root.join(LOCK_FILE);
        // Not truncated on open: the current holder's pid must stay readable.
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("opening lock file {}", path.display()))?;
        if wait {
            lock_waiting(&file).with_context(|| format!("locking {}", path.display()))?;
        } else {
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => bail!(
                    "output directory {} is in use by another kls-rec run ({}); wait for it \
                     to finish, or run with a different --out-dir",
                    root.display(),
                    holder(&mut file)
                ),
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("locking {}", path.display()));
                }
            }
        }
        write_pid(&mut file).with_context(|| format!("writing pid to {}", path.display()))?;
        Ok(OutputLock {
            root: root.to_path_buf(),
            _file: file,
        })
    }

    /// The locked output root.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The lock file's path.
    #[cfg(test)]
    pub(crate) fn path(&self) -> PathBuf {
        self.root.join(LOCK_FILE)
    }
}

/// Blocks until the lock is ours; a signal arriving meanwhile does not end the wait.
fn lock_waiting(file: &File) -> std::io::Result<()> {
    loop {
        match file.lock() {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

fn write_pid(file: &mut File) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    writeln!(file, "{}", std::process::id())?;
    file.flush()
}

/// "pid 1234" from the lock file, or a neutral phrase when it is unreadable.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let read = file
        .seek(SeekFrom::Start(0))
        .and_then(|_| file.take(PID_TEXT_MAX).read_to_string(&mut text));
    match read.ok().and_then(|_| text.trim().parse::<u32>().ok()) {
        Some(pid) => format!("pid {pid}"),
        None => "pid unknown".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::scratch;

    #[test]
    fn second_acquire_fails_until_the_first_is_dropped() {
        let root = scratch("deliver-lock");
        let first = OutputLock::acquire(&root, false).unwrap();
        let pid = std::process::id();
        assert_eq!(
            fs::read_to_string(first.path()).unwrap().trim(),
            pid.to_string()
        );
        let err = OutputLock::acquire(&root, false).unwrap_err().to_string();
        assert!(err.contains(&format!("pid {pid}")), "{err}");
        assert!(err.contains("in use by another kls-rec run"), "{err}");
        drop(first);
        let again = OutputLock::acquire(&root, false).unwrap();
        assert_eq!(again.root(), root.as_path());
    }

    #[test]
    fn waiting_acquire_gets_the_lock_when_released() {
        let root = scratch("deliver-lock-wait");
        let first = OutputLock::acquire(&root, false).unwrap();
        let r2 = root.clone();
        let waiter = std::thread::spawn(move || OutputLock::acquire(&r2, true).map(|_| ()));
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!waiter.is_finished());
        drop(first);
        waiter.join().unwrap().unwrap();
    }

    #[test]
    fn garbage_in_the_lock_file_is_harmless() {
        let root = scratch("deliver-lock-garbage");
        fs::write(root.join(LOCK_FILE), vec![0xffu8; 100_000]).unwrap();
        let held = OutputLock::acquire(&root, false).unwrap();
        let err = OutputLock::acquire(&root, false).unwrap_err().to_string();
        assert!(err.contains("pid "), "{err}");
        drop(held);
    }
}

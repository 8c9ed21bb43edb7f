//! A test-only kill switch for the crash tests: with `KLS_REC_TEST_KILL_AT=SESSION:BYTE` in its
//! environment, `record` kills itself with SIGKILL at the first progress report at or past byte
//! `BYTE` of the `SESSION`-th push session it reads (0-based, in the order the run reads them),
//! or at the first report of a later session when that one ends first. Progress is reported
//! every few hundred packets and after each file is complete (uploaded, its callback sent), so
//! the kill lands between those steps, as a `kill -9` at that moment would.
//!
//! Not a user setting (it is in no `--help`): without the variable, [`KillAt::from_env`] only
//! forwards the reports, one branch per report.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::record::Progress;

/// The variable that arms the switch.
pub const ENV: &str = "KLS_REC_TEST_KILL_AT";

/// Progress reports, forwarded; with the switch armed, the kill.
pub(crate) struct KillAt<'a> {
    inner: &'a (dyn Progress + Sync),
    /// (session, byte) to die at.
    at: Option<(u64, u64)>,
    /// Sessions begun so far.
    sessions: AtomicU64,
    /// Last position reported in the current session.
    position: AtomicU64,
}

impl<'a> KillAt<'a> {
    /// Reads [`ENV`]; a value that does not parse leaves the switch off.
    pub(crate) fn from_env(inner: &'a (dyn Progress + Sync)) -> KillAt<'a> {
        let at = std::env::var(ENV).ok().and_then(|v| {
            let (s, b) = v.split_once(':')?;
            Some((s.trim().parse().ok()?, b.trim().parse().ok()?))
        });
        KillAt {
            inner,
            at,
            sessions: AtomicU64::new(0),
            position: AtomicU64::new(0),
        }
    }

    fn check(&self) {
        let Some((session, byte)) = self.at else {
            return;
        };
        let Some(current) = self.sessions.load(Ordering::Relaxed).checked_sub(1) else {
            return;
        };
        let position = self.position.load(Ordering::Relaxed);
        if current > session || (current == session && position >= byte) {
            // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
}

impl Progress for KillAt<'_> {
    fn plan(&self, pushes: usize, bytes: Option<u64>) {
        self.inner.plan(pushes, bytes);
    }

    fn input(&self, name: &str, size: Option<u64>) {
        self.inner.input(name, size);
        self.sessions.fetch_add(1, Ordering::Relaxed);
        self.position.store(0, Ordering::Relaxed);
        self.check();
    }

    fn position(&self, bytes: u64) {
        self.inner.position(bytes);
        self.position.store(bytes, Ordering::Relaxed);
        self.check();
    }

    fn file_done(&self, key: &str) {
        self.inner.file_done(key);
        self.check();
    }
}

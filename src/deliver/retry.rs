//! Bounded retries with exponential backoff and jitter, shared by the S3 uploader and the callback
//! poster (README "Callbacks", "Upload and callback delivery", "Bad input, crashes, full disks": an
//! endpoint that fails or hangs never blocks a run forever).
//!
//! The delay before attempt `n + 1` is drawn uniformly from `[d/2, d]` where
//! `d = min(initial_backoff · 2ⁿ⁻¹, max_backoff)` ("equal jitter"), so many cron jobs retrying at
//! once spread out. Both the number of attempts and the total time are bounded.

use std::fmt;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Hidden knobs (environment only, not flags): attempts in all, and the longest single delay in
/// milliseconds. They exist so tests and impatient operators need not wait out the defaults.
pub(crate) const ENV_ATTEMPTS: &str = "KLS_REC_RETRY_ATTEMPTS";
pub(crate) const ENV_MAX_DELAY_MS: &str = "KLS_REC_RETRY_MAX_MS";

/// How often and how long to retry one operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub(crate) max_attempts: u32,
    /// Delay before the second attempt (before jitter).
    pub(crate) initial_backoff: Duration,
    /// Upper bound of any one delay.
    pub(crate) max_backoff: Duration,
    /// No new attempt starts once this much time has passed since the first one.
    pub(crate) max_total: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, 1 s doubling to at most 16 s, 2 minutes in all.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(16),
            max_total: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retry.
    #[cfg(test)]
    pub(crate) fn once() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// A fast policy for tests: `attempts` tries a few milliseconds apart.
    pub fn quick(attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts: attempts,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(40),
            max_total: Duration::from_secs(10),
        }
    }

    /// The default policy with [`ENV_ATTEMPTS`] and [`ENV_MAX_DELAY_MS`] applied when set.
    pub(crate) fn from_env() -> Result<RetryPolicy> {
        Self::default().with_overrides(
            std::env::var(ENV_ATTEMPTS).ok().as_deref(),
            std::env::var(ENV_MAX_DELAY_MS).ok().as_deref(),
        )
    }

    fn with_overrides(mut self, attempts: Option<&str>, max_ms: Option<&str>) -> Result<Self> {
        if let Some(a) = attempts.filter(|a| !a.trim().is_empty()) {
            let n: u32 = a
                .trim()
                .parse()
                .with_context(|| format!("{ENV_ATTEMPTS}={a:?}: not a number of attempts"))?;
            if n == 0 {
                bail!("{ENV_ATTEMPTS}={a:?}: at least 1 attempt is needed");
            }
            self.max_attempts = n;
        }
        if let Some(m) = max_ms.filter(|m| !m.trim().is_empty()) {
            let ms: u64 = m
                .trim()
                .parse()
                .with_context(|| format!("{ENV_MAX_DELAY_MS}={m:?}: not milliseconds"))?;
            self.max_backoff = Duration::from_millis(ms);
            self.initial_backoff = self.initial_backoff.min(self.max_backoff);
        }
        Ok(self)
    }

    /// The jittered delay after failed attempt number `attempt` (1-based).
    fn delay(&self, attempt: u32, rng: &mut Jitter) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        let full = self
            .initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff);
        let half = full / 2;
        half + half.mul_f64(rng.next_unit())
    }
}

/// Whether a failed attempt is worth repeating.
#[derive(Debug)]
pub(crate) enum Attempt<E> {
    /// Network errors, timeouts, 5xx, 408, 429: another attempt may succeed.
    Transient(E),
    /// The other side refused for good (4xx, bad input): retrying cannot help.
    Permanent(E),
}

/// The last error of an operation that gave up, with how hard it tried.
#[derive(Debug)]
pub(crate) struct GaveUp<E> {
    pub(crate) error: E,
    pub(crate) attempts: u32,
    pub(crate) elapsed: Duration,
    /// False when the last error was permanent (no retry was attempted for it).
    pub(crate) transient: bool,
}

impl<E: fmt::Display> fmt::Display for GaveUp<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)?;
        if self.attempts > 1 {
            write!(
                f,
                " after {} attempts over {} s",
                self.attempts,
                self.elapsed.as_secs_f64().round() as u64
            )?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for GaveUp<E> {}

/// Runs `op` until it succeeds, fails permanently, or the policy is exhausted. `op` receives
/// the 1-based attempt number.
pub(crate) fn retry<T, E>(
    policy: &RetryPolicy,
    mut op: impl FnMut(u32) -> Result<T, Attempt<E>>,
) -> Result<T, GaveUp<E>> {
    let started = Instant::now();
    let mut rng = Jitter::seeded();
    let mut attempt = 1u32;
    loop {
        let (error, transient) = match op(attempt) {
            Ok(v) => return Ok(v),
            Err(Attempt::Transient(e)) => (e, true),
            Err(Attempt::Permanent(e)) => (e, false),
        };
        let delay = policy.delay(attempt, &mut rng);
        let out_of_time = started.elapsed() + delay > policy.max_total;
        if !transient || attempt >= policy.max_attempts.max(1) || out_of_time {
            return Err(GaveUp {
                error,
                attempts: attempt,
                elapsed: started.elapsed(),
                transient,
            });
        }
        std::thread::sleep(delay);
        attempt += 1;
    }
}

/// xorshift64*: jitter needs spread, not cryptographic quality, and no dependency.
struct Jitter(u64);

impl Jitter {
    fn seeded() -> Jitter {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        // The pid separates processes started in the same nanosecond by cron.
        Jitter((nanos ^ u64::from(std::process::id()).rotate_left(32)) | 1)
    }

    /// A number in `[0, 1)`.
    fn next_unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (r >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn succeeds_after_transient_failures() {
        let mut calls = 0;
        let r: Result<u32, GaveUp<&str>> = retry(&RetryPolicy::quick(5), |n| {
            calls += 1;
            if n < 3 {
                Err(Attempt::Transient("busy"))
            } else {
                Ok(n)
            }
        });
        assert_eq!(r.unwrap(), 3);
        assert_eq!(calls, 3);
    }

    /// Runs a quick 4-attempt policy over an operation that always fails with `error` of the
    /// kind `fail`; gives the calls made and what it gave up with.
    fn always_failing(
        fail: fn(&'static str) -> Attempt<&'static str>,
        error: &'static str,
    ) -> (u32, GaveUp<&'static str>) {
        let mut calls = 0;
        let r: Result<(), _> = retry(&RetryPolicy::quick(4), |_| {
            calls += 1;
            Err(fail(error))
        });
        (calls, r.unwrap_err())
    }

    #[test]
    fn gives_up_after_max_attempts() {
        let (calls, e) = always_failing(Attempt::Transient, "connection refused");
        assert_eq!((calls, e.attempts, e.transient), (4, 4, true));
        assert!(
            e.to_string()
                .starts_with("connection refused after 4 attempts over ")
        );
    }

    #[test]
    fn permanent_errors_are_not_retried() {
        let (calls, e) = always_failing(Attempt::Permanent, "403 forbidden");
        assert_eq!((calls, e.attempts, e.transient), (1, 1, false));
        assert_eq!(e.to_string(), "403 forbidden");
    }

    #[test]
    fn total_time_bounds_the_attempts() {
        let policy = RetryPolicy {
            max_attempts: 1000,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(20),
            max_total: Duration::from_millis(100),
        };
        let started = Instant::now();
        let e = retry::<(), _>(&policy, |_| Err(Attempt::Transient("down"))).unwrap_err();
        assert!(e.attempts < 20, "{}", e.attempts);
        assert!(started.elapsed() < Duration::from_millis(400));
    }

    #[test]
    fn environment_shortens_the_policy() {
        let d = RetryPolicy::default();
        assert_eq!(d.clone().with_overrides(None, Some(" ")).unwrap(), d);
        let p = d.clone().with_overrides(Some("2"), Some("30")).unwrap();
        assert_eq!(p.max_attempts, 2);
        assert_eq!(p.max_backoff, Duration::from_millis(30));
        assert_eq!(p.initial_backoff, Duration::from_millis(30));
        assert_eq!(p.max_total, d.max_total);
        for (a, m) in [(Some("0"), None), (Some("x"), None), (None, Some("-1"))] {
            assert!(d.clone().with_overrides(a, m).is_err(), "{a:?} {m:?}");
        }
    }

    #[test]
    fn delays_grow_jittered_and_capped() {
        let p = RetryPolicy::default();
        let mut rng = Jitter(42);
        for attempt in 1..40 {
            let d = p.delay(attempt, &mut rng);
            let full = Duration::from_secs(1u64 << (attempt - 1).min(4)).min(p.max_backoff);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
    }
}

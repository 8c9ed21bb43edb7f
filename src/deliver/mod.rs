//! Delivery of finished recordings (README "Callbacks", "Upload and callback delivery", "Bad input,
//! crashes, full disks"): S3 upload, HTTP callbacks with retries, a spool and a delivered-log, and
//! a lock that keeps two runs out of one output root.
//!
//! How a run uses it, in order:
//!
//! 1. [`init_tls`] once at the start of `main` (both HTTP stacks share one rustls provider);
//! 2. [`OutputLock::acquire`] on the output root, held for the whole run;
//! 3. with `--upload`: [`Uploader::new`], then [`Uploader::upload_produced`] (or
//!    [`Uploader::upload`] per file) for each finished file, and [`Uploader::key_for`] /
//!    [`Uploader::bucket`] for the callback's keys and bucket;
//! 4. with `--callback`: [`Poster::new`], [`CallbackSender::new`],
//!    [`CallbackSender::redeliver_spool`] once, then [`CallbackSender::send`] per callback.
//!
//! Network failures never lose a recording: the local file stays, the callback goes to the
//! spool (or reports status 4 when its upload gave up), and the next run finishes the job.

pub(crate) mod http;
pub(crate) mod lock;
pub(crate) mod retry;
pub(crate) mod s3;
pub(crate) mod sender;
pub(crate) mod spool;

pub use http::{Poster, Timeouts};
pub use lock::OutputLock;
pub use retry::RetryPolicy;
pub(crate) use s3::{S3Access, S3Flags};
pub use s3::{S3Credentials, S3Options, UploadOutcome, Uploader};
pub use sender::{CallbackSender, Sent};

/// Installs the process-wide rustls crypto provider (aws-lc-rs, the one rust-s3 is built with).
/// Without exactly one installed provider, the first HTTPS request panics. Idempotent; the
/// constructors here call it too.
pub(crate) fn init_tls() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err means another provider is already installed, which serves as well.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn init_tls_is_idempotent() {
        super::init_tls();
        super::init_tls();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}

//! S3 access keys: read from the standard AWS environment variables only (never from the
//! command line), never shown in `Debug` output or messages.

use std::fmt;

use anyhow::{Result, bail};
use s3::creds::Credentials;

/// Access keys, from the environment only. `Debug` never shows them.
#[derive(Clone)]
pub struct S3Credentials {
    access_key: String,
    secret_key: String,
    session_token: Option<String>,
}

impl fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("S3Credentials { .. }")
    }
}

impl S3Credentials {
    pub fn new(access_key: &str, secret_key: &str, session_token: Option<&str>) -> S3Credentials {
        S3Credentials {
            access_key: access_key.to_string(),
            secret_key: secret_key.to_string(),
            session_token: session_token.map(str::to_owned),
        }
    }

    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optionally `AWS_SESSION_TOKEN`.
    pub fn from_env() -> Result<S3Credentials> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(a), Some(s)) => Ok(S3Credentials::new(
                &a,
                &s,
                var("AWS_SESSION_TOKEN").as_deref(),
            )),
            _ => bail!(
                "uploading needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
                 in the environment"
            ),
        }
    }

    /// Removes the keys from a message that might quote them (a server's error body).
    pub(super) fn scrub(&self, message: &str) -> String {
        let mut m = message.to_string();
        let secrets = [Some(&self.access_key), Some(&self.secret_key)];
        for s in secrets
            .into_iter()
            .chain([self.session_token.as_ref()])
            .flatten()
        {
            if s.len() >= 4 {
                m = m.replace(s.as_str(), "[redacted]");
            }
        }
        m
    }

    pub(super) fn to_rust_s3(&self) -> Result<Credentials> {
        Credentials::new(
            Some(&self.access_key),
            Some(&self.secret_key),
            None,
            self.session_token.as_deref(),
            None,
        )
        .map_err(|e| anyhow::anyhow!("S3 credentials: {e}"))
    }
}

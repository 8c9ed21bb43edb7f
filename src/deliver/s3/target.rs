//! `s3://BUCKET[/PREFIX]` targets and the object keys under them (README "Upload and callback
//! delivery", "Bad input, crashes, full disks": nothing escapes the upload prefix).

use std::fmt;
use std::str::FromStr;

use anyhow::{Result, bail};

/// A bucket and a normalised key prefix (no leading, trailing or doubled slashes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) bucket: String,
    pub(crate) prefix: String,
}

/// Longest bucket name S3 accepts.
const BUCKET_MAX: usize = 63;

impl FromStr for Target {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Target> {
        let Some(rest) = s.strip_prefix("s3://") else {
            bail!("--upload {s}: expected s3://BUCKET[/PREFIX]");
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = !bucket.is_empty()
            && bucket.len() <= BUCKET_MAX
            && bucket
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_');
        if !bucket_ok {
            bail!(
                "--upload {s}: bucket name {bucket:?} must be 1 to {BUCKET_MAX} letters, digits, \
                 '.', '-' or '_'"
            );
        }
        let mut segments = Vec::new();
        for seg in prefix.split('/').filter(|p| !p.is_empty()) {
            if seg == "." || seg == ".." || seg.chars().any(char::is_control) {
                bail!("--upload {s}: prefix segment {seg:?} is not allowed");
            }
            segments.push(seg);
        }
        Ok(Target {
            bucket: bucket.to_string(),
            prefix: segments.join("/"),
        })
    }
}

impl Target {
    /// `PREFIX/key`, one slash between, none leading.
    pub(crate) fn key_for(&self, key: &str) -> String {
        let key = key.trim_start_matches('/');
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}", self.bucket)?;
        if !self.prefix.is_empty() {
            write!(f, "/{}", self.prefix)?;
        }
        Ok(())
    }
}

/// Path-style addressing suits endpoints without bucket subdomains: an IP address or
/// `localhost` (MinIO, test servers).
pub(crate) fn default_path_style(endpoint: &str) -> bool {
    let rest = endpoint.split_once("://").map_or(endpoint, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_normalise() {
        let t: Target = "s3://media//a///b/".parse().unwrap();
        assert_eq!(
            t,
            Target {
                bucket: "media".into(),
                prefix: "a/b".into()
            }
        );
        assert_eq!(t.to_string(), "s3://media/a/b");
        assert_eq!(t.key_for("record/x.flv"), "a/b/record/x.flv");
        let bare: Target = "s3://media".parse().unwrap();
        assert_eq!(bare.key_for("/record/x.flv"), "record/x.flv");
        assert_eq!(bare.to_string(), "s3://media");
    }

    #[test]
    fn bad_targets_are_refused() {
        for bad in [
            "media",
            "s3://",
            "s3:///prefix",
            "s3://bad bucket",
            "s3://media/../etc",
            "s3://media/a/./b",
            "s3://media/a\u{0}b",
        ] {
            assert!(bad.parse::<Target>().is_err(), "{bad}");
        }
        let long = format!("s3://{}", "a".repeat(64));
        assert!(long.parse::<Target>().is_err());
    }

    #[test]
    fn path_style_for_ips_and_localhost() {
        for yes in [
            "http://127.0.0.1:9000",
            "http://localhost",
            "https://LOCALHOST:443/",
            "http://[::1]:9000",
            "http://10.0.0.5",
        ] {
            assert!(default_path_style(yes), "{yes}");
        }
        for no in [
            "https://ks3-cn-beijing.ksyuncs.com",
            "https://s3.amazonaws.com",
            "http://localhost.example.com",
        ] {
            assert!(!default_path_style(no), "{no}");
        }
    }
}

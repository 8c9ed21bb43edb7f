//! S3 access keys, found as S3 tools find them ([`resolve`]); never from the command line,
//! never shown in `Debug` output or messages.
//!
//! Precedence (the first that applies is used; one that applies but fails is an error, not a
//! reason to try the next):
//! 1. the environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`;
//! 2. the profile ([`super::profile`]): `aws_access_key_id`, `aws_secret_access_key`,
//!    `aws_session_token`, or `role_arn` with `web_identity_token_file`;
//! 3. web identity (a Kubernetes service account): `AWS_ROLE_ARN` with
//!    `AWS_WEB_IDENTITY_TOKEN_FILE`, exchanged at STS;
//! 4. container credentials (ECS, EKS Pod Identity): `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`
//!    or `AWS_CONTAINER_CREDENTIALS_FULL_URI`;
//! 5. the instance's role (EC2 instance metadata, IMDSv2 then v1), unless
//!    `AWS_EC2_METADATA_DISABLED=true`; tried only on an EC2 instance.
//!
//! Credentials from 3–5 expire; rust-s3 renews them before a request once they have.

use std::fmt;

use anyhow::{Result, anyhow, bail};
use s3::creds::Credentials;

use super::profile::Profile;

/// Access keys and where they came from. `Debug` never shows them.
#[derive(Clone)]
pub struct S3Credentials {
    inner: Credentials,
    source: String,
}

impl fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S3Credentials {{ source: {:?}, .. }}", self.source)
    }
}

impl S3Credentials {
    /// Keys given by the caller (tests, library users).
    pub fn new(access_key: &str, secret_key: &str, session_token: Option<&str>) -> S3Credentials {
        S3Credentials::from_keys(access_key, secret_key, session_token, "given keys")
    }

    fn from_keys(access: &str, secret: &str, token: Option<&str>, source: &str) -> S3Credentials {
        S3Credentials {
            // With a key given, rust-s3 looks nowhere else and cannot fail.
            inner: Credentials::new(Some(access), Some(secret), None, token, None)
                .unwrap_or_else(|_| unreachable!("keys given")),
            source: source.to_string(),
        }
    }

    /// Where the keys came from ("the environment", "profile ci" …), for messages.
    #[cfg(test)]
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// Removes the keys from a message that might quote them (a server's error body).
    pub(super) fn scrub(&self, message: &str) -> String {
        let mut m = message.to_string();
        let c = &self.inner;
        for s in [
            &c.access_key,
            &c.secret_key,
            &c.session_token,
            &c.security_token,
        ]
        .into_iter()
        .flatten()
        {
            if s.len() >= 4 {
                m = m.replace(s.as_str(), "[redacted]");
            }
        }
        m
    }

    pub(super) fn to_rust_s3(&self) -> Result<Credentials> {
        Ok(self.inner.clone())
    }
}

/// The credentials the environment `env` and the selected `profile` give, in the order above.
pub(super) fn resolve(
    env: &dyn Fn(&str) -> Option<String>,
    profile: &Profile,
) -> Result<S3Credentials> {
    match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        (Some(a), Some(s)) => {
            let token = env("AWS_SESSION_TOKEN");
            return Ok(S3Credentials::from_keys(
                &a,
                &s,
                token.as_deref(),
                "the environment",
            ));
        }
        (Some(_), None) => bail!("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"),
        (None, Some(_)) => bail!("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"),
        (None, None) => {}
    }
    if let Some(c) = from_profile(env, profile)? {
        return Ok(c);
    }
    if env("AWS_ROLE_ARN").is_some() && env("AWS_WEB_IDENTITY_TOKEN_FILE").is_some() {
        let session = env("AWS_ROLE_SESSION_NAME").unwrap_or_else(|| "kls-rec".to_string());
        return Credentials::from_sts_env(&session)
            .map(|c| wrap(c, "web identity (AWS_ROLE_ARN)"))
            .map_err(|e| anyhow!("web identity credentials (AWS_ROLE_ARN): {}", plain(&e)));
    }
    if env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").is_some()
        || env("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some()
    {
        return Credentials::from_container_credentials_provider()
            .map(|c| wrap(c, "container credentials"))
            .map_err(|e| anyhow!("container credentials (AWS_CONTAINER_*): {}", plain(&e)));
    }
    let imds_off = env("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !imds_off
        && let Ok(c) = Credentials::from_instance_metadata_v2(false)
            .or_else(|_| Credentials::from_instance_metadata(false))
    {
        return Ok(wrap(c, "the instance's role"));
    }
    bail!(
        "no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE \
         with keys in ~/.aws/credentials, or run with a web identity (AWS_ROLE_ARN and \
         AWS_WEB_IDENTITY_TOKEN_FILE) or an instance role"
    )
}

/// Keys, or a web identity role, of the profile; `None` when it has neither.
fn from_profile(
    env: &dyn Fn(&str) -> Option<String>,
    p: &Profile,
) -> Result<Option<S3Credentials>> {
    let (credentials_file, config_file) = super::profile::files(env);
    let shown = |f: Option<std::path::PathBuf>| f.map_or("-".into(), |f| f.display().to_string());
    if p.named && !p.found {
        bail!(
            "AWS_PROFILE {}: no such profile in {} or {}",
            p.name,
            shown(credentials_file),
            shown(config_file)
        );
    }
    let source = format!("profile {}", p.name);
    match (p.get("aws_access_key_id"), p.get("aws_secret_access_key")) {
        (Some(a), Some(s)) => {
            let token = p.get("aws_session_token");
            return Ok(Some(S3Credentials::from_keys(a, s, token, &source)));
        }
        (Some(_), None) | (None, Some(_)) => {
            bail!("{source}: aws_access_key_id and aws_secret_access_key must both be set")
        }
        (None, None) => {}
    }
    if let (Some(role), Some(file)) = (p.get("role_arn"), p.get("web_identity_token_file")) {
        let token = std::fs::read_to_string(file)
            .map_err(|e| anyhow!("{source}: reading web_identity_token_file {file}: {e}"))?;
        let session = p.get("role_session_name").unwrap_or("kls-rec");
        return Credentials::from_sts(role, session, token.trim())
            .map(|c| Some(wrap(c, &source)))
            .map_err(|e| anyhow!("{source}: web identity credentials: {}", plain(&e)));
    }
    for unsupported in [
        "credential_process",
        "sso_session",
        "sso_start_url",
        "source_profile",
    ] {
        if p.get(unsupported).is_some() {
            bail!(
                "{source}: {unsupported} is not supported; export keys into the environment \
                 (e.g. `eval \"$(aws configure export-credentials --profile {} --format env)\"`)",
                p.name
            );
        }
    }
    Ok(None)
}

fn wrap(inner: Credentials, source: &str) -> S3Credentials {
    S3Credentials {
        inner,
        source: source.to_string(),
    }
}

/// A credential provider's error without URL queries (an STS request carries the web identity
/// token in its query).
fn plain(e: &dyn fmt::Display) -> String {
    e.to_string()
        .split_whitespace()
        .map(|w| w.split_once('?').map_or(w, |(before, _)| before))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    /// The profile `name` of a credentials file holding `text` (a directory per call, as the
    /// tests run at once).
    fn profile(text: &str, name: &str, named: bool) -> Profile {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = crate::testutil::scratch(&format!("s3-credentials-{n}"));
        std::fs::write(dir.join("credentials"), text).unwrap();
        let creds = dir.join("credentials").display().to_string();
        let missing = dir.join("none").display().to_string();
        let mut pairs = vec![("AWS_SHARED_CREDENTIALS_FILE", creds.as_str())];
        pairs.push(("AWS_CONFIG_FILE", missing.as_str()));
        if named {
            pairs.push(("AWS_PROFILE", name));
        }
        super::super::profile::load(&env_of(&pairs)).unwrap()
    }

    #[test]
    fn environment_keys_win_over_the_profile() {
        let p = profile(
            "[default]\naws_access_key_id = P\naws_secret_access_key = PS\n",
            "default",
            false,
        );
        let env = env_of(&[("AWS_ACCESS_KEY_ID", "E"), ("AWS_SECRET_ACCESS_KEY", "ES")]);
        let c = resolve(&env, &p).unwrap();
        assert_eq!(c.source(), "the environment");
        assert_eq!(c.inner.access_key.as_deref(), Some("E"));
        let c = resolve(&env_of(&[("AWS_EC2_METADATA_DISABLED", "true")]), &p).unwrap();
        assert_eq!(
            (c.source(), c.inner.access_key.as_deref()),
            ("profile default", Some("P"))
        );
        let half = resolve(&env_of(&[("AWS_ACCESS_KEY_ID", "E")]), &p).unwrap_err();
        assert!(
            half.to_string().contains("AWS_SECRET_ACCESS_KEY is not"),
            "{half}"
        );
    }

    #[test]
    fn missing_profiles_and_credentials_are_named_never_the_keys() {
        let off = env_of(&[("AWS_EC2_METADATA_DISABLED", "true")]);
        let p = profile("[default]\naws_access_key_id = P\n", "ci", true);
        let e = resolve(&off, &p).unwrap_err().to_string();
        assert!(e.contains("AWS_PROFILE ci: no such profile"), "{e}");
        let p = profile("[ci]\naws_access_key_id = SECRETKEYID\n", "ci", true);
        let e = resolve(&off, &p).unwrap_err().to_string();
        assert!(
            e.contains("must both be set") && !e.contains("SECRETKEYID"),
            "{e}"
        );
        let p = profile("[ci]\ncredential_process = /bin/x\n", "ci", true);
        let e = resolve(&off, &p).unwrap_err().to_string();
        assert!(e.contains("credential_process is not supported"), "{e}");
        let p = profile("[other]\n", "default", false);
        let e = resolve(&off, &p).unwrap_err().to_string();
        assert!(e.starts_with("no S3 credentials found"), "{e}");
        let c = S3Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI", Some("TOKEN123"));
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("AKID") && !dbg.contains("wJalr") && !dbg.contains("TOKEN"));
        assert_eq!(c.scrub("a TOKEN123 b"), "a [redacted] b");
    }

    #[test]
    fn queries_are_cut_from_provider_errors() {
        assert_eq!(
            plain(&"https://sts.amazonaws.com/?Action=x&WebIdentityToken=abc: refused"),
            "https://sts.amazonaws.com/ refused"
        );
    }
}

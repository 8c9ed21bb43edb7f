//! How S3 is reached, for uploads and `s3://` inputs alike: the command line's `--endpoint`,
//! `--region` and `--path-style` first, then what every S3 tool reads.
//!
//! - Endpoint: `--endpoint` (or `KLS_REC_ENDPOINT`) > `AWS_ENDPOINT_URL_S3` >
//!   `AWS_ENDPOINT_URL` > the profile's `endpoint_url` (the last three ignored with
//!   `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`) > AWS in the region.
//! - Region: `--region` > `AWS_REGION` > `AWS_DEFAULT_REGION` > the profile's `region` >
//!   `us-east-1`.
//! - Credentials: [`super::credentials`] (environment keys > profile > web identity >
//!   container > instance role), looked up once, on first use: a run that touches no bucket
//!   asks nothing of the environment.
//!
//! The profile is read from the AWS shared files ([`super::profile`]).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use anyhow::{Result, anyhow, bail};
use s3::Bucket;

use super::credentials::{self, S3Credentials};
use super::profile::{self, Profile};

/// The S3 settings of the command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct S3Flags {
    pub(crate) endpoint: Option<String>,
    pub(crate) region: Option<String>,
    /// `Some(true)` forces path-style addressing; `None` decides by the endpoint.
    pub(crate) path_style: Option<bool>,
}

/// The flags with the AWS environment and shared files they fall back on.
pub(crate) struct S3Access {
    flags: S3Flags,
    env: BTreeMap<String, String>,
    profile: OnceLock<Result<Profile, String>>,
    credentials: OnceLock<Result<S3Credentials, String>>,
}

impl fmt::Debug for S3Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Access")
            .field("flags", &self.flags)
            .finish_non_exhaustive()
    }
}

impl S3Access {
    /// The flags with this process's environment (`AWS_*` and `HOME`).
    pub(crate) fn from_env(flags: S3Flags) -> S3Access {
        let env = std::env::vars()
            .filter(|(k, _)| k.starts_with("AWS_") || k == "HOME")
            .collect();
        S3Access::with_env(flags, env)
    }

    /// The flags with the given environment (tests).
    pub(crate) fn with_env(flags: S3Flags, env: BTreeMap<String, String>) -> S3Access {
        let env = env.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        S3Access {
            flags,
            env,
            profile: OnceLock::new(),
            credentials: OnceLock::new(),
        }
    }

    fn var(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }

    fn profile(&self) -> Result<&Profile> {
        self.profile
            .get_or_init(|| profile::load(&|k| self.var(k)).map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow!("{e}"))
    }

    /// The endpoint URL and where it was set, if anywhere.
    pub(crate) fn endpoint(&self) -> Result<Option<(String, String)>> {
        if let Some(e) = &self.flags.endpoint {
            return Ok(Some((e.clone(), "--endpoint".into())));
        }
        let ignore = self
            .var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if ignore {
            return Ok(None);
        }
        for name in ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"] {
            if let Some(e) = self.var(name) {
                return Ok(Some((e, name.to_string())));
            }
        }
        let p = self.profile()?;
        Ok(p.get("endpoint_url")
            .map(|e| (e.to_string(), format!("endpoint_url of profile {}", p.name))))
    }

    /// The region, if set anywhere.
    pub(crate) fn region(&self) -> Result<Option<String>> {
        if let Some(r) = &self.flags.region {
            return Ok(Some(r.clone()));
        }
        if let Some(r) = self
            .var("AWS_REGION")
            .or_else(|| self.var("AWS_DEFAULT_REGION"))
        {
            return Ok(Some(r));
        }
        Ok(self.profile()?.get("region").map(str::to_owned))
    }

    /// The credentials, looked up on the first call.
    pub(crate) fn credentials(&self) -> Result<S3Credentials> {
        self.credentials
            .get_or_init(|| {
                let p = self.profile().map_err(|e| format!("{e:#}"))?;
                credentials::resolve(&|k| self.var(k), p).map_err(|e| format!("{e:#}"))
            })
            .clone()
            .map_err(|e| anyhow!("{e}"))
    }

    /// `--path-style`, if given.
    pub(crate) fn path_style(&self) -> Option<bool> {
        self.flags.path_style
    }

    /// A handle on `bucket`, and the endpoint as messages show it.
    pub(crate) fn connect(&self, bucket: &str) -> Result<(Box<Bucket>, String)> {
        let (endpoint, region) = self.endpoint_and_region()?;
        super::connect(
            bucket,
            endpoint.as_deref(),
            region.as_deref(),
            self.path_style(),
            &self.credentials()?,
        )
    }

    /// Endpoint and region, the endpoint checked for a scheme wherever it came from.
    pub(crate) fn endpoint_and_region(&self) -> Result<(Option<String>, Option<String>)> {
        let endpoint = match self.endpoint()? {
            Some((e, from)) if !(e.starts_with("http://") || e.starts_with("https://")) => {
                bail!("{from} {e}: must start with http:// or https://")
            }
            other => other.map(|(e, _)| e),
        };
        Ok((endpoint, self.region()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(flags: S3Flags, pairs: &[(&str, &str)]) -> S3Access {
        let env = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        S3Access::with_env(flags, env)
    }

    #[test]
    fn flags_win_then_variables_then_the_profile() {
        let home = crate::testutil::scratch("s3-access");
        std::fs::create_dir_all(home.join(".aws")).unwrap();
        std::fs::write(
            home.join(".aws/config"),
            "[default]\nregion = r-profile\nendpoint_url = http://profile:1\n",
        )
        .unwrap();
        let h = home.display().to_string();
        let only_profile = access(S3Flags::default(), &[("HOME", &h)]);
        assert_eq!(
            only_profile.endpoint_and_region().unwrap(),
            (Some("http://profile:1".into()), Some("r-profile".into()))
        );
        let vars = [
            ("HOME", h.as_str()),
            ("AWS_ENDPOINT_URL", "http://generic:2"),
            ("AWS_ENDPOINT_URL_S3", "http://s3:3"),
            ("AWS_DEFAULT_REGION", "r-default"),
        ];
        let env = access(S3Flags::default(), &vars);
        assert_eq!(
            env.endpoint_and_region().unwrap(),
            (Some("http://s3:3".into()), Some("r-default".into()))
        );
        let flags = S3Flags {
            endpoint: Some("http://flag:4".into()),
            region: Some("r-flag".into()),
            path_style: None,
        };
        assert_eq!(
            access(flags, &vars).endpoint_and_region().unwrap(),
            (Some("http://flag:4".into()), Some("r-flag".into()))
        );
        let ignored = access(
            S3Flags::default(),
            &[
                ("HOME", &h),
                ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
            ],
        );
        assert_eq!(ignored.endpoint().unwrap(), None);
        let bad = access(S3Flags::default(), &[("AWS_ENDPOINT_URL", "minio:9000")]);
        let e = bad.endpoint_and_region().unwrap_err().to_string();
        assert!(
            e.starts_with("AWS_ENDPOINT_URL minio:9000: must start"),
            "{e}"
        );
    }

    #[test]
    fn nothing_is_looked_up_before_use() {
        // A profile that does not exist is an error only once S3 is used.
        let a = access(
            S3Flags::default(),
            &[("AWS_PROFILE", "nope"), ("HOME", "/nonexistent")],
        );
        assert!(format!("{a:?}").starts_with("S3Access"));
        let e = a.credentials().unwrap_err().to_string();
        assert!(e.contains("AWS_PROFILE nope"), "{e}");
    }
}

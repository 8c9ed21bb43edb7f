//! The AWS shared files, read as the AWS CLI and SDKs read them: `~/.aws/credentials`
//! (`AWS_SHARED_CREDENTIALS_FILE`), sections `[NAME]`, and `~/.aws/config` (`AWS_CONFIG_FILE`),
//! sections `[default]` and `[profile NAME]`. The profile is `AWS_PROFILE` (else
//! `AWS_DEFAULT_PROFILE`, else `default`). For a setting both files hold, the credentials file
//! wins. Lines are `key = value`; `#` and `;` start comments; indented lines (the sub-settings
//! of `s3 =` and the like) and sections of other kinds (`[sso-session …]`, `[services …]`) are
//! skipped. A missing file is no error; an unreadable or malformed one is, with file and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Settings of the selected profile, merged from both files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Profile {
    /// The profile's name, as selected.
    pub(crate) name: String,
    /// Whether the name was asked for (`AWS_PROFILE`), so its absence is an error.
    pub(crate) named: bool,
    /// Whether either file has a section for it.
    pub(crate) found: bool,
    settings: BTreeMap<String, String>,
}

impl Profile {
    /// A setting of the profile (`region`, `endpoint_url`, `aws_access_key_id` …).
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.settings
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Where the two files are: the variables, else under `home`.
pub(crate) fn files(env: &dyn Fn(&str) -> Option<String>) -> (Option<PathBuf>, Option<PathBuf>) {
    let home = env("HOME").map(PathBuf::from);
    let under_home = |name: &str| home.as_ref().map(|h| h.join(".aws").join(name));
    let credentials = env("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| under_home("credentials"));
    let config = env("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| under_home("config"));
    (credentials, config)
}

/// The selected profile from the files the environment names.
pub(crate) fn load(env: &dyn Fn(&str) -> Option<String>) -> Result<Profile> {
    let asked = env("AWS_PROFILE").or_else(|| env("AWS_DEFAULT_PROFILE"));
    let name = asked.clone().unwrap_or_else(|| "default".to_string());
    let (credentials, config) = files(env);
    let mut profile = Profile {
        name: name.clone(),
        named: asked.is_some(),
        ..Profile::default()
    };
    // Config first, so the credentials file's values replace its.
    let config_section = if name == "default" {
        "default".to_string()
    } else {
        format!("profile {name}")
    };
    for (file, section) in [(config, config_section), (credentials, name.clone())] {
        let Some(file) = file else { continue };
        if let Some(found) = read_section(&file, &section)? {
            profile.found = true;
            profile.settings.extend(found);
        }
    }
    Ok(profile)
}

/// The `key = value` pairs of `[section]` in `file`; `None` when the file or section is absent.
fn read_section(file: &Path, section: &str) -> Result<Option<BTreeMap<String, String>>> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
    };
    parse_section(&text, section).with_context(|| format!("reading {}", file.display()))
}

fn parse_section(text: &str, section: &str) -> Result<Option<BTreeMap<String, String>>> {
    let mut current: Option<String> = None;
    let mut found: Option<BTreeMap<String, String>> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(name) = rest.strip_suffix(']') else {
                bail!("line {}: a section header must end with ']'", n + 1);
            };
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            if name == section {
                found.get_or_insert_with(BTreeMap::new);
            }
            current = Some(name);
            continue;
        }
        if raw.starts_with([' ', '\t']) {
            // A sub-setting (`s3 =` followed by indented lines): not read.
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            bail!("line {}: expected `key = value`", n + 1);
        };
        if current.is_none() {
            bail!("line {}: a setting before any [section]", n + 1);
        }
        if current.as_deref() == Some(section)
            && let Some(map) = found.as_mut()
        {
            map.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::scratch;

    fn env_of(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    #[test]
    fn sections_comments_and_sub_settings() {
        let text = "# comment\n[default]\nregion = eu-west-1\n\n[profile  backfill]\n\
                    region=ap-east-1 \n; another\ns3 =\n  addressing_style = path\n\
                    endpoint_url = http://127.0.0.1:9000\n[services x]\nregion = no\n";
        let b = parse_section(text, "profile backfill").unwrap().unwrap();
        assert_eq!(b.get("region").map(String::as_str), Some("ap-east-1"));
        assert_eq!(
            b.get("endpoint_url").map(String::as_str),
            Some("http://127.0.0.1:9000")
        );
        assert!(!b.contains_key("addressing_style"));
        assert_eq!(parse_section(text, "profile other").unwrap(), None);
        let e = parse_section("[a]\nno equals sign\n", "a").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        assert!(parse_section("region = x\n", "default").is_err());
        assert!(parse_section("[a\n", "a").is_err());
    }

    #[test]
    fn credentials_file_wins_over_config_and_profiles_are_selected() {
        let home = scratch("s3-profile");
        std::fs::create_dir_all(home.join(".aws")).unwrap();
        std::fs::write(
            home.join(".aws/credentials"),
            "[default]\naws_access_key_id = D\n[ci]\naws_access_key_id = C\n",
        )
        .unwrap();
        std::fs::write(
            home.join(".aws/config"),
            "[default]\nregion = r-default\n[profile ci]\naws_access_key_id = from-config\n\
             region = r-ci\n",
        )
        .unwrap();
        let h = home.display().to_string();
        let p = load(&env_of(&[("HOME", h.clone())])).unwrap();
        assert_eq!(
            (p.name.as_str(), p.named, p.found),
            ("default", false, true)
        );
        assert_eq!(
            (p.get("aws_access_key_id"), p.get("region")),
            (Some("D"), Some("r-default"))
        );
        let ci = load(&env_of(&[
            ("HOME", h.clone()),
            ("AWS_PROFILE", "ci".into()),
        ]))
        .unwrap();
        assert_eq!(
            (ci.get("aws_access_key_id"), ci.get("region")),
            (Some("C"), Some("r-ci"))
        );
        let none = load(&env_of(&[("HOME", h), ("AWS_PROFILE", "nope".into())])).unwrap();
        assert!(none.named && !none.found);
        // The variables name other files.
        let elsewhere = home.join("creds.ini");
        std::fs::write(&elsewhere, "[x]\naws_access_key_id = X\n").unwrap();
        let x = load(&env_of(&[
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                elsewhere.display().to_string(),
            ),
            (
                "AWS_CONFIG_FILE",
                home.join("missing").display().to_string(),
            ),
            ("AWS_PROFILE", "x".into()),
        ]))
        .unwrap();
        assert_eq!(x.get("aws_access_key_id"), Some("X"));
    }
}

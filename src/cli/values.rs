//! The value grammars of flags and variables: sizes, shards, durations, URLs, upload targets,
//! timeline paths and on/off switches. Each returns the message clap shows on a bad value.

use std::path::PathBuf;

use crate::record::Shard;

/// Sizes like `64MiB`, `5MB`, `1048576` (bytes); binary and decimal units.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let n: u64 = t[..split]
        .parse()
        .map_err(|_| format!("'{s}' is not a size (like 64MiB)"))?;
    let unit: u64 = match t[split..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        u => {
            return Err(format!(
                "'{s}': unknown unit '{u}' (B, KiB, MiB, GiB, kB, MB, GB)"
            ));
        }
    };
    n.checked_mul(unit)
        .ok_or_else(|| format!("'{s}' is too large"))
}

/// `--shard K/N`: shard K (0-based) of N.
pub(crate) fn parse_shard(s: &str) -> Result<Shard, String> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| format!("'{s}' is not K/N (like 0/3)"))?;
    let (index, count): (u64, u64) = (
        k.trim()
            .parse()
            .map_err(|_| format!("'{s}': K is not a number"))?,
        n.trim()
            .parse()
            .map_err(|_| format!("'{s}': N is not a number"))?,
    );
    if count == 0 || index >= count {
        return Err(format!("'{s}': K must be below N (shards are 0 to N-1)"));
    }
    Ok(Shard { index, count })
}

/// Durations: a sequence of number-and-unit terms, units `d`, `h`, `m`, `s`, `ms`, each once
/// and largest first, spaces between terms allowed (`6h`, `1h30m`, `1h 30m`, `1.5s`, `1d`); a
/// bare whole number is seconds (`0`, `90`). No exponents, signs or unitless fractions.
pub(crate) fn parse_duration_ms(s: &str) -> Result<i64, String> {
    const UNITS: [(&str, f64); 5] = [
        ("d", 86_400_000.0),
        ("h", 3_600_000.0),
        ("m", 60_000.0),
        ("s", 1000.0),
        ("ms", 1.0),
    ];
    let like = "like 6h, 1h30m, 1h 30m, 90s, 500ms";
    let t = s.trim();
    if t.is_empty() {
        return Err(format!("empty duration ({like})"));
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse::<i64>()
            .ok()
            .and_then(|n| n.checked_mul(1000))
            .filter(|&ms| ms <= 1_000_000_000_000_000)
            .ok_or_else(|| format!("'{s}' is out of range"));
    }
    let mut total = 0.0;
    let mut rest = t;
    let mut next_unit = 0; // terms come largest unit first, each once
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        let value: f64 = match number.parse() {
            Ok(v) if !number.starts_with('.') && !number.ends_with('.') => v,
            _ => return Err(format!("'{s}' is not a duration ({like})")),
        };
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let Some(at) = UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(if unit.is_empty() {
                format!("'{s}': {number} needs a unit (d, h, m, s or ms)")
            } else {
                format!("'{s}': unknown unit '{unit}' (d, h, m, s or ms)")
            });
        };
        if at < next_unit {
            return Err(format!("'{s}': each unit once, largest first ({like})"));
        }
        next_unit = at + 1;
        total += value * UNITS[at].1;
        rest = rest[unit_len..].trim_start();
    }
    let ms = total.round();
    if !(0.0..=1e15).contains(&ms) {
        return Err(format!("'{s}' is out of range"));
    }
    Ok(ms as i64)
}

/// A duration that must be longer than 0 (`--slice`, `--hls-segment`).
pub(crate) fn parse_positive_duration_ms(s: &str) -> Result<i64, String> {
    match parse_duration_ms(s)? {
        0 => Err(format!("'{s}': must be longer than 0")),
        ms => Ok(ms),
    }
}

/// An `http://` or `https://` URL with a host (`--callback`, `--endpoint`).
pub(crate) fn parse_http_url(s: &str) -> Result<String, String> {
    let lower = s.to_ascii_lowercase();
    let rest = ["http://", "https://"]
        .iter()
        .find_map(|scheme| lower.strip_prefix(scheme))
        .ok_or_else(|| "must start with http:// or https://".to_string())?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err("the URL names no host".into());
    }
    Ok(s.to_string())
}

/// `--upload s3://BUCKET[/PREFIX]`, checked as the uploader will read it.
pub(crate) fn parse_upload_target(s: &str) -> Result<String, String> {
    s.parse::<crate::deliver::s3::Target>()
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}

/// `--timeline FILE.svg` or `FILE.html`.
pub(crate) fn parse_timeline_path(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    crate::timeline::Kind::of(&path).map_err(|e| e.to_string())?;
    Ok(path)
}

/// The values an on/off setting takes from the environment or a config file: `1`/`0`,
/// `true`/`false`, `yes`/`no`, in any case.
pub(crate) fn parse_switch(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" | "" => Ok(false),
        _ => Err(format!("'{s}' is not on or off (1/0, true/false, yes/no)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (s, ms) in [
            ("6h", 6 * 3_600_000),
            ("3m", 180_000),
            ("90s", 90_000),
            ("1h30m", 5_400_000),
            ("1h 30m", 5_400_000),
            ("1h30m15s", 5_415_000),
            ("1d", 86_400_000),
            ("1d 2h", 93_600_000),
            ("500ms", 500),
            ("1s500ms", 1500),
            ("1.5s", 1500),
            ("0", 0),
            ("10", 10_000),
        ] {
            assert_eq!(parse_duration_ms(s), Ok(ms), "{s}");
        }
        for bad in [
            "", "h", "5x", "-3m", "1e3", "1e400", "3m-", "1.5", "30m1h", "1m1m", ".5s", "5.s",
            "1min", "+5s",
        ] {
            assert!(parse_duration_ms(bad).is_err(), "{bad}");
        }
        assert!(parse_positive_duration_ms("0").is_err());
        assert!(parse_positive_duration_ms("0s").is_err());
        assert_eq!(parse_positive_duration_ms("1ms"), Ok(1));
    }

    #[test]
    fn settings_checked_before_work() {
        assert!(parse_http_url("https://example.com/cb").is_ok());
        assert!(parse_http_url("HTTP://127.0.0.1:8080").is_ok());
        for bad in [
            "notaurl",
            "ftp://x",
            "http://",
            "http:///path",
            "http://:80/",
        ] {
            assert!(parse_http_url(bad).is_err(), "{bad}");
        }
        assert!(parse_upload_target("s3://media/live").is_ok());
        assert!(parse_upload_target("http://x").is_err());
        assert!(parse_timeline_path("plan.svg").is_ok() && parse_timeline_path("p.HTML").is_ok());
        assert!(parse_timeline_path("t.png").is_err());
        for (s, on) in [
            ("1", true),
            ("YES", true),
            ("True", true),
            ("0", false),
            ("no", false),
        ] {
            assert_eq!(parse_switch(s), Ok(on), "{s}");
        }
        assert!(parse_switch("maybe").is_err() && parse_switch("on").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("5MB"), Ok(5_000_000));
        assert_eq!(parse_size("1024"), Ok(1024));
        assert!(parse_size("lots").is_err() && parse_size("5XB").is_err());
    }

    #[test]
    fn shards() {
        assert_eq!(parse_shard("1/3"), Ok(Shard { index: 1, count: 3 }));
        for bad in ["3/3", "1", "a/3", "0/0", "-1/3"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}

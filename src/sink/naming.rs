//! Recording names and keys (README "Outputs"):
//! `record/{App}/{StreamName}/{format}/{StreamName}-{StartTime}-{EndTime}.{ext}`.
//!
//! App and stream names come from untrusted dumps, so each becomes exactly one safe path
//! component: bytes outside `[A-Za-z0-9._~-]` are percent-encoded (`%2F` for `/`, UTF-8 bytes
//! of other scripts likewise, so lookalikes cannot pass as ASCII), a name of only dots is
//! encoded whole, an empty name is `_`, and a name longer than [`MAX_COMPONENT`] bytes is cut
//! and given a hash suffix. The mapping is deterministic and injective for names that fit, so
//! two distinct streams never share a directory, and nothing can leave the output root or the
//! upload prefix.

use std::path::{Path, PathBuf};

use md5::{Digest, Md5};

use crate::format::Format;

/// Longest component written (file systems allow 255 bytes; room is left for the times and the
/// extension in file names).
pub(crate) const MAX_COMPONENT: usize = 160;

/// One safe path component for an untrusted name.
pub(crate) fn safe_component(name: &str) -> String {
    if name.is_empty() {
        return "_".to_string();
    }
    let only_dots = name.bytes().all(|b| b == b'.');
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'~')
            || (b == b'.' && !only_dots);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.len() > MAX_COMPONENT {
        let digest = Md5::digest(name.as_bytes());
        let hash: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        let mut cut = MAX_COMPONENT - hash.len() - 1;
        // Never cut inside a %XX escape.
        let bytes = out.as_bytes();
        while bytes[cut - 1] == b'%' || bytes[cut - 2] == b'%' {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('-');
        out.push_str(&hash);
    }
    out
}

/// The Unix second names and callbacks give a wall-clock time in milliseconds
/// (`{StartTime}`, `{EndTime}`, `start_time`, `end_time`): floored, also before 1970.
pub(crate) fn name_second(wall_ms: i64) -> i64 {
    wall_ms.div_euclid(1000)
}

/// `{StreamName}-{StartTime}-{EndTime}` from wall-clock milliseconds (floored to seconds).
pub(crate) fn base_name(stream: &str, wall_start_ms: i64, wall_end_ms: i64) -> String {
    format!(
        "{}-{}-{}",
        safe_component(stream),
        name_second(wall_start_ms),
        name_second(wall_end_ms)
    )
}

/// The base names of one stream's files in a run, in order. A file that would take the name of
/// the one before it (both start and end in the same second) is numbered on:
/// `{StreamName}-{StartTime}-{EndTime}_1`, `_2` …, so neither replaces the other, a listing
/// sorts them in order (`_` after `.`), and a rerun gives the same names.
#[derive(Debug, Default)]
pub(crate) struct RunNames {
    /// The last base name given without its number, and how many files took it before.
    last: Option<(String, usize)>,
}

impl RunNames {
    pub(crate) fn name(&mut self, stream: &str, wall_start_ms: i64, wall_end_ms: i64) -> String {
        let base = base_name(stream, wall_start_ms, wall_end_ms);
        match &mut self.last {
            Some((last, n)) if *last == base => {
                *n += 1;
                format!("{base}_{n}")
            }
            Some(_) | None => {
                self.last = Some((base.clone(), 0));
                base
            }
        }
    }
}

/// The end a recording's own name states (`{StreamName}-{StartTime}-{EndTime}.{ext}`, or with
/// the [`RunNames`] number after it), in Unix milliseconds: the `EndTime` second. `None` for any
/// other name.
pub(crate) fn end_time_ms(path: &Path) -> Option<i64> {
    end_time_of(unnumbered(path.file_stem()?.to_str()?))
}

/// A recording's name without the number [`RunNames`] gives a file named like the one before it
/// (`cam-1764072000-1764072000_1` is `cam-1764072000-1764072000`); any other name as it is.
pub(crate) fn unnumbered(stem: &str) -> &str {
    match stem.rsplit_once('_') {
        Some((named, n))
            if !n.is_empty()
                && n.len() < 10
                && n.bytes().all(|b| b.is_ascii_digit())
                && end_time_of(named).is_some() =>
        {
            named
        }
        Some(_) | None => stem,
    }
}

fn end_time_of(stem: &str) -> Option<i64> {
    let mut times = stem.rsplitn(3, '-');
    let (end, start) = (times.next()?, times.next()?);
    times.next().filter(|stream| !stream.is_empty())?;
    let is_time = |t: &str| t.len() == 10 && t.bytes().all(|b| b.is_ascii_digit());
    if !(is_time(end) && is_time(start)) {
        return None;
    }
    end.parse::<i64>().ok().map(|s| s * 1000)
}

/// The directory of a format's files, relative to the output root or the upload prefix:
/// `record/{App}/{StreamName}/{format}`.
pub(crate) fn format_dir(app: &str, stream: &str, format: Format) -> PathBuf {
    Path::new("record")
        .join(safe_component(app))
        .join(safe_component(stream))
        .join(format.name())
}

/// The key of a recording file: `record/{App}/{StreamName}/{format}/{base_name}.{ext}`.
pub(crate) fn file_key(app: &str, stream: &str, format: Format, base_name: &str) -> String {
    format!(
        "record/{}/{}/{}/{base_name}.{}",
        safe_component(app),
        safe_component(stream),
        format.name(),
        format.extension()
    )
}

/// The object key (`/`-separated, relative) of a file under the output root.
#[cfg(test)]
pub(crate) fn key_of(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recordings_own_name_states_its_end() {
        let end = |p: &str| end_time_ms(Path::new(p));
        assert_eq!(
            end("d/cam-1764072024-1764072031.flv"),
            Some(1_764_072_031_000)
        );
        assert_eq!(
            end("cam-x-1764072024-1764072031.m3u8"),
            Some(1_764_072_031_000)
        );
        assert_eq!(end("cam-1764072024.flv"), None);
        assert_eq!(end("1764072024-1764072031.mp4"), None);
        assert_eq!(end("cam-1764072024-17640720.mp4"), None);
        // A file numbered on from the one before it (RunNames).
        assert_eq!(
            end("cam-1764072024-1764072024_2.mp4"),
            Some(1_764_072_024_000)
        );
        assert_eq!(end("cam-1764072024-1764072024_.mp4"), None);
        assert_eq!(end("cam-1764072024_2.mp4"), None);
    }

    #[test]
    fn files_of_one_second_are_numbered_on() {
        let mut names = RunNames::default();
        let s = 1_764_072_000_000;
        for (start, end, want) in [
            (0, 300, "cam-1764072000-1764072000"),
            (600, 900, "cam-1764072000-1764072000_1"),
            (950, 990, "cam-1764072000-1764072000_2"),
            (990, 4000, "cam-1764072000-1764072004"),
            (4000, 4500, "cam-1764072004-1764072004"),
        ] {
            assert_eq!(names.name("cam", s + start, s + end), want);
        }
    }

    #[test]
    fn ordinary_names_are_kept() {
        assert_eq!(safe_component("live"), "live");
        assert_eq!(safe_component("cam_1.main-2~x"), "cam_1.main-2~x");
        assert_eq!(
            base_name("mystream", 1_585_829_187_999, 1_585_829_324_001),
            "mystream-1585829187-1585829324"
        );
        assert_eq!(
            format_dir("live", "mystream", Format::Hls),
            Path::new("record/live/mystream/hls")
        );
    }

    #[test]
    fn hostile_names_stay_one_component() {
        for (name, want) in [
            ("..", "%2E%2E"),
            (".", "%2E"),
            ("", "_"),
            ("../x", "..%2Fx"),
            ("/abs", "%2Fabs"),
            ("a/b", "a%2Fb"),
            ("a\\b", "a%5Cb"),
            ("nul\0byte", "nul%00byte"),
            ("tab\there", "tab%09here"),
            ("％2e", "%EF%BC%852e"),
            ("саm", "%D1%81%D0%B0m"),
        ] {
            let got = safe_component(name);
            assert_eq!(got, want, "{name:?}");
            assert!(!got.contains('/') && !got.contains('\\') && got != "." && got != "..");
        }
    }

    #[test]
    fn long_names_are_cut_with_a_hash() {
        let long = "x".repeat(1000);
        let a = safe_component(&long);
        assert_eq!(a.len(), MAX_COMPONENT);
        let b = safe_component(&("x".repeat(999) + "y"));
        assert_ne!(a, b);
        let escaped = safe_component(&"/".repeat(200));
        assert!(escaped.len() <= MAX_COMPONENT);
        // No dangling escape before the hash.
        let stem = escaped.rsplit_once('-').unwrap().0;
        assert!(
            stem.len().is_multiple_of(3) && stem.chars().step_by(3).all(|c| c == '%'),
            "{escaped}"
        );
    }

    #[test]
    fn keys_use_forward_slashes() {
        let root = Path::new("/out");
        assert_eq!(
            key_of(root, Path::new("/out/record/live/a/flv/a-1-2.flv")),
            "record/live/a/flv/a-1-2.flv"
        );
    }
}

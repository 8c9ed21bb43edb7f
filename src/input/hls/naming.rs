//! Stream names and wall clocks from the names of recording files.
//!
//! kls-rec names its outputs `{StreamName}-{StartTime}-{EndTime}.{ext}` (README "Outputs", two
//! 10-digit Unix seconds) and its HLS segments `{StreamName}-{StartTime}-{seq}.ts`. Read back, the
//! stream is the name without those numbers and the wall clock is the *first* number, where the
//! generic FLV rule ([`crate::input::time_from_file_name`]) would take the last one (the end).
//! Other names fall back to the FLV rule: a trailing `-<unix time>` or `.<unix time>`.

use std::path::Path;
use std::time::UNIX_EPOCH;

use crate::input::{InputOptions, WallClockSource, stream_from_file_name, time_from_file_name};
use crate::media::StreamKey;

/// `{stream}-{start}-{end}` (or `{stream}-{start}-{seq}` for a `.ts` segment): the stream and
/// the start, Unix milliseconds.
pub(crate) fn recording_name(path: &Path) -> Option<(String, i64)> {
    let stem = path.file_stem()?.to_str()?;
    let (rest, last) = stem.rsplit_once('-')?;
    let (stream, start) = rest.rsplit_once('-')?;
    let digits = |s: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    let is_segment = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("ts"));
    let last_ok = digits(last, 10..=10) || (is_segment && digits(last, 1..=9));
    if stream.is_empty() || !digits(start, 10..=10) || !last_ok {
        return None;
    }
    let start_s: i64 = start.parse().ok()?;
    Some((stream.to_string(), start_s * 1000))
}

/// The stream a recording file's name implies (see the module doc).
pub(crate) fn stream_from_recording_name(path: &Path) -> String {
    recording_name(path).map_or_else(|| stream_from_file_name(path), |(s, _)| s)
}

/// The wall-clock start a recording file's name implies, Unix milliseconds.
pub(crate) fn time_from_recording_name(path: &Path) -> Option<i64> {
    recording_name(path).map_or_else(|| time_from_file_name(path), |(_, t)| Some(t))
}

/// The stream key of a recording file: flags first, else `live` and the name's stream.
pub(crate) fn stream_key(opts: &InputOptions, path: &Path) -> StreamKey {
    opts.stream_key(|| stream_from_recording_name(path))
}

/// The wall-clock start of a recording file, as for FLV (README "Inputs"): `--start-time`, else the
/// name's time, else the file's modification time minus `duration_ms`, with a warning naming
/// the guess.
pub(crate) fn wall_clock(
    opts: &InputOptions,
    path: &Path,
    duration_ms: i64,
    warnings: &mut Vec<String>,
) -> (i64, WallClockSource) {
    if let Some(t) = opts.start_time_ms {
        return (t, WallClockSource::Flag);
    }
    if let Some(t) = time_from_recording_name(path) {
        return (t, WallClockSource::FileName);
    }
    let mtime_ms = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64);
    warnings.push(format!(
        "{}: no --start-time and no Unix time in the file name: the wall clock is guessed as \
         the file's modification time ({mtime_ms} ms since the epoch) minus its duration \
         ({duration_ms} ms)",
        path.display()
    ));
    (mtime_ms - duration_ms, WallClockSource::ModifiedTime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_names() {
        let p = Path::new("rec/show-1764075600-1764075990.mp4");
        assert_eq!(stream_from_recording_name(p), "show");
        assert_eq!(time_from_recording_name(p), Some(1_764_075_600_000));
        // A stream name with dashes and digits of its own.
        let p = Path::new("cam-2-1764075600-1764075990.m3u8");
        assert_eq!(stream_from_recording_name(p), "cam-2");
        let p = Path::new("show-1764075600-12.ts");
        assert_eq!(stream_from_recording_name(p), "show");
        assert_eq!(time_from_recording_name(p), Some(1_764_075_600_000));
        // Not a segment: the sequence number form is not a recording name.
        let p = Path::new("show-1764075600-12.mp4");
        assert_eq!(stream_from_recording_name(p), "show-1764075600-12");
        // The FLV rule still applies to other names.
        let p = Path::new("cam-1585829187.flv");
        assert_eq!(stream_from_recording_name(p), "cam");
        assert_eq!(time_from_recording_name(p), Some(1_585_829_187_000));
        assert_eq!(
            recording_name(Path::new("-1764075600-1764075990.mp4")),
            None
        );
        assert_eq!(time_from_recording_name(Path::new("plain.mp4")), None);
    }
}

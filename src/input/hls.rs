//! HLS media playlist input (RFC 8216 §4.3; README "Inputs"): a playlist of MPEG-TS segments
//! becomes one push session per discontinuity run — the segments from one `EXT-X-DISCONTINUITY` to
//! the next — read in order through one [`TsDemuxer`](super::ts::TsDemuxer), so timestamps continue
//! across the segments of a run. A run of fMP4 segments (§3.3, `EXT-X-MAP`) is its init segment
//! and its media segments read as one fragmented MP4 ([`Mp4Session::open_segments`]); a new
//! `EXT-X-MAP` starts a new run.
//!
//! Wall clock of a run: its first `EXT-X-PROGRAM-DATE-TIME`, moved back by the `EXTINF`
//! durations of the run's segments before it when the tag is not on the first one
//! ([`WallClockSource::Log`]). Without any: for the first run, `--start-time` or the time in the
//! playlist's name ([`naming`]); for a later run, the end of the run before it (the gap is not
//! known, and a warning says so).
//!
//! Segment URIs are resolved against the playlist's directory (a query string is dropped);
//! remote (`scheme://`) URIs are not fetched. A missing segment leaves its run without that
//! media: [`playlist_sessions`] still gives every run's times from the playlist alone, so
//! `record --dry-run` can decide without media, and the session's warnings name what is missing.
//!
//! kls-rec's own recordings: a transport stream does not carry the source's decoder
//! configuration record. When the playlist sits in `…/hls/` beside a recording with the same
//! name in `…/mp4/` or `…/flv/` (as `record --formats hls,mp4` writes them), that recording's
//! configuration is used as the hint whose bytes are kept when its parameter sets match.

use std::path::{Path, PathBuf};

use super::mp4::Mp4Session;
use super::ts::TsSession;
use super::{
    InputError, InputOptions, PendingSession, SessionInfo, SessionReader, WallClockSource,
};
use crate::media::CodecConfig;

pub(crate) mod naming;
pub mod playlist;
#[cfg(test)]
mod tests;

/// One segment of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlaylistSegment {
    pub(crate) uri: String,
    /// The local file the URI names; `None` for remote URIs.
    pub(crate) path: Option<PathBuf>,
    pub(crate) duration_ms: i64,
    pub(crate) exists: bool,
}

/// One discontinuity run: a push session as far as the playlist tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlaylistRun {
    /// 0-based position among the playlist's runs.
    pub index: usize,
    pub wall_start_ms: i64,
    /// Start plus the run's `EXTINF` durations.
    pub wall_end_ms: i64,
    pub(crate) wall_clock: WallClockSource,
    pub duration_ms: i64,
    pub segments: Vec<PlaylistSegment>,
    /// The init segment of fMP4 segments (`EXT-X-MAP`); `None` for MPEG-TS.
    pub(crate) init: Option<PathBuf>,
    /// Missing segments, guessed clocks.
    pub(crate) warnings: Vec<String>,
}

/// Reads a playlist into its runs with their wall-clock times, without reading any media.
pub fn playlist_sessions(path: &Path) -> Result<Vec<PlaylistRun>, InputError> {
    runs(path, &InputOptions::default())
}

fn runs(path: &Path, opts: &InputOptions) -> Result<Vec<PlaylistRun>, InputError> {
    let input = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| InputError::io(&input, None, e))?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        InputError::new(
            &input,
            Some(e.valid_up_to() as u64),
            "the playlist is not UTF-8 text",
        )
    })?;
    let lines = playlist::parse(text).map_err(|e| InputError::new(&input, None, e))?;
    let dir = path.parent().unwrap_or(Path::new(""));

    // Group into runs.
    let mut groups: Vec<Vec<playlist::SegmentLine>> = Vec::new();
    for l in lines {
        match groups.last_mut() {
            Some(g) if !l.discontinuity && g.last().is_some_and(|p| p.map == l.map) => g.push(l),
            _ => groups.push(vec![l]),
        }
    }
    let mut out: Vec<PlaylistRun> = Vec::new();
    for (index, group) in groups.into_iter().enumerate() {
        let mut warnings = Vec::new();
        let duration_ms: i64 = group
            .iter()
            .map(|s| s.duration_ms)
            .fold(0, i64::saturating_add);
        let pdt = first_date_time(&group);
        let (wall_start_ms, wall_clock) = match (pdt, out.last()) {
            (Some(t), _) => (t, WallClockSource::Log),
            (None, None) => naming::wall_clock(opts, path, duration_ms, &mut warnings),
            (None, Some(prev)) => {
                warnings.push(format!(
                    "{input}: run {} has no #EXT-X-PROGRAM-DATE-TIME: it is taken to start where \
                     run {} ends",
                    index + 1,
                    index
                ));
                (prev.wall_end_ms, prev.wall_clock)
            }
        };
        let segments: Vec<PlaylistSegment> = group
            .iter()
            .map(|s| segment(&input, dir, s, &mut warnings))
            .collect();
        let init = group[0].map.as_deref().and_then(|uri| resolve(dir, uri));
        out.push(PlaylistRun {
            index,
            init,
            wall_start_ms,
            wall_end_ms: wall_start_ms.saturating_add(duration_ms),
            wall_clock,
            duration_ms,
            segments,
            warnings,
        });
    }
    Ok(out)
}

/// The run's wall-clock start from its first `EXT-X-PROGRAM-DATE-TIME`, moved back over the
/// segments before it.
fn first_date_time(group: &[playlist::SegmentLine]) -> Option<i64> {
    let mut before_ms = 0i64;
    for s in group {
        if let Some(t) = s.program_date_time_ms {
            return Some(t.saturating_sub(before_ms));
        }
        before_ms = before_ms.saturating_add(s.duration_ms);
    }
    None
}

/// A segment line's file; a missing or remote one is kept, with a warning, as a gap.
fn segment(
    input: &str,
    dir: &Path,
    s: &playlist::SegmentLine,
    warnings: &mut Vec<String>,
) -> PlaylistSegment {
    let path = resolve(dir, &s.uri);
    let exists = path.as_ref().is_some_and(|p| p.is_file());
    if !exists {
        let what = if path.is_some() {
            "missing"
        } else {
            "remote (not fetched)"
        };
        warnings.push(format!(
            "{input} line {}: segment {} is {what}: its {} ms have no media",
            s.line, s.uri, s.duration_ms
        ));
    }
    PlaylistSegment {
        uri: s.uri.clone(),
        path,
        duration_ms: s.duration_ms,
        exists,
    }
}

/// The local file a segment URI names, relative to the playlist's directory.
fn resolve(dir: &Path, uri: &str) -> Option<PathBuf> {
    if uri.contains("://") {
        return None;
    }
    let uri = uri.split(['?', '#']).next().unwrap_or(uri);
    let uri = uri.strip_prefix("file:").unwrap_or(uri);
    Some(dir.join(uri))
}

/// The codec configuration of the recording beside a playlist in kls-rec's output layout
/// (`…/hls/{name}.m3u8` → `…/mp4/{name}.mp4` or `…/flv/{name}.flv`), if there is one.
pub(crate) fn sibling_config(playlist: &Path) -> Option<CodecConfig> {
    let stem = playlist.file_stem()?;
    let hls_dir = playlist.parent()?;
    if hls_dir.file_name()? != "hls" {
        return None;
    }
    let root = hls_dir.parent()?;
    let mp4 = root.join("mp4").join(stem).with_extension("mp4");
    if let Ok(s) = super::mp4::Mp4Session::open(&mp4) {
        return Some((**s.config()).clone());
    }
    let flv = root.join("flv").join(stem).with_extension("flv");
    let file = std::fs::File::open(&flv).ok()?;
    let s = super::flv::FlvSession::new(std::io::BufReader::new(file), &flv.display().to_string())
        .ok()?;
    Some((**s.config()).clone())
}

/// Opens a playlist as one pending session per discontinuity run.
pub(crate) fn open_path(
    path: &Path,
    opts: &InputOptions,
) -> Result<Vec<PendingSession>, InputError> {
    let hints = sibling_config(path).unwrap_or_default();
    open_with_hints(path, opts, hints)
}

/// Like [`open_path`], with the decoder configurations to keep when their parameter sets match
/// the stream's (e.g. from another recording of the same stream, for `splice`).
pub(crate) fn open_with_hints(
    path: &Path,
    opts: &InputOptions,
    hints: CodecConfig,
) -> Result<Vec<PendingSession>, InputError> {
    let input = path.display().to_string();
    let key = naming::stream_key(opts, path);
    let mut out = Vec::new();
    for run in runs(path, opts)? {
        let size: u64 = run
            .segments
            .iter()
            .filter_map(|s| s.path.as_ref())
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        let info = SessionInfo {
            key: key.clone(),
            wall_start_ms: run.wall_start_ms,
            wall_clock: run.wall_clock,
            played: false,
            input: input.clone(),
            index: run.index,
            warnings: run.warnings.clone(),
        };
        let files: Vec<(PathBuf, Option<String>)> = run
            .segments
            .iter()
            .filter_map(|s| s.path.clone().map(|p| (p, Some(s.uri.clone()))))
            .collect();
        let (name, hints, init) = (input.clone(), hints.clone(), run.init.clone());
        let opener = Box::new(move || {
            let reader: Box<dyn SessionReader> = match &init {
                Some(init) => {
                    let mut parts = vec![init.clone()];
                    // A missing segment has no media; its warning is the run's.
                    parts.extend(files.iter().map(|(p, _)| p.clone()).filter(|p| p.is_file()));
                    Box::new(Mp4Session::open_segments(name.clone(), parts)?)
                }
                None => Box::new(TsSession::open(name.clone(), files.clone(), hints.clone())?),
            };
            Ok(reader)
        });
        out.push(PendingSession::rereadable(info, Some(size), opener));
    }
    if out.is_empty() {
        return Err(InputError::new(
            &input,
            None,
            "the playlist lists no segments",
        ));
    }
    Ok(out)
}

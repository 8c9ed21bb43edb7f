//! Inputs: captured bytes → push sessions (README "Inputs").
//!
//! Each input is probed by its first bytes, then yields one or more [`PendingSession`]s: what is
//! known before reading the media (stream key, wall-clock start) plus a way to open a reader:
//! once for stdin and streamed objects, as often as needed for files (the recording pipeline's
//! MP4 index pass reads them twice). The recording pipeline groups sessions by stream key,
//! orders them by wall-clock start, and only then reads each one, streaming, so no input is
//! ever held in memory.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::media::{CodecConfig, Event, StreamKey};

pub(crate) mod blocks;
pub(crate) mod concat;
pub(crate) mod dir;
pub mod flv;
pub mod hls;
pub mod httpflv;
pub mod log;
pub mod mp4;
pub mod pcap;
pub(crate) mod prelude;
pub mod rtmp;
pub(crate) mod s3;
pub(crate) mod spill;
pub(crate) mod timeline;
pub mod ts;

/// A failure that stops reading an input: names the input and, where known, the byte offset.
#[derive(Debug)]
pub struct InputError {
    pub(crate) input: String,
    pub(crate) offset: Option<u64>,
    pub(crate) message: String,
}

impl InputError {
    pub(crate) fn new(input: &str, offset: Option<u64>, message: impl Into<String>) -> InputError {
        InputError {
            input: input.to_string(),
            offset,
            message: message.into(),
        }
    }

    pub(crate) fn io(input: &str, offset: Option<u64>, err: io::Error) -> InputError {
        InputError::new(input, offset, err.to_string())
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(o) => write!(f, "reading {} at byte {}: {}", self.input, o, self.message),
            None => write!(f, "reading {}: {}", self.input, self.message),
        }
    }
}

impl std::error::Error for InputError {}

/// The app of a stream key when neither the input nor `--app` names one.
pub(crate) const DEFAULT_APP: &str = "live";

/// Settings from the command line that say what inputs cannot (README "Inputs" table).
#[derive(Clone, Debug, Default)]
pub struct InputOptions {
    pub(crate) app: Option<String>,
    pub(crate) stream: Option<String>,
    pub(crate) vdoid: Option<String>,
    /// `--start-time`, Unix milliseconds.
    pub(crate) start_time_ms: Option<i64>,
    /// How `s3://` inputs are reached (`None`: from the environment alone).
    pub(crate) s3: Option<std::sync::Arc<s3::S3Inputs>>,
}

impl InputOptions {
    /// The stream key the flags give, the stream named by `default_stream` when `--stream` is
    /// absent and the app [`DEFAULT_APP`] when `--app` is.
    pub(crate) fn stream_key(&self, default_stream: impl FnOnce() -> String) -> StreamKey {
        StreamKey {
            app: self.app.clone().unwrap_or_else(|| DEFAULT_APP.to_string()),
            stream: self.stream.clone().unwrap_or_else(default_stream),
            vdoid: self.vdoid.clone(),
        }
    }
}

/// Where a session's wall-clock start came from, so a guess is never mistaken for a fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WallClockSource {
    /// `--start-time`.
    Flag,
    /// A Unix time in the file name (nginx-rtmp `record_unique`, SRS DVR).
    FileName,
    /// The file's modification time minus its duration: a guess, reported as a warning.
    ModifiedTime,
    /// The time reading began (stdin without `--start-time`): a guess, reported as a warning.
    ReadTime,
    /// Packet capture times.
    Capture,
    /// A segment log or playlist line.
    Log,
}

/// What is known of a session before its media is read.
#[derive(Clone, Debug)]
pub(crate) struct SessionInfo {
    pub(crate) key: StreamKey,
    /// Unix milliseconds of the session's first media packet.
    pub(crate) wall_start_ms: i64,
    pub(crate) wall_clock: WallClockSource,
    /// What a viewer received (an RTMP play, an HTTP-FLV download), not what a publisher sent
    /// (README "Played streams").
    pub(crate) played: bool,
    /// The input's display name (its path, or `-`).
    pub(crate) input: String,
    /// Index of the session within its input (captures hold many).
    pub(crate) index: usize,
    /// Warnings found while probing (e.g. a guessed wall clock), printed before reading; each
    /// begins with the input it speaks of (its name, and a line or byte where it has one).
    pub(crate) warnings: Vec<String>,
}

impl SessionInfo {
    /// The one published session of an input (a file, an object, stdin).
    pub(crate) fn single(
        key: StreamKey,
        (wall_start_ms, wall_clock): (i64, WallClockSource),
        input: String,
        warnings: Vec<String>,
    ) -> SessionInfo {
        SessionInfo {
            key,
            wall_start_ms,
            wall_clock,
            played: false,
            input,
            index: 0,
            warnings,
        }
    }
}

/// Reads one push session's events, in input order.
pub trait SessionReader: Send {
    /// The codec configuration in force at the session's start.
    fn config(&self) -> &Arc<CodecConfig>;

    /// The next event; `None` once the session has ended.
    fn next_event(&mut self) -> Result<Option<Event>, InputError>;

    /// Bytes of the input consumed so far (progress).
    fn position(&self) -> u64;

    /// All the session's packets as one span, when they are evenly spaced placeholders (a
    /// segment log's push) and none was read yet: the rules place it at once. After it, the
    /// reader has no packets left.
    fn take_span(&mut self) -> Option<crate::rules::Span> {
        None
    }
}

type Open = Result<Box<dyn SessionReader>, InputError>;

/// How a pending session's media is reached.
enum Opener {
    /// Bytes that can be read once (stdin, an object streamed while it downloads); taken by the
    /// first opening.
    Once(Mutex<Option<Box<dyn FnOnce() -> Open + Send>>>),
    /// A file: every opening reads it again from its start.
    Again(Box<dyn Fn() -> Open + Send + Sync>),
}

/// A session whose facts are known and whose media is not read yet.
pub struct PendingSession {
    pub(crate) info: SessionInfo,
    /// Total input bytes, when known (progress).
    pub(crate) size_hint: Option<u64>,
    /// False for a session known only from a log or playlist: its reader yields placeholder
    /// packets (no payload) spanning its duration, good for decisions (`--dry-run`,
    /// `inspect --rules`) and nothing else.
    pub(crate) has_media: bool,
    opener: Opener,
}

impl PendingSession {
    /// A session whose media can be read only once.
    pub(crate) fn new(
        info: SessionInfo,
        size_hint: Option<u64>,
        opener: Box<dyn FnOnce() -> Open + Send>,
    ) -> PendingSession {
        PendingSession {
            info,
            size_hint,
            has_media: true,
            opener: Opener::Once(Mutex::new(Some(opener))),
        }
    }

    /// A session whose media can be read again, each opening from its start (files).
    pub(crate) fn rereadable(
        info: SessionInfo,
        size_hint: Option<u64>,
        opener: Box<dyn Fn() -> Open + Send + Sync>,
    ) -> PendingSession {
        PendingSession {
            info,
            size_hint,
            has_media: true,
            opener: Opener::Again(opener),
        }
    }

    /// A session without media (see [`PendingSession::has_media`]).
    pub(crate) fn without_media(mut self) -> PendingSession {
        self.has_media = false;
        self
    }

    /// Whether [`PendingSession::open`] can be called more than once.
    pub(crate) fn can_reread(&self) -> bool {
        matches!(self.opener, Opener::Again(_))
    }

    /// A reader from the session's first event. A session that can be read only once refuses
    /// a second opening.
    pub fn open(&self) -> Open {
        match &self.opener {
            Opener::Again(open) => open(),
            Opener::Once(once) => {
                let taken = once.lock().unwrap_or_else(|p| p.into_inner()).take();
                match taken {
                    Some(open) => open(),
                    None => Err(InputError::new(
                        &self.info.input,
                        None,
                        "this input can be read only once and was read already",
                    )),
                }
            }
        }
    }
}

impl fmt::Debug for PendingSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingSession")
            .field("info", &self.info)
            .finish()
    }
}

/// Opens an input by path (`-` for stdin), recognising its format by content.
pub fn open(path: &str, opts: &InputOptions) -> Result<Vec<PendingSession>, InputError> {
    if path == "-" {
        return flv::open_stdin(opts).map(|s| vec![s]);
    }
    if s3::is_s3(path) {
        return s3::open(path, opts);
    }
    if Path::new(path).is_dir() {
        return dir::open(Path::new(path), opts);
    }
    let p = Path::new(path);
    match kind(path)? {
        Kind::Flv => flv::open_path(p, opts).map(|s| vec![s]),
        Kind::Capture => pcap::open_path(p, opts),
        Kind::Mp4 => mp4::open_path(p, opts).map(|s| vec![s]),
        Kind::Hls => hls::open_path(p, opts),
        Kind::Ts => ts::open_path(p, opts).map(|s| vec![s]),
        Kind::Rtmp => rtmp::open_path(p, opts),
        Kind::HttpFlv => httpflv::file::open_path(p, opts).map(|s| vec![s]),
        Kind::Log => log::open_path(p, opts),
    }
}

/// What a file holds, recognised by its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Flv,
    Capture,
    Mp4,
    Hls,
    Ts,
    Rtmp,
    /// An HTTP-FLV response saved with its headers (`curl -i`).
    HttpFlv,
    Log,
}

/// Bytes enough to recognise every kind: three MPEG-TS sync bytes (at 0, 188 and 376).
pub(crate) const SNIFF_LEN: usize = 3 * crate::container::ts::PACKET_LEN + 1;

/// Recognises a local file's kind by its first bytes (a segment log also by its name).
pub(crate) fn kind(path: &str) -> Result<Kind, InputError> {
    let (head, len) = head(path)?;
    match Kind::recognise(&head, len, Path::new(path)) {
        Some(kind) => Ok(kind),
        None if head.is_empty() => Err(InputError::new(path, Some(0), "the file is empty")),
        None => Err(InputError::new(
            path,
            Some(0),
            "not a recognised input (expected FLV, MP4, MPEG-TS, an HLS playlist, a raw RTMP \
             dump, a pcap/pcapng capture, an HTTP-FLV response saved with its headers or a \
             segment log)",
        )),
    }
}

/// The first [`SNIFF_LEN`] bytes of a local file (fewer when it is shorter), and its length.
pub(crate) fn head(path: &str) -> Result<(Vec<u8>, u64), InputError> {
    let mut magic = vec![0u8; SNIFF_LEN];
    let (n, len) = File::open(path)
        .and_then(|mut f| Ok((read_up_to(&mut f, &mut magic)?, f.metadata()?.len())))
        .map_err(|e| InputError::io(path, None, e))?;
    magic.truncate(n);
    Ok((magic, len))
}

impl Kind {
    /// The kind whose signature `head` (a file's first bytes; the file is `len` bytes long)
    /// carries; a segment log is also recognised by its name.
    pub(crate) fn recognise(head: &[u8], len: u64, path: &Path) -> Option<Kind> {
        let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
        Some(match head {
            [b'F', b'L', b'V', ..] => Kind::Flv,
            m if pcap::is_capture_magic(m) => Kind::Capture,
            [_, _, _, _, b'f', b't', b'y', b'p', ..] => Kind::Mp4,
            _ if text.starts_with(b"#EXTM3U") => Kind::Hls,
            _ if ts::looks_like_ts(head) => Kind::Ts,
            // RTMP handshake: C0 (version 3) and at least C1's 1536 bytes.
            [rtmp::chunk::RTMP_VERSION, ..] if len > 1536 => Kind::Rtmp,
            _ if head.starts_with(httpflv::file::STATUS_LINE_START) => Kind::HttpFlv,
            _ if log::looks_like_log(path) => Kind::Log,
            _ => return None,
        })
    }
}

/// Whether `path` is a local segment log (not stdin, `s3://` or a directory).
pub(crate) fn is_segment_log(path: &str) -> bool {
    path != "-"
        && !s3::is_s3(path)
        && !Path::new(path).is_dir()
        && matches!(kind(path), Ok(Kind::Log))
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The stream name a file name implies: its stem without a trailing `-<unix time>` or
/// `.<unix time>` (so `cam-1585829187.flv` is `cam`), or without both times (and the number) of
/// a recording's own name (`cam-1585829187-1585829324.flv` and `…-1585829324_1.flv` are `cam`).
pub(crate) fn stream_from_file_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name = crate::sink::naming::unnumbered(&stem);
    for _ in 0..2 {
        match split_unix_time(name) {
            Some((rest, _)) if !rest.is_empty() => name = rest,
            _ => break,
        }
    }
    name.to_string()
}

/// A Unix time in a file name: a 10-digit second or 13-digit millisecond number standing alone
/// (bounded by non-digits). The first such number wins, so a recording's own name
/// (`{stream}-{start}-{end}`) gives its start. Returns Unix milliseconds.
pub(crate) fn time_from_file_name(path: &Path) -> Option<i64> {
    let stem = path.file_stem()?.to_string_lossy().into_owned();
    let bytes = stem.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let digits = &stem[start..i];
            match digits.len() {
                10 => return digits.parse::<i64>().ok().map(|s| s * 1000),
                13 => return digits.parse::<i64>().ok(),
                _ => {}
            }
        } else {
            i += 1;
        }
    }
    None
}

/// Splits `name-1585829187` or `name.1585829187` (10 or 13 digits) into name and time.
fn split_unix_time(stem: &str) -> Option<(&str, &str)> {
    let cut = stem.rfind(['-', '.'])?;
    let digits = &stem[cut + 1..];
    ((digits.len() == 10 || digits.len() == 13) && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| (&stem[..cut], digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_times_from_file_names() {
        for (name, stream, time) in [
            ("dir/cam-1585829187.flv", "cam", Some(1_585_829_187_000)),
            ("show.1585829187123.flv", "show", Some(1_585_829_187_123)),
            ("plain.flv", "plain", None),
            // SRS DVR style: the time is not at the end.
            (
                "livestream.1585829187000.flv",
                "livestream",
                Some(1_585_829_187_000),
            ),
            // A recording's own name: the start time, the stream without both times …
            (
                "cam-1585829187-1585829324.flv",
                "cam",
                Some(1_585_829_187_000),
            ),
            // … also numbered on from the file before it, which started and ended in its second.
            (
                "cam-1585829187-1585829187_1.flv",
                "cam",
                Some(1_585_829_187_000),
            ),
            ("cam_1.flv", "cam_1", None),
        ] {
            let p = Path::new(name);
            assert_eq!(stream_from_file_name(p), stream, "{name}");
            assert_eq!(time_from_file_name(p), time, "{name}");
        }
        // Neither 10 nor 13 digits: not a time.
        assert_eq!(time_from_file_name(Path::new("cam-12345.flv")), None);
        assert_eq!(
            stream_from_file_name(Path::new("cam-12345.flv")),
            "cam-12345"
        );
    }
}

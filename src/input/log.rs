//! Timestamped segment logs (README "Inputs"): what an ingest logged about pushes, as JSON Lines or
//! CSV.
//!
//! One line per push session, or per segment of one (lines sharing a `session` id, in order):
//!
//! ```text
//! {"app":"live","stream":"cam","vdoid":"42","start":"2020-04-02T12:06:27Z","end":1585829247,"file":"cam-1.flv"}
//! app,stream,vdoid,start,end,file,session
//! live,cam,42,2020-04-02T12:06:27Z,2020-04-02T12:07:27Z,,
//! ```
//!
//! - `stream` and `start` are required (`--stream` stands in for a missing stream, `--app` for
//!   a missing app, default `live`); `end` is required for lines without `file`.
//! - Times are Unix seconds, Unix milliseconds (13 digits) or RFC 3339.
//! - `file` (optional) is a media file (FLV, or any input kls-rec reads), relative to the log's
//!   directory. Its first packet is placed at the line's `start`.
//! - `session` (optional) joins consecutive lines into one push; without it each line is one.
//! - CSV: a header row naming the columns (any order, unknown columns ignored), fields
//!   separated by commas, no quoting.
//!
//! A session without media files has no packets to write: it drives the rules only
//! (`record --dry-run`, `inspect --rules`), through placeholder packets spanning its duration.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{
    InputError, InputOptions, PendingSession, SessionInfo, SessionReader, WallClockSource,
};
use crate::media::{CodecConfig, Event, Packet, StreamKey, Track, TrackKind, ms_to_90k};
use crate::rules::Span;
use crate::wallclock::parse_time_ms;

mod fields;
pub(crate) mod sort;

use fields::Fields;

/// Lines longer than this are damage, not a log line.
const MAX_LINE: usize = 64 * 1024;

/// Whether a file reads as a segment log: a `.jsonl`/`.ndjson`/`.csv` name, or a first line that
/// is a JSON object or a CSV header naming `stream` and `start`.
pub(crate) fn looks_like_log(path: &Path) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if matches!(ext.as_deref(), Some("jsonl" | "ndjson" | "csv")) {
        return true;
    }
    let Ok(f) = File::open(path) else {
        return false;
    };
    let mut first = String::new();
    let _ = BufReader::new(f)
        .take(MAX_LINE as u64)
        .read_line(&mut first);
    let t = first.trim_start_matches('\u{feff}').trim();
    t.starts_with('{') && t.ends_with('}') || is_csv_header(t)
}

fn is_csv_header(line: &str) -> bool {
    let cols: Vec<&str> = line.split(',').map(str::trim).collect();
    cols.contains(&"stream") && cols.contains(&"start")
}

/// One line of a log.
#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    pub line_no: usize,
    pub(crate) app: Option<String>,
    pub(crate) stream: Option<String>,
    pub(crate) vdoid: Option<String>,
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    pub(crate) file: Option<PathBuf>,
    pub(crate) session: Option<String>,
}

/// Reads every line of a log (JSON Lines or CSV).
pub fn read_lines(path: &Path) -> Result<Vec<LogLine>, InputError> {
    Lines::open(path)?.collect()
}

/// A log's lines, read one at a time.
pub(crate) struct Lines {
    input: String,
    base: PathBuf,
    reader: BufReader<File>,
    header: Option<Vec<String>>,
    offset: u64,
    line_no: usize,
    buf: String,
    failed: bool,
}

impl Lines {
    pub(crate) fn open(path: &Path) -> Result<Lines, InputError> {
        let input = path.display().to_string();
        let f = File::open(path).map_err(|e| InputError::io(&input, None, e))?;
        Ok(Lines {
            input,
            base: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
            reader: BufReader::with_capacity(256 * 1024, f),
            header: None,
            offset: 0,
            line_no: 0,
            buf: String::new(),
            failed: false,
        })
    }

    /// The next line that is not blank, a comment or the CSV header.
    fn next_line(&mut self) -> Result<Option<LogLine>, InputError> {
        loop {
            self.line_no += 1;
            let line_no = self.line_no;
            self.buf.clear();
            let n = (&mut self.reader)
                .take(MAX_LINE as u64 + 1)
                .read_line(&mut self.buf)
                .map_err(|e| InputError::io(&self.input, Some(self.offset), e))?;
            if n == 0 {
                return Ok(None);
            }
            let at = self.offset;
            self.offset += n as u64;
            if n > MAX_LINE {
                return Err(InputError::new(
                    &self.input,
                    Some(at),
                    format!("line {line_no} is longer than {MAX_LINE} bytes"),
                ));
            }
            let text = self.buf.trim_start_matches('\u{feff}').trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            let fields = if text.starts_with('{') {
                Fields::from_json(text).map_err(|e| {
                    InputError::new(&self.input, Some(at), format!("line {line_no}: {e}"))
                })?
            } else if let Some(cols) = &self.header {
                Fields::from_csv(cols, text)
            } else if is_csv_header(text) {
                self.header = Some(text.split(',').map(|c| c.trim().to_string()).collect());
                continue;
            } else {
                return Err(InputError::new(
                    &self.input,
                    Some(at),
                    format!(
                        "line {line_no}: neither a JSON object nor CSV under a header naming stream and start"
                    ),
                ));
            };
            return line_of(fields, line_no, &self.base)
                .map(Some)
                .map_err(|what| {
                    InputError::new(&self.input, Some(at), format!("line {line_no}: {what}"))
                });
        }
    }
}

impl Iterator for Lines {
    type Item = Result<LogLine, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let next = self.next_line().transpose();
        self.failed = matches!(next, Some(Err(_)));
        next
    }
}

/// One line's fields checked into a [`LogLine`].
fn line_of(fields: Fields, line_no: usize, base: &Path) -> Result<LogLine, String> {
    let time = |key: &str, v: &Option<String>| -> Result<Option<i64>, String> {
        (v.as_deref())
            .map(|v| parse_time_ms(v).map_err(|e| format!("{key}: {e}")))
            .transpose()
    };
    let start_ms = time("start", &fields.start)?.ok_or("no start time")?;
    let end_ms = time("end", &fields.end)?;
    if end_ms.is_some_and(|e| e < start_ms) {
        return Err("end is before start".into());
    }
    let file = fields.file.map(|f| base.join(f));
    if file.is_none() && end_ms.is_none() {
        return Err("a line without a media file needs an end time".into());
    }
    Ok(LogLine {
        line_no,
        app: fields.app,
        stream: fields.stream,
        vdoid: fields.vdoid,
        start_ms,
        end_ms,
        file,
        session: fields.session,
    })
}

/// Opens a log: its lines grouped into push sessions.
pub(crate) fn open_path(
    path: &Path,
    opts: &InputOptions,
) -> Result<Vec<PendingSession>, InputError> {
    let input = path.display().to_string();
    let mut sessions = Vec::new();
    for s in Sessions::open(path, opts)? {
        sessions.push(s?.pending(&input, opts));
    }
    Ok(sessions)
}

/// A push session of a log, as its lines give it: small, so millions can be sorted
/// ([`sort`]) before any is opened.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LogSession {
    /// The session's number in the log.
    pub(crate) index: usize,
    /// Its first line.
    pub(crate) line_no: usize,
    pub(crate) key: StreamKey,
    pub(crate) start_ms: i64,
    /// The latest end of its lines (the start when none has one).
    pub(crate) end_ms: i64,
    /// Each line's start and media file, when every line has one.
    pub(crate) segments: Vec<(i64, PathBuf)>,
}

impl LogSession {
    /// The session, ready to be read: its media files, or placeholders spanning its length.
    pub(crate) fn pending(self, input: &str, opts: &InputOptions) -> PendingSession {
        let info = SessionInfo {
            key: self.key,
            wall_start_ms: self.start_ms,
            wall_clock: WallClockSource::Log,
            played: false,
            input: format!("{input}:{}", self.line_no),
            index: self.index,
            warnings: Vec::new(),
        };
        if self.segments.is_empty() {
            let duration_ms = self.end_ms - self.start_ms;
            return PendingSession::new(
                info,
                None,
                Box::new(move || {
                    Ok(Box::new(Placeholder::new(duration_ms)) as Box<dyn SessionReader>)
                }),
            )
            .without_media();
        }
        let (segments, session_start, opts) = (self.segments, self.start_ms, opts.clone());
        PendingSession::rereadable(
            info,
            None,
            Box::new(move || {
                let reader = SegmentsReader::open(segments.clone(), session_start, opts.clone())?;
                Ok(Box::new(reader) as Box<dyn SessionReader>)
            }),
        )
    }
}

/// A log's push sessions in log order: consecutive lines sharing a `session` (and stream)
/// are one.
pub(crate) struct Sessions<'o> {
    input: String,
    lines: std::iter::Peekable<Lines>,
    opts: &'o InputOptions,
    index: usize,
}

impl Sessions<'_> {
    pub(crate) fn open<'o>(
        path: &Path,
        opts: &'o InputOptions,
    ) -> Result<Sessions<'o>, InputError> {
        Ok(Sessions {
            input: path.display().to_string(),
            lines: Lines::open(path)?.peekable(),
            opts,
            index: 0,
        })
    }

    fn session(&mut self, first: LogLine) -> Result<LogSession, InputError> {
        let mut group = vec![first];
        while let Some(Ok(next)) = self.lines.peek() {
            let prev = group.last().expect("not empty");
            let joins = next.session.is_some()
                && prev.session == next.session
                && prev.stream == next.stream;
            if !joins {
                break;
            }
            group.push(self.lines.next().expect("peeked")?);
        }
        let first = &group[0];
        let opts = self.opts;
        let stream = opts
            .stream
            .clone()
            .or_else(|| first.stream.clone())
            .ok_or_else(|| {
                InputError::new(
                    &self.input,
                    None,
                    format!(
                        "line {}: no stream (add a stream field or --stream)",
                        first.line_no
                    ),
                )
            })?;
        let key = StreamKey {
            app: (opts.app.clone().or_else(|| first.app.clone())).unwrap_or_else(|| "live".into()),
            stream,
            vdoid: opts.vdoid.clone().or_else(|| first.vdoid.clone()),
        };
        let (line_no, start_ms) = (first.line_no, first.start_ms);
        let end_ms = group.iter().filter_map(|l| l.end_ms).max();
        let segments = match group.iter().all(|l| l.file.is_some()) {
            true => group
                .into_iter()
                .filter_map(|l| Some((l.start_ms, l.file?)))
                .collect(),
            false => Vec::new(),
        };
        let session = LogSession {
            index: self.index,
            line_no,
            key,
            start_ms,
            end_ms: end_ms.unwrap_or(start_ms),
            segments,
        };
        self.index += 1;
        Ok(session)
    }
}

impl Iterator for Sessions<'_> {
    type Item = Result<LogSession, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        let first = match self.lines.next()? {
            Ok(l) => l,
            Err(e) => return Some(Err(e)),
        };
        Some(self.session(first))
    }
}

/// Placeholder packets (no payload) every second, spanning a session's duration exactly, so
/// the rules see its length; an audio-only stream as far as the rules care. The rules give the
/// last packet the duration of the step before it, so the last packet sits halfway between
/// the previous one and the end (all values are even in the 90 kHz clock: exact). The pipeline
/// takes them as one [`Span`], placed at once.
pub(crate) struct Placeholder {
    config: Arc<CodecConfig>,
    span: Span,
    /// Packets handed out so far.
    next: u64,
}

impl Placeholder {
    pub(crate) fn new(duration_ms: i64) -> Placeholder {
        const STEP_90K: i64 = 90_000;
        Placeholder {
            config: Arc::new(CodecConfig::default()),
            span: Span::until(TrackKind::Audio, STEP_90K, ms_to_90k(duration_ms.max(0))),
            next: 0,
        }
    }
}

impl SessionReader for Placeholder {
    fn config(&self) -> &Arc<CodecConfig> {
        &self.config
    }

    fn next_event(&mut self) -> Result<Option<Event>, InputError> {
        if self.next >= self.span.count {
            return Ok(None);
        }
        let dts_90k = self.span.dts_90k(self.next);
        self.next += 1;
        Ok(Some(Event::Packet(Packet {
            track: Track {
                kind: self.span.track,
                index: 0,
            },
            dts_90k,
            cts_90k: 0,
            keyframe: true,
            data: Vec::new(),
            offset_ns: 0,
        })))
    }

    fn take_span(&mut self) -> Option<Span> {
        (self.next == 0).then(|| {
            self.next = self.span.count;
            self.span
        })
    }

    fn position(&self) -> u64 {
        0
    }
}

/// A session made of media files, one per log line, each placed at its line's start.
struct SegmentsReader {
    segments: std::vec::IntoIter<(i64, PathBuf)>,
    session_start_ms: i64,
    opts: InputOptions,
    current: Option<Box<dyn SessionReader>>,
    /// Added to the current segment's DTS.
    offset_90k: Option<i64>,
    segment_start_ms: i64,
    config: Arc<CodecConfig>,
    pending_config: Option<Arc<CodecConfig>>,
    position: u64,
}

impl SegmentsReader {
    fn open(
        segments: Vec<(i64, PathBuf)>,
        session_start_ms: i64,
        opts: InputOptions,
    ) -> Result<SegmentsReader, InputError> {
        let mut r = SegmentsReader {
            segments: segments.into_iter(),
            session_start_ms,
            opts,
            current: None,
            offset_90k: None,
            segment_start_ms: session_start_ms,
            config: Arc::new(CodecConfig::default()),
            pending_config: None,
            position: 0,
        };
        r.advance()?;
        if let Some(c) = &r.current {
            r.config = c.config().clone();
        }
        r.pending_config = None;
        Ok(r)
    }

    /// Opens the next segment's media.
    fn advance(&mut self) -> Result<bool, InputError> {
        let Some((start_ms, path)) = self.segments.next() else {
            self.current = None;
            return Ok(false);
        };
        let name = path.display().to_string();
        let opts = InputOptions {
            start_time_ms: Some(start_ms),
            ..self.opts.clone()
        };
        let mut found = super::open(&name, &opts)?;
        if found.len() != 1 {
            return Err(InputError::new(
                &name,
                None,
                format!(
                    "a log segment must hold one push, this holds {}",
                    found.len()
                ),
            ));
        }
        let reader = found.remove(0).open()?;
        if self.current.is_some() && **reader.config() != *self.config {
            self.pending_config = Some(reader.config().clone());
        }
        self.current = Some(reader);
        self.offset_90k = None;
        self.segment_start_ms = start_ms;
        Ok(true)
    }
}

impl SessionReader for SegmentsReader {
    fn config(&self) -> &Arc<CodecConfig> {
        &self.config
    }

    fn next_event(&mut self) -> Result<Option<Event>, InputError> {
        loop {
            if let Some(c) = self.pending_config.take() {
                self.config = c.clone();
                return Ok(Some(Event::Config(c)));
            }
            let Some(reader) = self.current.as_mut() else {
                return Ok(None);
            };
            match reader.next_event()? {
                Some(Event::Packet(mut p)) => {
                    self.position = reader.position();
                    let target = ms_to_90k(self.segment_start_ms - self.session_start_ms);
                    let offset = *self.offset_90k.get_or_insert(target - p.dts_90k);
                    p.dts_90k += offset;
                    return Ok(Some(Event::Packet(p)));
                }
                Some(Event::Config(c)) => {
                    self.config = c.clone();
                    return Ok(Some(Event::Config(c)));
                }
                Some(other) => return Ok(Some(other)),
                None => {
                    self.advance()?;
                }
            }
        }
    }

    fn position(&self) -> u64 {
        self.position
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::scratch;

    #[test]
    fn json_lines_and_csv_read_alike() {
        let dir = scratch("log-parse");
        let json = dir.join("pushes.jsonl");
        std::fs::write(
            &json,
            "{\"app\":\"live\",\"stream\":\"cam\",\"vdoid\":\"42\",\"start\":\"2020-04-02T12:06:27Z\",\"end\":1585829247}\n\
             # a comment\n\
             {\"stream\":\"cam\",\"start\":1585829307000,\"end\":\"2020-04-02T12:09:27Z\"}\n",
        )
        .unwrap();
        let csv = dir.join("pushes.csv");
        std::fs::write(
            &csv,
            "app,stream,vdoid,start,end,file\nlive,cam,42,2020-04-02T12:06:27Z,1585829247,\n,cam,,1585829307000,2020-04-02T12:09:27Z,\n",
        )
        .unwrap();
        let a = read_lines(&json).unwrap();
        let mut b = read_lines(&csv).unwrap();
        assert_eq!(a.len(), 2);
        // Line numbers differ (comment vs header); the content does not.
        for l in &mut b {
            l.line_no = 0;
        }
        let a: Vec<LogLine> = a.into_iter().map(|l| LogLine { line_no: 0, ..l }).collect();
        assert_eq!(a, b);
        assert_eq!(a[0].start_ms, 1_585_829_187_000);
        assert_eq!(a[0].end_ms, Some(1_585_829_247_000));
        assert_eq!(a[1].app, None);
        assert!(looks_like_log(&json) && looks_like_log(&csv));
    }

    #[test]
    fn bad_lines_name_the_line_and_offset() {
        let dir = scratch("log-bad");
        let p = dir.join("bad.jsonl");
        std::fs::write(
            &p,
            "{\"stream\":\"a\",\"start\":1585829187,\"end\":1585829188}\n{\"stream\":\"a\"}\n",
        )
        .unwrap();
        let e = read_lines(&p).unwrap_err();
        assert_eq!(e.offset, Some(51));
        assert!(e.message.contains("line 2: no start time"), "{e}");
        std::fs::write(&p, "{\"stream\":\"a\",\"start\":1585829187}\n").unwrap();
        assert!(
            read_lines(&p)
                .unwrap_err()
                .message
                .contains("needs an end time")
        );
        std::fs::write(&p, "{\"stream\":\"a\",\"start\":5,\"end\":4}\n").unwrap();
        assert!(read_lines(&p).unwrap_err().message.contains("before start"));
    }

    #[test]
    fn placeholder_packets_span_the_duration_exactly() {
        let dts = |ms| {
            let mut p = Placeholder::new(ms);
            let mut v = Vec::new();
            while let Some(Event::Packet(pk)) = p.next_event().unwrap() {
                v.push(pk.dts_90k);
            }
            v
        };
        // The last packet lasts as long as the step before it: 180 000 + 22 500 = 202 500 (2.25 s).
        assert_eq!(dts(2250), [0, 90_000, 180_000, 191_250]);
        assert_eq!(dts(10_089).last(), Some(&((900_000 + 908_010) / 2)));
        assert_eq!(dts(0), [0]);
        assert_eq!(dts(500), [0, 22_500]);
    }
}

//! An HTTP-FLV response saved with its headers (`curl -i URL > hot.curl`) as an input: its
//! first response whose body is FLV is one push session (README "Played streams"), marked
//! played, read through the FLV session logic with damage at file offsets.
//!
//! Stream key and wall clock as for an FLV file: `--app` (default `live`) / `--stream`, else
//! the file stem; `--start-time`, else a Unix time in the file name, else the file's mtime minus
//! the span of its tag timestamps (with a warning). (`curl -i` keeps no request path.)

use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::UNIX_EPOCH;

use super::{HttpEvent, ResponseParser};
use crate::input::blocks::Blocks;
use crate::input::flv::TagKind;
use crate::input::flv::session::{TagSession, TagSessionReader, TagSource};
use crate::input::{
    InputError, InputOptions, PendingSession, SessionInfo, SessionReader, WallClockSource,
    stream_from_file_name, time_from_file_name,
};

/// What a saved response begins with (RFC 9112 §4: the status line's HTTP-version).
pub(crate) const STATUS_LINE_START: &[u8] = b"HTTP/1.";

/// The first FLV response of a file: its number among the file's responses and the span of
/// its media tag timestamps.
struct Found {
    response: usize,
    first_ms: Option<u32>,
    last_ms: Option<u32>,
}

/// Reads the whole file once, through the same parser the session uses.
fn find(path: &Path, input: &str) -> Result<(Option<Found>, u64), InputError> {
    let file = File::open(path).map_err(|e| InputError::io(input, None, e))?;
    let mut blocks = Blocks::new(file, input);
    let mut parser = ResponseParser::new(input);
    let (mut responses, mut found): (usize, Option<Found>) = (0, None);
    loop {
        let more = match blocks.next_block()? {
            Some((block, at)) => {
                parser.feed(block, None, at);
                true
            }
            None => {
                parser.finish(blocks.position());
                false
            }
        };
        for e in parser.drain() {
            match e {
                HttpEvent::Response { .. } => responses += 1,
                HttpEvent::Tag(t, _) => {
                    let f = found.get_or_insert(Found {
                        response: responses - 1,
                        first_ms: None,
                        last_ms: None,
                    });
                    if f.response == responses - 1 && t.kind != TagKind::Script {
                        f.first_ms = f.first_ms.or(Some(t.timestamp_ms));
                        f.last_ms = Some(t.timestamp_ms);
                    }
                }
                HttpEvent::BodyEnd { .. } | HttpEvent::Damage(_) => {}
            }
        }
        if !more {
            return Ok((found, blocks.position()));
        }
    }
}

/// Opens a saved HTTP-FLV response as one pending session.
pub(crate) fn open_path(path: &Path, opts: &InputOptions) -> Result<PendingSession, InputError> {
    let input = path.display().to_string();
    let (found, size) = find(path, &input)?;
    let Some(found) = found else {
        return Err(InputError::new(
            &input,
            None,
            "an HTTP response with no FLV body (no video/x-flv response with tags)",
        ));
    };
    let mut warnings = Vec::new();
    let (wall_start_ms, wall_clock) = if let Some(t) = opts.start_time_ms {
        (t, WallClockSource::Flag)
    } else if let Some(t) = time_from_file_name(path) {
        (t, WallClockSource::FileName)
    } else {
        let mtime_ms = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map_err(|e| InputError::io(&input, None, e))?
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let span_ms = match (found.first_ms, found.last_ms) {
            (Some(a), Some(b)) => i64::from(b.wrapping_sub(a)),
            _ => 0,
        };
        warnings.push(format!(
            "{input}: no --start-time and no Unix time in the file name: the wall clock is \
             guessed as the file's modification time ({mtime_ms} ms since the epoch) minus the \
             span of its tag timestamps ({span_ms} ms)"
        ));
        (mtime_ms - span_ms, WallClockSource::ModifiedTime)
    };
    let info = SessionInfo {
        key: opts.stream_key(|| stream_from_file_name(path)),
        wall_start_ms,
        wall_clock,
        played: true,
        input: input.clone(),
        index: 0,
        warnings,
    };
    let (path, response) = (path.to_path_buf(), found.response);
    let opener = Box::new(move || {
        let file = File::open(&path).map_err(|e| InputError::io(&input, None, e))?;
        let reader: Box<dyn SessionReader> = Box::new(HttpFlvSession::new(file, &input, response)?);
        Ok(reader)
    });
    Ok(PendingSession::rereadable(info, Some(size), opener))
}

/// Response number `target` of a saved HTTP exchange: the source of an [`HttpFlvSession`].
pub struct HttpFlvTags<R> {
    blocks: Blocks<R>,
    parser: ResponseParser,
    pending: VecDeque<HttpEvent>,
    target: usize,
    responses: usize,
    eof: bool,
}

/// Reads response number `target` of a saved HTTP exchange as a push session.
pub type HttpFlvSession<R> = TagSessionReader<HttpFlvTags<R>>;

impl<R: Read> HttpFlvSession<R> {
    pub fn new(reader: R, input: &str, target: usize) -> Result<HttpFlvSession<R>, InputError> {
        let tags = HttpFlvTags {
            blocks: Blocks::new(reader, input),
            parser: ResponseParser::new(input),
            pending: VecDeque::new(),
            target,
            responses: 0,
            eof: false,
        };
        TagSessionReader::settle(tags, TagSession::new())
    }
}

impl<R: Read> TagSource for HttpFlvTags<R> {
    /// Handles one parser event; false once the target response has ended.
    fn feed(&mut self, session: &mut TagSession) -> Result<bool, InputError> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                let ours = self.responses == self.target + 1;
                match e {
                    HttpEvent::Response { .. } => self.responses += 1,
                    HttpEvent::Tag(t, _) if ours => session.push_tag(&t),
                    HttpEvent::Damage(d) if ours => session.push_damage(d),
                    HttpEvent::BodyEnd { .. } if ours => {
                        self.eof = true;
                        self.pending.clear();
                        return Ok(false);
                    }
                    HttpEvent::Tag(..) | HttpEvent::Damage(_) | HttpEvent::BodyEnd { .. } => {}
                }
                return Ok(true);
            }
            if self.eof {
                return Ok(false);
            }
            match self.blocks.next_block()? {
                Some((block, at)) => self.parser.feed(block, None, at),
                None => {
                    self.eof = true;
                    self.parser.finish(self.blocks.position());
                }
            }
            self.pending.extend(self.parser.drain());
        }
    }

    fn consumed(&self) -> u64 {
        self.blocks.position()
    }
}

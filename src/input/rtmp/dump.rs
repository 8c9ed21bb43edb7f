//! A raw RTMP dump (the client-to-server bytes of one connection, handshake included, or the
//! server-to-client bytes of a player's connection, S0/S1/S2 first) as an input: one push
//! session per publish or played stream (README "Inputs", "Played streams").
//!
//! Opening reads the dump once, streaming, keeping only the list of publishes
//! ([`PublishTracker`]). Each session's opener reads the dump again from the start (the chunk
//! state of a connection depends on everything before) and yields that publish's events.
//!
//! Stream key: `app` from `connect`, the publish name and its `vdoid`; `--app` / `--stream` /
//! `--vdoid` only fill in what the dump lacks (no `connect` app, an empty name, no `vdoid`),
//! since one dump may publish several streams. Wall clock: `--start-time`, else a Unix time in
//! the file name, else the file's mtime minus the span of the dump's media timestamps (with a
//! warning), for the first publish; a later publish is placed by its first message timestamp
//! relative to the first publish's, and never before the previous publish's end.
//!
//! Damage goes to the session it falls in; damage between two publishes goes to the later one,
//! damage before the first publish to the first, and damage after the last to the last.

use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::UNIX_EPOCH;

use super::{DumpSummary, PublishSummary, PublishTracker, RtmpEvent, RtmpParser, media_tag};
use crate::input::DEFAULT_APP;
use crate::input::blocks::Blocks;
use crate::input::flv::TagKind;
use crate::input::flv::session::{TagSession, TagSessionReader, TagSource};
use crate::input::{
    InputError, InputOptions, PendingSession, SessionInfo, SessionReader, WallClockSource,
    stream_from_file_name, time_from_file_name,
};
use crate::media::{Damage, StreamKey};

/// Reads a whole dump through a parser, handing each event to `on_event`; returns its length.
fn scan(r: impl Read, input: &str, mut on_event: impl FnMut(RtmpEvent)) -> Result<u64, InputError> {
    let mut parser = RtmpParser::new();
    let mut blocks = Blocks::new(r, input);
    while let Some((block, at)) = blocks.next_block()? {
        parser.feed(block, None, at);
        parser.drain().for_each(&mut on_event);
    }
    parser.finish();
    parser.drain().for_each(&mut on_event);
    Ok(blocks.position())
}

/// What a dump holds: its publishes, their keys, timestamps and message counts (for `inspect`).
pub(crate) fn connections_summary(path: &Path) -> Result<DumpSummary, InputError> {
    let input = path.display().to_string();
    let file = File::open(path).map_err(|e| InputError::io(&input, None, e))?;
    let mut tracker = PublishTracker::new();
    let len = scan(file, &input, |e| tracker.push(&e))?;
    Ok(tracker.finish(&input, len))
}

/// Opens a raw RTMP dump: one pending session per publish that carries media.
pub(crate) fn open_path(
    path: &Path,
    opts: &InputOptions,
) -> Result<Vec<PendingSession>, InputError> {
    let summary = connections_summary(path)?;
    let input = summary.input.clone();
    refuse_empty(&summary)?;
    let mut warnings = Vec::new();
    let (with_media, without): (Vec<_>, Vec<_>) =
        summary.publishes.iter().partition(|p| p.has_media());
    for p in &without {
        warnings.push(format!(
            "{input}: {} #{} of {:?} at byte {} carries no media and is skipped",
            push_word(p),
            p.index,
            p.name,
            p.at.input_offset
        ));
    }
    let Some(first) = with_media.first() else {
        return Err(InputError::new(
            &input,
            None,
            "none of the dump's publishes carries media",
        ));
    };
    let (base_ms, wall_clock) = wall_clock_base(path, opts, first, &summary, &mut warnings)?;
    let first_unwrapped = first.first_unwrapped_ms.unwrap_or(0);
    let last_index = with_media.last().map_or(0, |p| p.index);
    let mut sessions = Vec::new();
    let mut prev_end_ms: Option<i64> = None;
    for (n, p) in with_media.iter().enumerate() {
        let mut wall_start_ms = base_ms + p.first_unwrapped_ms.unwrap_or(0) - first_unwrapped;
        let mut session_warnings = if n == 0 {
            std::mem::take(&mut warnings)
        } else {
            Vec::new()
        };
        if let Some(end) = prev_end_ms.filter(|end| wall_start_ms < *end) {
            session_warnings.push(format!(
                "{input}: {} #{} restarts its timestamps: placed right after the previous \
                 one, at {end} ms since the epoch",
                push_word(p),
                p.index
            ));
            wall_start_ms = end;
        }
        prev_end_ms = Some(wall_start_ms + p.duration_ms());
        let info = SessionInfo {
            key: stream_key(p, opts, path),
            wall_start_ms,
            wall_clock,
            played: p.played,
            input: input.clone(),
            index: n,
            warnings: session_warnings,
        };
        let (path, input, index) = (path.to_path_buf(), input.clone(), p.index);
        let is_last = p.index == last_index;
        let opener = Box::new(move || {
            let file = File::open(&path).map_err(|e| InputError::io(&input, None, e))?;
            let reader: Box<dyn SessionReader> =
                Box::new(RtmpSession::new(file, &input, index, is_last)?);
            Ok(reader)
        });
        sessions.push(PendingSession::rereadable(
            info,
            Some(summary.bytes),
            opener,
        ));
    }
    Ok(sessions)
}

/// The error of a dump that holds no publish and no played stream.
fn refuse_empty(summary: &DumpSummary) -> Result<(), InputError> {
    let input = &summary.input;
    if summary.publishes.is_empty() && !summary.plays_requested.is_empty() {
        return Err(InputError::new(
            input,
            None,
            format!(
                "nothing to record: the dump holds the client's side of a play of {:?}; the \
                 media went the other way (server to client), which it does not hold",
                summary.plays_requested.join(", ")
            ),
        ));
    }
    if summary.publishes.is_empty() {
        return Err(InputError::new(
            input,
            None,
            format!(
                "no publish command and no played stream in the RTMP dump ({} damage reports{})",
                summary.damage_count,
                summary
                    .damage
                    .first()
                    .map(|d| format!(", the first {d}"))
                    .unwrap_or_default()
            ),
        ));
    }
    Ok(())
}

/// How messages name a push: "publish" or "played".
fn push_word(p: &PublishSummary) -> &'static str {
    if p.played { "played" } else { "publish" }
}

fn stream_key(p: &PublishSummary, opts: &InputOptions, path: &Path) -> StreamKey {
    let or = |s: &str, flag: &Option<String>, default: &dyn Fn() -> String| {
        if s.is_empty() {
            flag.clone().unwrap_or_else(default)
        } else {
            s.to_string()
        }
    };
    StreamKey {
        app: or(&p.app, &opts.app, &|| DEFAULT_APP.to_string()),
        stream: or(&p.name, &opts.stream, &|| stream_from_file_name(path)),
        vdoid: p.vdoid.clone().or_else(|| opts.vdoid.clone()),
    }
}

/// The wall-clock time of the first publish's first media message.
fn wall_clock_base(
    path: &Path,
    opts: &InputOptions,
    first: &PublishSummary,
    summary: &DumpSummary,
    warnings: &mut Vec<String>,
) -> Result<(i64, WallClockSource), InputError> {
    if let Some(t) = opts.start_time_ms {
        return Ok((t, WallClockSource::Flag));
    }
    if let Some(t) = time_from_file_name(path) {
        return Ok((t, WallClockSource::FileName));
    }
    let input = &summary.input;
    let mtime_ms = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map_err(|e| InputError::io(input, None, e))?
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let last = summary
        .publishes
        .iter()
        .filter_map(|p| p.last_unwrapped_ms)
        .max();
    let span_ms = last
        .zip(first.first_unwrapped_ms)
        .map_or(0, |(l, f)| (l - f).max(0));
    warnings.push(format!(
        "{input}: no --start-time and no Unix time in the file name: the wall clock is guessed \
         as the file's modification time ({mtime_ms} ms since the epoch) minus the span of its \
         media timestamps ({span_ms} ms)"
    ));
    Ok((mtime_ms - span_ms, WallClockSource::ModifiedTime))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Before the target publish; `collect`: damage found now belongs to this session.
    Before {
        collect: bool,
    },
    Active,
    /// After the target's unpublish, for the last publish (trailing damage is still its own).
    Trailing,
    Done,
}

/// One publish of a raw dump: the source of an [`RtmpSession`].
pub(crate) struct RtmpDumpTags<R> {
    blocks: Blocks<R>,
    parser: RtmpParser,
    pending: VecDeque<RtmpEvent>,
    /// Index of the publish this session reads, and how many publishes were seen.
    target: usize,
    seen: usize,
    is_last: bool,
    phase: Phase,
    eof: bool,
    reported: HashSet<&'static str>,
}

/// Reads one publish of a raw dump as a push session.
pub(crate) type RtmpSession<R> = TagSessionReader<RtmpDumpTags<R>>;

impl<R: Read> RtmpSession<R> {
    /// Reads the dump up to publish number `target` and through the session's prelude.
    /// `is_last`: no later publish takes the damage found after this one ends.
    pub(crate) fn new(
        reader: R,
        input: &str,
        target: usize,
        is_last: bool,
    ) -> Result<RtmpSession<R>, InputError> {
        let tags = RtmpDumpTags {
            blocks: Blocks::new(reader, input),
            parser: RtmpParser::new(),
            pending: VecDeque::new(),
            target,
            seen: 0,
            is_last,
            phase: Phase::Before {
                collect: target == 0,
            },
            eof: false,
            reported: HashSet::new(),
        };
        TagSessionReader::settle(tags, TagSession::new())
    }
}

impl<R: Read> TagSource for RtmpDumpTags<R> {
    /// Handles one parser event; false once the session has nothing more to read.
    fn feed(&mut self, session: &mut TagSession) -> Result<bool, InputError> {
        loop {
            if self.phase == Phase::Done {
                return Ok(false);
            }
            if let Some(e) = self.pending.pop_front() {
                self.handle(e, session);
                return Ok(true);
            }
            if self.eof {
                return Ok(false);
            }
            self.read_block()?;
        }
    }

    fn consumed(&self) -> u64 {
        self.blocks.position()
    }
}

impl<R: Read> RtmpDumpTags<R> {
    fn read_block(&mut self) -> Result<(), InputError> {
        match self.blocks.next_block()? {
            Some((block, at)) => self.parser.feed(block, None, at),
            None => {
                self.eof = true;
                self.parser.finish();
            }
        }
        self.pending.extend(self.parser.drain());
        Ok(())
    }

    fn handle(&mut self, e: RtmpEvent, session: &mut TagSession) {
        match e {
            RtmpEvent::Publish { .. } | RtmpEvent::PlayStart { .. } => {
                self.seen += 1;
                self.phase = match self.phase {
                    Phase::Before { .. } if self.seen == self.target + 1 => Phase::Active,
                    Phase::Before { .. } => Phase::Before { collect: false },
                    _ => Phase::Done,
                };
            }
            RtmpEvent::Unpublish { .. } => {
                self.phase = match self.phase {
                    // The previous publish ended: what follows until ours is ours to report.
                    Phase::Before { .. } if self.seen == self.target => {
                        Phase::Before { collect: true }
                    }
                    Phase::Active if self.is_last => Phase::Trailing,
                    Phase::Active => Phase::Done,
                    p => p,
                };
            }
            RtmpEvent::Connect { .. } | RtmpEvent::Play { .. } => {}
            RtmpEvent::Damage(d) => {
                if matches!(
                    self.phase,
                    Phase::Before { collect: true } | Phase::Active | Phase::Trailing
                ) {
                    session.push_damage(d);
                }
            }
            RtmpEvent::Media {
                kind,
                timestamp_ms,
                body,
                at,
            } => match self.phase {
                Phase::Active => session.push_tag(&media_tag(kind, timestamp_ms, body, at)),
                Phase::Before { collect: true } | Phase::Trailing if kind != TagKind::Script => {
                    let what = "media messages outside a publish";
                    self.report_once(session, what, at.input_offset)
                }
                _ => {}
            },
        }
    }

    fn report_once(&mut self, session: &mut TagSession, what: &'static str, offset: u64) {
        if self.reported.insert(what) {
            session.push_damage(Damage::Dropped {
                offset,
                what: format!("{what} (later ones are dropped without another report)"),
            });
        }
    }
}

//! The `record` pipeline: inputs → sessions grouped by stream → rules → muxers → callbacks.
//!
//! Sessions of one stream (same app and stream name) are ordered by wall-clock start and read
//! one after another, streaming: each packet is placed by the [`rules::Engine`] and written, with
//! its file-relative timestamp, to one muxer per requested format. Every decision is kept for
//! `--explain` and `--dry-run`; every damage report is counted, so the exit status can say that
//! the output is complete but the input was not. When MP4 or FLV is written and a stream's
//! inputs can be read twice, an [`index_pass`] reads them first, so each MP4 and FLV file is
//! written once, in place, in one pass.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;

use crate::input::log::sort::SortedLog;
use crate::input::{self, InputOptions, PendingSession};
use crate::mux::{Format, MuxOptions, Produced};
use crate::report::StreamReport;
use crate::rules::{self, Reason};

mod deliver;
mod file;
mod groups;
mod index_pass;
mod interleave;
mod parallel;
mod session;
mod stream;
mod summary;

pub(crate) use deliver::Delivery;
use groups::Groups;
pub(crate) use parallel::Shard;
use parallel::record_parallel;
use stream::record_stream;
pub(crate) use summary::{JsonSpool, KeepStreams, Reports};

/// Everything `record` needs besides its inputs.
#[derive(Clone, Debug)]
pub struct RecordOptions {
    pub out_dir: PathBuf,
    pub formats: Vec<Format>,
    pub rules: rules::Settings,
    pub mux: MuxOptions,
    pub dry_run: bool,
    pub explain: bool,
    pub callback_times: bool,
    /// Streams recorded at once (at least 1).
    pub jobs: usize,
    /// `--shard K/N`: only the stream keys whose stable hash falls in shard K of N.
    pub shard: Option<Shard>,
    /// Read each stream's sessions in the order given instead of by wall-clock start (`splice
    /// --in-order`).
    pub keep_order: bool,
    /// A codec configuration that differs between sessions, or changes inside one, is an error
    /// naming the differing fields instead of a new file (`splice`).
    pub strict_config: bool,
    /// When MP4 or FLV is written, read a stream whose inputs can be read twice in two passes,
    /// so each MP4 and FLV file is written and hashed in one streaming pass ([`index_pass`]).
    /// Off, every MP4 and FLV file spools its media (the same bytes; tests compare the two).
    pub index_pass: bool,
    /// `splice`: the latest end the inputs' own names state. A joined file's name and callback
    /// run at least to it: its sessions' wall clocks come from the names' whole seconds, so the
    /// last one computed from its start and duration can fall up to a second short.
    pub name_end_ms: Option<i64>,
}

impl Default for RecordOptions {
    fn default() -> Self {
        RecordOptions {
            out_dir: PathBuf::from("."),
            formats: vec![Format::Hls],
            rules: rules::Settings::default(),
            mux: MuxOptions::default(),
            dry_run: false,
            explain: false,
            callback_times: false,
            jobs: 1,
            shard: None,
            keep_order: false,
            strict_config: false,
            index_pass: true,
            name_end_ms: None,
        }
    }
}

/// One file the run produced (or, in a dry run, would produce).
#[derive(Clone, Debug)]
pub(crate) struct FileResult {
    pub(crate) format: Format,
    /// The `record/…` key.
    pub(crate) key: String,
    pub(crate) opened: Reason,
    pub(crate) closed: Reason,
    pub(crate) len_ms: i64,
    pub(crate) wall_start_ms: i64,
    pub(crate) wall_end_ms: i64,
    /// `None` in a dry run.
    pub(crate) produced: Option<Produced>,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Summary {
    pub(crate) files: Vec<FileResult>,
    /// Damage found in the inputs (recovered from).
    pub(crate) damage: usize,
    /// Streams reported as not recorded (once per input and stream); they change no status.
    pub(crate) not_recorded: usize,
    /// Tracks read that a requested format cannot carry (once per input, stream, format and
    /// track): *lost media*, exit status 5.
    pub(crate) lost_media: usize,
    /// Inputs or streams that failed outright, with the error.
    pub failures: Vec<String>,
    /// Per stream: sessions, files and damage, for `--json` and `--timeline`.
    pub streams: Vec<StreamReport>,
    /// Uploads that gave up and callbacks left in the spool.
    pub(crate) delivery_failures: usize,
}

impl Summary {
    /// An input, stream or format that failed outright: said on `log` and counted.
    fn fail(&mut self, log: &mut dyn Write, msg: String) -> std::io::Result<()> {
        writeln!(log, "error: {msg}")?;
        self.failures.push(msg);
        Ok(())
    }
}

/// Where the run's messages go: callbacks or the dry-run plan to `out` (stdout), everything
/// else to `log` (stderr), and progress to `progress`.
pub struct Outputs<'a> {
    pub out: &'a mut dyn Write,
    pub log: &'a mut dyn Write,
    pub progress: &'a (dyn Progress + Sync),
    /// Upload and callback delivery; `None`: files stay local and callbacks go to `out`.
    pub delivery: Option<&'a Delivery>,
}

/// Progress reports; every method defaults to doing nothing.
pub trait Progress {
    /// What the run will read: its pushes, and their bytes in all when every size is known.
    fn plan(&self, _pushes: usize, _bytes: Option<u64>) {}
    /// Reading of an input (a session of it) begins.
    fn input(&self, _name: &str, _size: Option<u64>) {}
    /// Bytes of the current input consumed so far.
    fn position(&self, _bytes: u64) {}
    /// A file is complete under its final name.
    fn file_done(&self, _key: &str) {}
}

/// No progress reports (tests, libraries).
pub struct NoProgress;

impl Progress for NoProgress {}

/// Runs `record` over `inputs`; every stream's files and report are kept in the summary.
pub fn run(
    inputs: &[String],
    input_opts: &InputOptions,
    opts: &RecordOptions,
    io: &mut Outputs<'_>,
) -> Result<Summary> {
    run_with(inputs, input_opts, opts, io, None)
}

/// [`run`], handing each stream's files and report to `reports` once the stream is done
/// instead of keeping them in the summary (which then holds the counts and failures only).
pub(crate) fn run_with(
    inputs: &[String],
    input_opts: &InputOptions,
    opts: &RecordOptions,
    io: &mut Outputs<'_>,
    mut reports: Option<&mut dyn Reports>,
) -> Result<Summary> {
    let mut summary = Summary::default();
    let owned = |app: &str, stream: &str| opts.shard.is_none_or(|s| s.owns(app, stream));
    let mut streams: BTreeMap<(String, String), Vec<(usize, PendingSession)>> = BTreeMap::new();
    let mut logs = Vec::new();
    for (number, path) in inputs.iter().enumerate() {
        // A dry run's segment log may hold millions of pushes: sorted by key outside memory.
        if opts.dry_run && input::is_segment_log(path) {
            match SortedLog::open(std::path::Path::new(path), input_opts, owned) {
                Ok(log) => logs.push((number, log)),
                Err(e) => {
                    summary.fail(io.log, e.to_string())?;
                }
            }
            continue;
        }
        match input::open(path, input_opts) {
            Ok(sessions) => {
                for s in sessions {
                    if !s.has_media && !opts.dry_run {
                        let msg = format!(
                            "{}: this push has no media file, so only --dry-run (or inspect \
                             --rules) can use it",
                            s.info.input
                        );
                        summary.fail(io.log, msg)?;
                        continue;
                    }
                    for w in &s.info.warnings {
                        // Each names its input (and where in it), as inspect prints it.
                        writeln!(io.log, "warning: {w}")?;
                    }
                    let k = &s.info.key;
                    if owned(&k.app, &k.stream) {
                        streams
                            .entry((k.app.clone(), k.stream.clone()))
                            .or_default()
                            .push((number, s));
                    }
                }
            }
            Err(e) => {
                summary.fail(io.log, e.to_string())?;
            }
        }
    }
    let mut groups = Groups::new(streams, logs, opts.keep_order);
    let (pushes, keys) = groups.counts();
    io.progress.plan(pushes, groups.bytes());
    if opts.jobs <= 1 || keys <= 1 {
        for sessions in &mut groups {
            record_group(sessions, opts, io, &mut summary)?;
            hand_over(&mut reports, &mut summary)?;
        }
    } else {
        record_parallel(&mut groups, opts, io, &mut summary, &mut reports)?;
    }
    if let Some(e) = groups.error {
        summary.fail(io.log, e.to_string())?;
    }
    Ok(summary)
}

/// The finished streams' files and reports to `reports`, if any.
fn hand_over(reports: &mut Option<&mut dyn Reports>, summary: &mut Summary) -> Result<()> {
    if let Some(r) = reports.as_mut() {
        let files = std::mem::take(&mut summary.files);
        r.stream(files, std::mem::take(&mut summary.streams))?;
    }
    Ok(())
}

/// Records one stream's sessions; a stream that fails is reported, and the run goes on.
fn record_group(
    sessions: Vec<PendingSession>,
    opts: &RecordOptions,
    io: &mut Outputs<'_>,
    summary: &mut Summary,
) -> Result<()> {
    let key = sessions[0].info.key.clone();
    if let Err(e) = record_stream(&key, sessions, opts, io, summary) {
        if is_broken_pipe(&e) {
            return Err(e);
        }
        summary.fail(io.log, format!("stream {key}: {e:#}"))?;
    }
    Ok(())
}

/// Whether `e` is stdout's reader having gone (`kls-rec … | head -1`): the run ends there, with
/// no message, instead of reporting a failed stream and going on.
pub(crate) fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

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
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::callback::{self, FileReport};
use crate::input::log::sort::SortedLog;
use crate::input::{self, InputOptions, PendingSession};
use crate::media::{CodecConfig, StreamKey};
use crate::mediainfo::{self, FileStats};
use crate::mux::{FileClose, FileOpen, Format, MuxOptions, Muxer, Produced, SessionStart};
use crate::report::{FileSpan, StreamReport};

mod deliver;
mod groups;
mod index_pass;
mod interleave;
mod parallel;
mod session;
mod summary;

use crate::rules::{self, Decision, Engine, Reason};
use crate::sink::naming;
pub use deliver::Delivery;
use groups::Groups;
use index_pass::{Planners, Plans};
pub use parallel::Shard;
use parallel::record_parallel;
use session::record_session;
pub use summary::{JsonSpool, KeepStreams, Reports, summary_json};

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
pub struct FileResult {
    pub format: Format,
    /// The `record/…` key.
    pub key: String,
    pub opened: Reason,
    pub closed: Reason,
    pub len_ms: i64,
    pub wall_start_ms: i64,
    pub wall_end_ms: i64,
    /// `None` in a dry run.
    pub produced: Option<Produced>,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Summary {
    pub files: Vec<FileResult>,
    /// Damage found in the inputs (recovered from).
    pub damage: usize,
    /// Streams reported as not recorded (once per input and stream); they change no status.
    pub not_recorded: usize,
    /// Inputs or streams that failed outright, with the error.
    pub failures: Vec<String>,
    /// Per stream: sessions, files and damage, for `--json` and `--timeline`.
    pub streams: Vec<StreamReport>,
    /// Uploads that gave up and callbacks left in the spool.
    pub delivery_failures: usize,
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
pub fn run_with(
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
                    writeln!(io.log, "error: {e}")?;
                    summary.failures.push(e.to_string());
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
                        writeln!(io.log, "error: {msg}")?;
                        summary.failures.push(msg);
                        continue;
                    }
                    for w in &s.info.warnings {
                        writeln!(io.log, "warning: {}: {w}", s.info.input)?;
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
                writeln!(io.log, "error: {e}")?;
                summary.failures.push(e.to_string());
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
        writeln!(io.log, "error: {e}")?;
        summary.failures.push(e.to_string());
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
        writeln!(io.log, "error: stream {key}: {e:#}")?;
        summary.failures.push(format!("stream {key}: {e:#}"));
    }
    Ok(())
}

/// Whether `e` is stdout's reader having gone (`kls-rec … | head -1`): the run ends there, with
/// no message, instead of reporting a failed stream and going on.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// An open recording file: one muxer per format, and what the callbacks need.
struct OpenFile {
    muxers: Vec<(Format, Box<dyn Muxer>)>,
    /// In the index pass, instead of muxers: the file's plans being learnt.
    planners: Option<Planners>,
    opened: Reason,
    config: Arc<CodecConfig>,
    stats: FileStats,
    vdoid: Option<String>,
    /// Formats whose writer failed to open or to write (reported then): not completed, so no
    /// second error follows.
    failed: Vec<Format>,
}

struct StreamRun<'o, 'w> {
    key: StreamKey,
    opts: &'o RecordOptions,
    file: Option<OpenFile>,
    /// Configuration of the session being read.
    config: Arc<CodecConfig>,
    vdoid: Option<String>,
    io: &'o mut Outputs<'w>,
    report: StreamReport,
    /// With `strict_config`: the first session's configuration and input, which every later
    /// one must equal.
    first_config: Option<(Arc<CodecConfig>, String)>,
    /// Whether this is an index pass, a write pass following one, or a lone pass.
    plans: Plans,
    /// The number of the push being read, in the stream (`--explain`'s `push #N`).
    push: usize,
}

fn record_stream(
    key: &StreamKey,
    sessions: Vec<PendingSession>,
    opts: &RecordOptions,
    io: &mut Outputs<'_>,
    summary: &mut Summary,
) -> Result<()> {
    if !index_pass::wanted(opts, &sessions) {
        return stream_pass(key, &sessions, opts, io, summary, Plans::Spool);
    }
    index_pass::beside(key, &sessions, opts, |plans| {
        stream_pass(key, &sessions, opts, io, summary, plans)
    })
}

/// One reading of a stream's sessions through the rules: the write pass (files, callbacks), or
/// with [`Plans::Learn`] the index pass (plans only).
fn stream_pass(
    key: &StreamKey,
    sessions: &[PendingSession],
    opts: &RecordOptions,
    io: &mut Outputs<'_>,
    summary: &mut Summary,
    plans: Plans,
) -> Result<()> {
    let mut engine = Engine::new(opts.rules.clone());
    let mut run = StreamRun {
        key: key.clone(),
        opts,
        file: None,
        config: Arc::new(CodecConfig::default()),
        vdoid: key.vdoid.clone(),
        io,
        report: StreamReport {
            app: key.app.clone(),
            stream: key.stream.clone(),
            settings: (&opts.rules).into(),
            sessions: Vec::new(),
            files: Vec::new(),
            damage: Vec::new(),
            not_recorded: Vec::new(),
        },
        first_config: None,
        plans,
        push: 0,
    };
    for (index, pending) in sessions.iter().enumerate() {
        let info = pending.info.clone();
        if opts.explain {
            writeln!(
                run.io.log,
                "{}: push #{index} from {} starts at {}{}",
                run.key,
                info.input,
                rules::wall_ms_display(info.wall_start_ms),
                if info.played {
                    " (played: what a viewer received)"
                } else {
                    ""
                }
            )?;
        }
        run.io.progress.input(&info.input, pending.size_hint);
        run.push = index;
        let reader = match pending.open() {
            Ok(r) => r,
            Err(e) => {
                writeln!(run.io.log, "error: {e}")?;
                summary.failures.push(e.to_string());
                continue;
            }
        };
        if opts.explain
            && let (Some(v), Some(built)) = (&reader.config().video, &reader.config().video_built)
        {
            writeln!(
                run.io.log,
                "{}: push #{index}: {}",
                run.key,
                built.describe(v.codec)
            )?;
        }
        run.vdoid = info.key.vdoid.clone();
        let result = record_session(&mut run, &mut engine, &info, reader, summary);
        if opts.strict_config {
            // A join is all or nothing: the open file is dropped, so nothing is committed.
            result?;
            continue;
        }
        if let Err(e) = result {
            if is_broken_pipe(&e) {
                return Err(e);
            }
            writeln!(run.io.log, "error: {e:#}")?;
            summary.failures.push(format!("{e:#}"));
            for (_, m) in run.file.iter_mut().flat_map(|f| &mut f.muxers) {
                m.push_ended_early();
            }
        }
    }
    engine.finish();
    let result = run.apply(&mut engine, summary);
    summary.streams.push(run.report);
    result
}

impl StreamRun<'_, '_> {
    /// Carries out the engine's decisions: opens, splices into, and completes files.
    fn apply(&mut self, engine: &mut Engine, summary: &mut Summary) -> Result<()> {
        let decisions: Vec<Decision> = engine.drain_decisions().collect();
        for d in decisions {
            if self.opts.explain {
                writeln!(self.io.log, "{}: {d}", self.key)?;
            }
            match d {
                Decision::Open {
                    reason,
                    wall_start_ms,
                    ..
                } => {
                    self.report.files.push(FileSpan {
                        keys: Vec::new(),
                        wall_start_ms,
                        wall_end_ms: wall_start_ms,
                        len_ms: 0,
                        opened: reason,
                        closed: Reason::EndOfInput,
                        sessions: vec![self.report.sessions.len().saturating_sub(1)],
                    });
                    self.open(reason, wall_start_ms, summary)?
                }
                Decision::Append {
                    start_90k,
                    wall_start_ms,
                    ..
                } => {
                    if let Some(span) = self.report.files.last_mut() {
                        span.sessions
                            .push(self.report.sessions.len().saturating_sub(1));
                    }
                    let input = self.current_input();
                    if let Some(f) = self.file.as_mut() {
                        let s = SessionStart {
                            file_dts_90k: start_90k,
                            wall_ms: wall_start_ms,
                            spliced: true,
                        };
                        for (format, m) in &mut f.muxers {
                            if !f.failed.contains(format) {
                                m.begin_session(&s)?;
                            }
                        }
                        if let Some(p) = f.planners.as_mut() {
                            p.begin_session(&input);
                        }
                    }
                }
                Decision::Close {
                    reason,
                    wall_start_ms,
                    wall_end_ms,
                    len_90k,
                    ..
                } => self.close(reason, wall_start_ms, wall_end_ms, len_90k, summary)?,
            }
        }
        Ok(())
    }

    /// The input of the session being read.
    fn current_input(&self) -> String {
        self.report
            .sessions
            .last()
            .map(|s| s.input.clone())
            .unwrap_or_default()
    }

    fn open(&mut self, reason: Reason, wall_start_ms: i64, summary: &mut Summary) -> Result<()> {
        let mut muxers = Vec::new();
        let mut failed = Vec::new();
        let mut planners = None;
        let start_time_s = wall_start_ms.div_euclid(1000);
        let input = self.current_input();
        let mut plans = match &self.plans {
            Plans::Learn(_) => {
                let formats = &self.opts.formats;
                planners = Some(Planners::new(formats, &self.config, start_time_s, &input));
                None
            }
            // The write pass's file takes its plans whether or not a writer opens.
            Plans::Follow(next) => Some(next.recv().unwrap_or_default()),
            Plans::Spool => None,
        };
        if planners.is_none() && !self.opts.dry_run {
            let stream_name = naming::safe_component(&self.key.stream);
            for &format in &self.opts.formats {
                let dir = self.opts.out_dir.join(naming::format_dir(
                    &self.key.app,
                    &self.key.stream,
                    format,
                ));
                let open = FileOpen {
                    dir: &dir,
                    stream_name: &stream_name,
                    start_time_s,
                    config: &self.config,
                    options: &self.opts.mux,
                };
                let opened = index_pass::open_muxer(format, &open, plans.as_mut(), &input)
                    .and_then(|mut m| {
                        m.begin_session(&SessionStart {
                            file_dts_90k: 0,
                            wall_ms: wall_start_ms,
                            spliced: false,
                        })?;
                        Ok(m)
                    });
                // A format that cannot be written does not cost the others their files.
                match opened {
                    Ok(m) => muxers.push((format, m)),
                    Err(e) => {
                        let msg = format!("{input}: stream {}: no {format} file: {e:#}", self.key);
                        writeln!(self.io.log, "error: {msg}")?;
                        summary.failures.push(msg);
                        failed.push(format);
                    }
                }
            }
        }
        self.file = Some(OpenFile {
            muxers,
            planners,
            opened: reason,
            config: self.config.clone(),
            stats: FileStats::default(),
            vdoid: self.vdoid.clone(),
            failed,
        });
        Ok(())
    }

    fn close(
        &mut self,
        reason: Reason,
        wall_start_ms: i64,
        wall_end_ms: i64,
        len_90k: i64,
        summary: &mut Summary,
    ) -> Result<()> {
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        let wall_end_ms = self
            .opts
            .name_end_ms
            .map_or(wall_end_ms, |e| e.max(wall_end_ms));
        let base_name = naming::base_name(&self.key.stream, wall_start_ms, wall_end_ms);
        // A format whose writer failed to open or on the way was reported then: it has no file.
        let formats: Vec<Format> = (self.opts.formats.iter().copied())
            .filter(|f| !file.failed.contains(f))
            .collect();
        if let Some(span) = self.report.files.last_mut() {
            span.keys = formats
                .iter()
                .map(|&f| naming::file_key(&self.key.app, &self.key.stream, f, &base_name))
                .collect();
            span.wall_end_ms = wall_end_ms;
            span.len_ms = crate::media::to_ms(len_90k);
            span.closed = reason;
        }
        if let (Some(p), Plans::Learn(plans)) = (file.planners, &self.plans) {
            // The write pass may have ended (an error): then no one waits for the plan.
            let _ = plans.send(p.finish(&base_name));
            return Ok(());
        }
        let close = FileClose {
            base_name: base_name.clone(),
        };
        for &format in &formats {
            let key = naming::file_key(&self.key.app, &self.key.stream, format, &base_name);
            let result = FileResult {
                format,
                key,
                opened: file.opened,
                closed: reason,
                len_ms: crate::media::to_ms(len_90k),
                wall_start_ms,
                wall_end_ms,
                produced: None,
            };
            if self.opts.dry_run {
                writeln!(
                    self.io.out,
                    "{}\topened: {}\tclosed: {}\tlength: {}",
                    result.key,
                    result.opened,
                    result.closed,
                    rules::duration_display(result.len_ms)
                )?;
            }
            summary.files.push(result);
        }
        if self.opts.dry_run {
            return Ok(());
        }
        let first = summary.files.len() - formats.len();
        let mut delivery_failures = 0;
        let failed = &file.failed;
        let muxers = file.muxers.into_iter();
        let finished = finish_all(
            muxers.filter(|(f, _)| !failed.contains(f)).collect(),
            &close,
        );
        // A format that fails to complete does not cost the others their callbacks: they are
        // committed already, so each is reported, and then the first failure.
        let mut failed = None;
        for ((format, produced), result) in finished.into_iter().zip(&mut summary.files[first..]) {
            let produced = match produced.with_context(|| format!("completing {}", result.key)) {
                Ok(produced) => produced,
                Err(e) => {
                    failed.get_or_insert(e);
                    continue;
                }
            };
            let mut report = FileReport {
                key: result.key.clone(),
                vdoid: file.vdoid.clone(),
                stream: self.key.stream.clone(),
                bucket: String::new(),
                start_time_s: wall_start_ms.div_euclid(1000),
                end_time_s: wall_end_ms.div_euclid(1000),
                error: None,
            };
            if let Some(delivery) = self.io.delivery
                && !self.deliver_file(delivery, &produced, &mut report)?
            {
                delivery_failures += 1;
            }
            let line = match format {
                Format::Hls => {
                    callback::hls(&report, produced.total_size, self.opts.callback_times)
                }
                Format::Mp4 | Format::Flv => {
                    let info =
                        mediainfo::describe(format, produced.size, &file.config, &file.stats);
                    callback::avtrans(&report, &produced.md5, Some(&info))
                }
            };
            match self.io.delivery.and_then(|d| d.callbacks.as_ref()) {
                Some(sender) => {
                    if let crate::deliver::Sent::Spooled { error } = sender.send(&line)? {
                        delivery_failures += 1;
                        writeln!(
                            self.io.log,
                            "warning: callback for {} kept in the spool: {error}",
                            result.key
                        )?;
                    }
                }
                None => {
                    writeln!(self.io.out, "{line}")?;
                    self.io.out.flush()?;
                }
            }
            self.io.progress.file_done(&result.key);
            result.produced = Some(produced);
        }
        summary.delivery_failures += delivery_failures;
        failed.map_or(Ok(()), Err)
    }
}

/// Completes a file's muxers side by side: finishing copies each format's spooled media into
/// place and hashes it, work that the formats can share the cores for.
fn finish_all(
    muxers: Vec<(Format, Box<dyn Muxer>)>,
    close: &FileClose,
) -> Vec<(Format, Result<Produced>)> {
    if muxers.len() <= 1 {
        return muxers
            .into_iter()
            .map(|(f, m)| (f, m.finish(close)))
            .collect();
    }
    std::thread::scope(|scope| {
        let running: Vec<_> = muxers
            .into_iter()
            .map(|(f, m)| (f, scope.spawn(move || m.finish(close))))
            .collect();
        running
            .into_iter()
            .map(|(f, t)| {
                let r = t
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("the {f} writer panicked")));
                (f, r)
            })
            .collect()
    })
}

//! The per-stream loop: a stream's push sessions read one after another through one rules
//! [`Engine`], whose decisions open, splice into and close the stream's files. The stream's
//! report (sessions, files, damage, what was not recorded) is kept here; the sessions are read
//! by [`super::session`] through the methods of [`StreamRun`], never its fields.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;

use super::deliver;
use super::file::{OpenFile, Opening};
use super::index_pass::{self, Plans};
use super::session::record_session;
use super::{FileResult, NoProgress, Outputs, RecordOptions, Summary, is_broken_pipe};
use crate::input::{PendingSession, SessionInfo};
use crate::media::{CodecConfig, NotRecorded, Packet, StreamKey, Track};
use crate::mux::carry::Carried;
use crate::mux::{FileClose, Format, SessionStart};
use crate::report::{DamageMark, FileSpan, NotRecordedMark, SessionSpan, StreamReport};
use crate::rules::{self, Decision, Engine, Reason};
use crate::sink::naming;

/// Records one stream's sessions: with an index pass beside the write pass where MP4 or FLV
/// files can be planned, otherwise in one pass.
pub(super) fn record_stream(
    key: &StreamKey,
    sessions: Vec<PendingSession>,
    opts: &RecordOptions,
    io: &mut Outputs<'_>,
    summary: &mut Summary,
) -> Result<()> {
    if !index_pass::wanted(opts, &sessions) {
        return stream_pass(key, &sessions, opts, io, summary, Plans::Spool);
    }
    let learn = |plans| {
        // The index pass: the write pass's pipeline with nothing written and nothing said.
        // Damage and errors are the write pass's to report: it meets each at the same packet.
        let (mut out, mut log) = (std::io::sink(), std::io::sink());
        let mut io = Outputs {
            out: &mut out,
            log: &mut log,
            progress: &NoProgress,
            delivery: None,
        };
        let mut summary = Summary::default();
        let _ = stream_pass(key, &sessions, opts, &mut io, &mut summary, plans);
    };
    index_pass::beside(learn, |plans| {
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
    let mut run = StreamRun::new(key, opts, io, summary, plans);
    for (index, pending) in sessions.iter().enumerate() {
        let info = pending.info.clone();
        run.push = index;
        run.announce(&info)?;
        run.io.progress.input(&info.input, pending.size_hint);
        let reader = match pending.open() {
            Ok(r) => r,
            Err(e) => {
                run.summary.fail(run.io.log, e.to_string())?;
                continue;
            }
        };
        if opts.explain
            && let (Some(v), Some(built)) = (&reader.config().video, &reader.config().video_built)
        {
            let built = built.describe(v.codec);
            writeln!(run.io.log, "{}: push #{index}: {built}", run.key)?;
        }
        run.vdoid = info.key.vdoid.clone();
        let result = record_session(&mut run, &mut engine, &info, reader);
        if opts.strict_config {
            // A join is all or nothing: the open file is dropped, so nothing is committed.
            result?;
            continue;
        }
        if let Err(e) = result {
            if is_broken_pipe(&e) {
                return Err(e);
            }
            run.summary.fail(run.io.log, format!("{e:#}"))?;
            if let Some(f) = run.file.as_mut() {
                f.push_ended_early();
            }
        }
    }
    engine.finish();
    let result = run.apply(&mut engine);
    run.summary.streams.push(run.report);
    result
}

/// A stream being read: its open file, the configuration of the session being read, and its
/// report.
pub(super) struct StreamRun<'o, 'w> {
    key: StreamKey,
    opts: &'o RecordOptions,
    file: Option<OpenFile>,
    /// Configuration of the session being read.
    config: Arc<CodecConfig>,
    vdoid: Option<String>,
    io: &'o mut Outputs<'w>,
    summary: &'o mut Summary,
    report: StreamReport,
    /// With `strict_config`: the first session's configuration and input, which every later
    /// one must equal.
    first_config: Option<(Arc<CodecConfig>, String)>,
    /// Tracks already reported as lost media: input, format, track and codec.
    lost_reported: Vec<(String, Format, Track, &'static str)>,
    /// Whether this is an index pass, a write pass following one, or a lone pass.
    plans: Plans,
    /// The number of the push being read, in the stream (`--explain`'s `push #N`).
    push: usize,
    /// The start second of the stream's last HLS file and the number after its last segment:
    /// a file starting in that second numbers its segments on from there.
    hls_next: Option<(i64, usize)>,
    /// The base names given to the stream's files so far.
    names: naming::RunNames,
}

impl<'o, 'w> StreamRun<'o, 'w> {
    fn new(
        key: &StreamKey,
        opts: &'o RecordOptions,
        io: &'o mut Outputs<'w>,
        summary: &'o mut Summary,
        plans: Plans,
    ) -> Self {
        StreamRun {
            key: key.clone(),
            opts,
            file: None,
            config: Arc::new(CodecConfig::default()),
            vdoid: key.vdoid.clone(),
            io,
            summary,
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
            lost_reported: Vec::new(),
            plans,
            push: 0,
            hls_next: None,
            names: naming::RunNames::default(),
        }
    }
}

/// What reading a session asks of its stream.
impl StreamRun<'_, '_> {
    /// `--explain`: the push about to be read.
    fn announce(&mut self, info: &SessionInfo) -> Result<()> {
        if !self.opts.explain {
            return Ok(());
        }
        let played = if info.played {
            " (played: what a viewer received)"
        } else {
            ""
        };
        writeln!(
            self.io.log,
            "{}: push #{} from {} starts at {}{played}",
            self.key,
            self.push,
            info.input,
            rules::wall_ms_display(info.wall_start_ms),
        )?;
        Ok(())
    }

    /// The configuration of the session being read.
    pub(crate) fn config(&self) -> &Arc<CodecConfig> {
        &self.config
    }

    /// The session's configuration is now `config` (at its start, or a change).
    pub(crate) fn set_config(&mut self, config: Arc<CodecConfig>) {
        self.config = config;
    }

    /// `splice`: a codec configuration that differs is an error, not a new file.
    pub(crate) fn strict_config(&self) -> bool {
        self.opts.strict_config
    }

    /// Where warnings go.
    pub(crate) fn log(&mut self) -> &mut dyn Write {
        self.io.log
    }

    /// Bytes of the current input consumed so far.
    pub(crate) fn position(&self, bytes: u64) {
        self.io.progress.position(bytes);
    }

    /// With `strict_config` (`splice`): the session's configuration must equal the first one's.
    pub(crate) fn check_joinable(&mut self, info: &SessionInfo) -> Result<()> {
        if !self.opts.strict_config {
            return Ok(());
        }
        match &self.first_config {
            Some((first, first_input)) => {
                let diff = first.differences(&self.config);
                if !diff.is_empty() {
                    anyhow::bail!(
                        "{first_input} and {} differ in {}; files with different codec \
                         configurations cannot be joined without re-encoding",
                        info.input,
                        diff.join(", ")
                    );
                }
            }
            None => self.first_config = Some((self.config.clone(), info.input.clone())),
        }
        Ok(())
    }

    /// A stream kls-rec does not record, reported once per input: a later push of the same
    /// input repeats what the first said.
    pub(crate) fn not_recorded(&mut self, input: &str, n: NotRecorded) -> Result<()> {
        let marks = &self.report.not_recorded;
        if marks.iter().any(|m| m.input == input && m.what == n.what) {
            return Ok(());
        }
        self.summary.not_recorded += 1;
        writeln!(self.io.log, "note: {input}: {n}")?;
        self.report.not_recorded.push(NotRecordedMark {
            input: input.to_string(),
            offset: n.offset,
            what: n.what,
        });
        Ok(())
    }

    /// Counts, prints and marks (for `--timeline`) one piece of damage.
    pub(crate) fn damage(&mut self, input: &str, wall_ms: i64, what: String) -> Result<()> {
        self.summary.damage += 1;
        writeln!(self.io.log, "warning: {input}: {what}")?;
        self.report.damage.push(DamageMark {
            wall_ms,
            input: input.to_string(),
            what,
        });
        Ok(())
    }

    /// The session has begun in the rules, at its first packet placed.
    pub(crate) fn session_began(&mut self, info: &SessionInfo) {
        self.report.sessions.push(SessionSpan {
            input: info.input.clone(),
            push: self.push,
            index: info.index,
            vdoid: info.key.vdoid.clone(),
            wall_start_ms: info.wall_start_ms,
            wall_end_ms: info.wall_start_ms,
            packets: 0,
            played: info.played,
        });
    }

    /// The session that began has ended, at `wall_end_ms` (`None`: where it began), with
    /// `packets` placed.
    pub(crate) fn session_ended(&mut self, wall_end_ms: Option<i64>, packets: u64) {
        if let Some(span) = self.report.sessions.last_mut() {
            span.wall_end_ms = wall_end_ms.unwrap_or(span.wall_start_ms);
            span.packets = packets;
        }
    }

    /// One placed packet into the open file.
    pub(crate) fn write(&mut self, packet: &Packet) -> Result<()> {
        match self.file.as_mut() {
            Some(f) => f.write(packet, self.io.log, self.summary),
            None => Ok(()),
        }
    }
}

/// Carrying out the engine's decisions.
impl StreamRun<'_, '_> {
    /// Carries out the engine's decisions: opens, splices into, and completes files.
    pub(crate) fn apply(&mut self, engine: &mut Engine) -> Result<()> {
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
                } => self.open(reason, wall_start_ms)?,
                Decision::Append {
                    start_90k,
                    wall_start_ms,
                    ..
                } => self.splice(start_90k, wall_start_ms)?,
                Decision::Close {
                    reason,
                    wall_start_ms,
                    wall_end_ms,
                    len_90k,
                    ..
                } => self.close(reason, wall_start_ms, wall_end_ms, len_90k)?,
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

    /// The number of the session being read in the report.
    fn current_session(&self) -> usize {
        self.report.sessions.len().saturating_sub(1)
    }

    fn open(&mut self, reason: Reason, wall_start_ms: i64) -> Result<()> {
        self.report.files.push(FileSpan {
            keys: Vec::new(),
            wall_start_ms,
            wall_end_ms: wall_start_ms,
            len_ms: 0,
            opened: reason,
            closed: Reason::EndOfInput,
            sessions: vec![self.current_session()],
        });
        let input = self.current_input();
        let partial = self.partial_formats(&input)?;
        let opening = Opening {
            reason,
            wall_start_ms,
            config: &self.config,
            vdoid: self.vdoid.clone(),
            input: &input,
            partial,
            first_segment: match self.hls_next {
                Some((second, next)) if second == naming::name_second(wall_start_ms) => next,
                Some(_) | None => 0,
            },
        };
        let (log, summary) = (&mut *self.io.log, &mut *self.summary);
        let file = OpenFile::open(&self.key, self.opts, &self.plans, opening, log, summary)?;
        self.file = Some(file);
        Ok(())
    }

    /// The requested formats that cannot carry every track of the session's configuration,
    /// with what each carries; each track left out is reported as lost media once per input
    /// and format.
    fn partial_formats(&mut self, input: &str) -> Result<Vec<(Format, Carried)>> {
        let mut partial = Vec::new();
        for &format in &self.opts.formats {
            let carried = Carried::new(format, &self.config);
            for &(track, codec) in &carried.left_out {
                let mark = (input.to_string(), format, track, codec);
                if self.lost_reported.contains(&mark) {
                    continue;
                }
                self.summary.lost_media += 1;
                let file = if carried.is_empty() {
                    format!("no {format} file is written")
                } else {
                    format!("the {format} file has the other tracks")
                };
                writeln!(
                    self.io.log,
                    "warning: {input}: stream {}: lost media: {track} {codec} cannot be \
                     recorded in {format} (only FLV carries it); {file}",
                    self.key
                )?;
                self.lost_reported.push(mark);
            }
            if !carried.is_whole() {
                partial.push((format, carried));
            }
        }
        Ok(partial)
    }

    /// The session being read is spliced into the open file at `start_90k`.
    fn splice(&mut self, start_90k: i64, wall_start_ms: i64) -> Result<()> {
        let session = self.current_session();
        if let Some(span) = self.report.files.last_mut() {
            span.sessions.push(session);
        }
        let input = self.current_input();
        let Some(f) = self.file.as_mut() else {
            return Ok(());
        };
        let start = SessionStart {
            file_dts_90k: start_90k,
            wall_ms: wall_start_ms,
            spliced: true,
        };
        f.begin_session(&start, &input)
    }

    /// The open file closes: it is named, reported (printed in a dry run), completed and
    /// handed out; in the index pass its plans go to the write pass.
    fn close(
        &mut self,
        reason: Reason,
        wall_start_ms: i64,
        wall_end_ms: i64,
        len_90k: i64,
    ) -> Result<()> {
        let Some(mut file) = self.file.take() else {
            return Ok(());
        };
        let wall_end_ms = (self.opts.name_end_ms).map_or(wall_end_ms, |e| e.max(wall_end_ms));
        let base_name = self
            .names
            .name(&self.key.stream, wall_start_ms, wall_end_ms);
        // A format whose writer failed to open or on the way was reported then: it has no file.
        let formats = file.formats(&self.opts.formats);
        let len_ms = crate::media::to_ms(len_90k);
        let (app, stream) = (&self.key.app, &self.key.stream);
        let keys: Vec<String> = (formats.iter())
            .map(|&f| naming::file_key(app, stream, f, &base_name))
            .collect();
        if let Some(span) = self.report.files.last_mut() {
            span.keys = keys.clone();
            span.wall_end_ms = wall_end_ms;
            span.len_ms = len_ms;
            span.closed = reason;
        }
        if let (Some(p), Plans::Learn(plans)) = (file.take_plans(&base_name), &self.plans) {
            // The write pass may have ended (an error): then no one waits for the plan.
            let _ = plans.send(p);
            return Ok(());
        }
        let first = self.summary.files.len();
        for (&format, key) in formats.iter().zip(keys) {
            let result = FileResult {
                format,
                key,
                opened: file.opened,
                closed: reason,
                len_ms,
                wall_start_ms,
                wall_end_ms,
                produced: None,
            };
            if self.opts.dry_run {
                let length = rules::duration_display(len_ms);
                let (key, opened) = (&result.key, result.opened);
                writeln!(
                    self.io.out,
                    "{key}\topened: {opened}\tclosed: {reason}\tlength: {length}"
                )?;
            }
            self.summary.files.push(result);
        }
        if self.opts.dry_run {
            return Ok(());
        }
        let finished = file.finish(&FileClose { base_name });
        if let Some((_, Ok(hls))) = finished.iter().find(|(f, _)| *f == Format::Hls) {
            self.hls_next = Some((naming::name_second(wall_start_ms), hls.next_segment));
        }
        let results = &mut self.summary.files[first..];
        let times = self.opts.callback_times;
        let handed = deliver::hand_out(finished, results, &file, stream, times, self.io)?;
        self.summary.delivery_failures += handed.delivery_failures;
        handed.failed.map_or(Ok(()), Err)
    }
}

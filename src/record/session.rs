//! Reading one push session through the rules: packets are put in decode order across tracks
//! ([`super::interleave`]), then each is placed by the engine and handed, with its file-relative
//! timestamp, to the open file's writers (or, in the index pass, to its planners);
//! configuration changes and damage are reported as they come.

use std::sync::Arc;

use anyhow::Result;

use super::interleave::{Interleaver, MAX_SPAN_90K};
use super::{StreamRun, Summary};
use crate::input::{self, SessionInfo};
use crate::media::TrackKind;
use crate::media::{CodecConfig, Damage, Event, Packet};
use crate::report::{DamageMark, NotRecordedMark, SessionSpan};
use crate::rules::{Engine, Placement, Span, TrackStarts};

/// How often (in packets) progress is reported: cheap enough for the per-packet loop.
const PROGRESS_EVERY: u64 = 256;

pub(super) fn record_session(
    run: &mut StreamRun<'_, '_>,
    engine: &mut Engine,
    info: &SessionInfo,
    mut reader: Box<dyn input::SessionReader>,
    summary: &mut Summary,
) -> Result<()> {
    run.config = reader.config().clone();
    check_joinable(run, info)?;
    let mut placer = Placer {
        info,
        started: false,
        dropped: 0,
        raised: 0,
        packets: 0,
        first_dts_90k: None,
        last_dts_90k: 0,
        queue: Interleaver::new(&run.config),
    };
    if let Some(span) = reader.take_span() {
        placer.span(run, engine, summary, &span)?;
    }
    let result = loop {
        let event = match reader.next_event() {
            Ok(Some(e)) => e,
            Ok(None) => break placer.drain(run, engine, summary),
            Err(e) => {
                // What was read before the error is still written, in order.
                placer.drain(run, engine, summary)?;
                break Err(anyhow::Error::new(e));
            }
        };
        match event {
            Event::Packet(packet) => {
                placer.packets += 1;
                if placer.packets.is_multiple_of(PROGRESS_EVERY) {
                    run.io.progress.position(reader.position());
                }
                placer.queue.push(packet);
                while let Some(p) = placer.queue.pop() {
                    placer.place(run, engine, summary, p)?;
                }
            }
            Event::Config(config) => {
                placer.config(run, engine, summary, config, reader.position())?
            }
            Event::NotRecorded(n) => {
                // Once per input: a later push of the same input repeats what the first said.
                let seen = run
                    .report
                    .not_recorded
                    .iter()
                    .any(|m| m.input == info.input && m.what == n.what);
                if !seen {
                    summary.not_recorded += 1;
                    writeln!(run.io.log, "note: {}: {n}", info.input)?;
                    run.report.not_recorded.push(NotRecordedMark {
                        input: info.input.clone(),
                        offset: n.offset,
                        what: n.what,
                    });
                }
            }
            Event::Damage(d) => {
                let wall_ms = placer.wall_ms();
                report_damage(run, summary, info, wall_ms, d.to_string())?;
            }
        }
    };
    placer.finish(run, engine, summary, reader.position())?;
    result
}

/// With `strict_config` (`splice`): the session's configuration must equal the first one's.
fn check_joinable(run: &mut StreamRun<'_, '_>, info: &SessionInfo) -> Result<()> {
    if !run.opts.strict_config {
        return Ok(());
    }
    match &run.first_config {
        Some((first, first_input)) => {
            let diff = first.differences(&run.config);
            if !diff.is_empty() {
                anyhow::bail!(
                    "{first_input} and {} differ in {}; files with different codec \
                     configurations cannot be joined without re-encoding",
                    info.input,
                    diff.join(", ")
                );
            }
        }
        None => run.first_config = Some((run.config.clone(), info.input.clone())),
    }
    Ok(())
}

/// Counts, prints and marks (for `--timeline`) one piece of damage.
fn report_damage(
    run: &mut StreamRun<'_, '_>,
    summary: &mut Summary,
    info: &SessionInfo,
    wall_ms: i64,
    what: String,
) -> Result<()> {
    summary.damage += 1;
    writeln!(run.io.log, "warning: {}: {what}", info.input)?;
    run.report.damage.push(DamageMark {
        wall_ms,
        input: info.input.clone(),
        what,
    });
    Ok(())
}

/// One placed packet into the open file's writers. A writer that fails is reported once and
/// stops; the other formats' files go on.
fn write_packet(run: &mut StreamRun<'_, '_>, summary: &mut Summary, packet: &Packet) -> Result<()> {
    let Some(f) = run.file.as_mut() else {
        return Ok(());
    };
    f.stats.add(packet);
    for (format, m) in &mut f.muxers {
        if f.failed.contains(format) {
            continue;
        }
        if let Err(e) = m.write(packet) {
            let e = e.context(format!("writing the {format} file"));
            writeln!(run.io.log, "error: {e:#}")?;
            summary.failures.push(format!("{e:#}"));
            f.failed.push(*format);
        }
    }
    if let Some(p) = f.planners.as_mut() {
        p.write(packet);
    }
    Ok(())
}

/// The session's packets on their way from the reader, through the decode-order queue, to the
/// rules and the open file's writers.
struct Placer<'i> {
    info: &'i SessionInfo,
    /// The session has begun in the rules (at its first packet placed).
    started: bool,
    dropped: u64,
    /// Packets whose DTS fell before their file's first packet and was raised to it.
    raised: u64,
    /// Packets read.
    packets: u64,
    /// Session DTS of the first and the latest packet placed: places damage on the wall clock.
    first_dts_90k: Option<i64>,
    last_dts_90k: i64,
    queue: Interleaver,
}

impl Placer<'_> {
    fn wall_ms(&self) -> i64 {
        self.info.wall_start_ms
            + self
                .first_dts_90k
                .map_or(0, |f| crate::media::to_ms(self.last_dts_90k - f))
    }

    /// Places every queued packet.
    fn drain(
        &mut self,
        run: &mut StreamRun<'_, '_>,
        engine: &mut Engine,
        summary: &mut Summary,
    ) -> Result<()> {
        while let Some(p) = self.queue.drain() {
            self.place(run, engine, summary, p)?;
        }
        Ok(())
    }

    /// The session begins in the rules and the report, at its first packet placed.
    fn start(&mut self, run: &mut StreamRun<'_, '_>, engine: &mut Engine, starts: TrackStarts) {
        if self.started {
            return;
        }
        // A session begins at its first media packet (an empty dump is no push).
        engine.begin_session_at(self.info.wall_start_ms, &run.config, starts);
        self.started = true;
        run.report.sessions.push(SessionSpan {
            input: self.info.input.clone(),
            push: run.push,
            index: self.info.index,
            vdoid: self.info.key.vdoid.clone(),
            wall_start_ms: self.info.wall_start_ms,
            wall_end_ms: self.info.wall_start_ms,
            packets: 0,
            played: self.info.played,
        });
    }

    /// Placeholder packets (no payload, nothing to write) placed at once, as the packets one by
    /// one would be: a span is one track's, so the decode-order queue would pass it unchanged.
    fn span(
        &mut self,
        run: &mut StreamRun<'_, '_>,
        engine: &mut Engine,
        summary: &mut Summary,
        span: &Span,
    ) -> Result<()> {
        if span.count == 0 {
            return Ok(());
        }
        let first = span.dts_90k(0);
        let mut starts = self.queue.starts();
        match span.track {
            TrackKind::Video => starts.video_90k.get_or_insert(first),
            TrackKind::Audio => starts.audio_90k.get_or_insert(first),
        };
        self.start(run, engine, starts);
        self.packets += span.count;
        self.first_dts_90k.get_or_insert(first);
        self.last_dts_90k = span.dts_90k(span.count - 1);
        engine.span(span);
        run.apply(engine, summary)
    }

    /// One packet through the rules into the open file.
    fn place(
        &mut self,
        run: &mut StreamRun<'_, '_>,
        engine: &mut Engine,
        summary: &mut Summary,
        mut packet: Packet,
    ) -> Result<()> {
        let starts = self.queue.starts();
        self.start(run, engine, starts);
        self.first_dts_90k.get_or_insert(packet.dts_90k);
        self.last_dts_90k = packet.dts_90k;
        let placement = engine.packet(packet.track.kind, packet.dts_90k, packet.keyframe);
        run.apply(engine, summary)?;
        match placement {
            Placement::Write {
                file_dts_90k,
                raised_90k,
                ..
            } => {
                self.raised += u64::from(raised_90k > 0);
                packet.dts_90k = file_dts_90k;
                write_packet(run, summary, &packet)?;
            }
            Placement::DropBeforeKeyframe => self.dropped += 1,
        }
        Ok(())
    }

    /// A configuration change: the packets read before it are placed first, with the
    /// configuration they came with.
    fn config(
        &mut self,
        run: &mut StreamRun<'_, '_>,
        engine: &mut Engine,
        summary: &mut Summary,
        config: Arc<CodecConfig>,
        position: u64,
    ) -> Result<()> {
        self.drain(run, engine, summary)?;
        let input = &self.info.input;
        let diff = run.config.differences(&config);
        if run.opts.strict_config && !diff.is_empty() {
            anyhow::bail!(
                "{input}: the codec configuration changes at byte {position} ({}); files with \
                 different configurations cannot be joined without re-encoding",
                diff.join(", ")
            );
        }
        if !diff.is_empty() {
            writeln!(
                run.io.log,
                "warning: {input}: codec configuration changes at byte {position} ({})",
                diff.join(", ")
            )?;
        }
        run.config = config;
        self.queue.expect(&run.config);
        if self.started {
            engine.config_change(&run.config);
            run.apply(engine, summary)?;
        }
        Ok(())
    }

    /// The session's end: what was dropped or re-stamped is reported, and the rules hear of
    /// the end.
    fn finish(
        self,
        run: &mut StreamRun<'_, '_>,
        engine: &mut Engine,
        summary: &mut Summary,
        position: u64,
    ) -> Result<()> {
        let (info, wall_ms) = (self.info, self.wall_ms());
        if self.dropped > 0 {
            let d = Damage::Dropped {
                offset: position,
                what: format!(
                    "{} video packets before the first keyframe of a file",
                    self.dropped
                ),
            };
            report_damage(run, summary, info, wall_ms, d.to_string())?;
        }
        if self.raised > 0 {
            let what = format!(
                "{} packets came more than {} s out of decode order, before their file's first \
                 packet: their DTS was raised to the file's start",
                self.raised,
                MAX_SPAN_90K / 90_000
            );
            report_damage(run, summary, info, wall_ms, what)?;
        }
        if !self.started {
            writeln!(
                run.io.log,
                "warning: {}: push #{} has no media packets; ignored",
                info.input, info.index
            )?;
            return Ok(());
        }
        let end = engine.end_session();
        if let Some(span) = run.report.sessions.last_mut() {
            span.wall_end_ms = end.unwrap_or(span.wall_start_ms);
            span.packets = self.packets - self.dropped;
        }
        Ok(())
    }
}

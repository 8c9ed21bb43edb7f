//! Reading one push session through the rules: each packet is placed by the engine and handed,
//! with its file-relative timestamp, to the open file's writers (or, in the index pass, to its
//! MP4 planner); configuration changes and damage are reported as they come.

use anyhow::{Context, Result};

use super::interleave::Interleaver;
use super::{StreamRun, Summary};
use crate::input::{self, SessionInfo};
use crate::media::{Damage, Event, Packet};
use crate::report::{DamageMark, SessionSpan};
use crate::rules::{Engine, Placement};

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
    if run.opts.strict_config {
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
    }
    let mut placer = Placer {
        info,
        started: false,
        dropped: 0,
        packets: 0,
        first_dts_90k: None,
        last_dts_90k: 0,
        queue: Interleaver::new(&run.config),
    };
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
                // The packets read before the change belong to the configuration they came with.
                placer.drain(run, engine, summary)?;
                let diff = run.config.differences(&config);
                if run.opts.strict_config && !diff.is_empty() {
                    anyhow::bail!(
                        "{}: the codec configuration changes at byte {} ({}); files with \
                         different configurations cannot be joined without re-encoding",
                        info.input,
                        reader.position(),
                        diff.join(", ")
                    );
                }
                if !diff.is_empty() {
                    writeln!(
                        run.io.log,
                        "warning: {}: codec configuration changes at byte {} ({})",
                        info.input,
                        reader.position(),
                        diff.join(", ")
                    )?;
                }
                run.config = config;
                placer.queue.expect(&run.config);
                if placer.started {
                    engine.config_change(&run.config);
                    run.apply(engine, summary)?;
                }
            }
            Event::Damage(d) => {
                summary.damage += 1;
                writeln!(run.io.log, "warning: {}: {d}", info.input)?;
                run.report.damage.push(DamageMark {
                    wall_ms: placer.wall_ms(),
                    input: info.input.clone(),
                    what: d.to_string(),
                });
            }
        }
    };
    let Placer {
        started,
        dropped,
        packets,
        ..
    } = placer;
    let wall_ms = placer.wall_ms();
    if dropped > 0 {
        summary.damage += 1;
        let d = Damage::Dropped {
            offset: reader.position(),
            what: format!("{dropped} video packets before the first keyframe of a file"),
        };
        writeln!(run.io.log, "warning: {}: {d}", info.input)?;
        run.report.damage.push(DamageMark {
            wall_ms,
            input: info.input.clone(),
            what: d.to_string(),
        });
    }
    if started {
        let end = engine.end_session();
        if let Some(span) = run.report.sessions.last_mut() {
            span.wall_end_ms = end.unwrap_or(span.wall_start_ms);
            span.packets = packets - dropped;
        }
    } else {
        writeln!(
            run.io.log,
            "warning: {}: push #{} has no media packets; ignored",
            info.input, info.index
        )?;
    }
    result
}

/// The session's packets on their way from the reader, through the decode-order queue, to the
/// rules and the open file's writers.
struct Placer<'i> {
    info: &'i SessionInfo,
    /// The session has begun in the rules (at its first packet placed).
    started: bool,
    dropped: u64,
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

    /// One packet through the rules into the open file.
    fn place(
        &mut self,
        run: &mut StreamRun<'_, '_>,
        engine: &mut Engine,
        summary: &mut Summary,
        mut packet: Packet,
    ) -> Result<()> {
        if !self.started {
            // A session begins at its first media packet (an empty dump is no push).
            engine.begin_session_at(self.info.wall_start_ms, &run.config, self.queue.starts());
            self.started = true;
            run.report.sessions.push(SessionSpan {
                input: self.info.input.clone(),
                index: self.info.index,
                vdoid: self.info.key.vdoid.clone(),
                wall_start_ms: self.info.wall_start_ms,
                wall_end_ms: self.info.wall_start_ms,
                packets: 0,
            });
        }
        self.first_dts_90k.get_or_insert(packet.dts_90k);
        self.last_dts_90k = packet.dts_90k;
        let placement = engine.packet(packet.track, packet.dts_90k, packet.keyframe);
        run.apply(engine, summary)?;
        match placement {
            Placement::Write { file_dts_90k, .. } => {
                packet.dts_90k = file_dts_90k;
                if let Some(f) = run.file.as_mut() {
                    f.stats.add(&packet);
                    for (format, m) in &mut f.muxers {
                        m.write(&packet)
                            .with_context(|| format!("writing the {format} file"))?;
                    }
                    if let Some(p) = f.planner.as_mut() {
                        p.write(&packet).context("writing the mp4 file")?;
                    }
                }
            }
            Placement::DropBeforeKeyframe => self.dropped += 1,
        }
        Ok(())
    }
}

//! Reading one push session through the rules: each packet is placed by the engine and handed,
//! with its file-relative timestamp, to the open file's writers (or, in the index pass, to its
//! MP4 planner); configuration changes and damage are reported as they come.

use anyhow::{Context, Result};

use super::{StreamRun, Summary};
use crate::input::{self, SessionInfo};
use crate::media::{Damage, Event};
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
    let mut started = false;
    let mut dropped = 0u64;
    let mut packets = 0u64;
    // Session DTS of the first and the latest packet: places damage on the wall clock.
    let mut first_dts_90k = None;
    let mut last_dts_90k = 0;
    let wall_of = |first: Option<i64>, last: i64| {
        info.wall_start_ms + first.map_or(0, |f| crate::media::to_ms(last - f))
    };
    let result = loop {
        let event = match reader.next_event() {
            Ok(Some(e)) => e,
            Ok(None) => break Ok(()),
            Err(e) => break Err(anyhow::Error::new(e)),
        };
        match event {
            Event::Packet(mut packet) => {
                packets += 1;
                if packets.is_multiple_of(PROGRESS_EVERY) {
                    run.io.progress.position(reader.position());
                }
                if !started {
                    // A session begins at its first media packet (an empty dump is no push).
                    engine.begin_session(info.wall_start_ms, &run.config);
                    started = true;
                    run.report.sessions.push(SessionSpan {
                        input: info.input.clone(),
                        push: run.push,
                        index: info.index,
                        vdoid: info.key.vdoid.clone(),
                        wall_start_ms: info.wall_start_ms,
                        wall_end_ms: info.wall_start_ms,
                        packets: 0,
                    });
                }
                first_dts_90k.get_or_insert(packet.dts_90k);
                last_dts_90k = packet.dts_90k;
                let placement = engine.packet(packet.track, packet.dts_90k, packet.keyframe);
                run.apply(engine, summary)?;
                match placement {
                    Placement::Write { file_dts_90k, .. } => {
                        packet.dts_90k = file_dts_90k;
                        if let Some(f) = run.file.as_mut() {
                            f.stats.add(&packet);
                            for (format, m) in &mut f.muxers {
                                if f.failed.contains(format) {
                                    continue;
                                }
                                if let Err(e) = m.write(&packet) {
                                    // Reported once; the other formats' files go on.
                                    let e = e.context(format!("writing the {format} file"));
                                    writeln!(run.io.log, "error: {e:#}")?;
                                    summary.failures.push(format!("{e:#}"));
                                    f.failed.push(*format);
                                }
                            }
                            if let Some(p) = f.planner.as_mut() {
                                p.write(&packet).context("writing the mp4 file")?;
                            }
                        }
                    }
                    Placement::DropBeforeKeyframe => dropped += 1,
                }
            }
            Event::Config(config) => {
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
                if started {
                    engine.config_change(&run.config);
                    run.apply(engine, summary)?;
                }
            }
            Event::Damage(d) => {
                summary.damage += 1;
                writeln!(run.io.log, "warning: {}: {d}", info.input)?;
                run.report.damage.push(DamageMark {
                    wall_ms: wall_of(first_dts_90k, last_dts_90k),
                    input: info.input.clone(),
                    what: d.to_string(),
                });
            }
        }
    };
    if dropped > 0 {
        summary.damage += 1;
        let d = Damage::Dropped {
            offset: reader.position(),
            what: format!("{dropped} video packets before the first keyframe of a file"),
        };
        writeln!(run.io.log, "warning: {}: {d}", info.input)?;
        run.report.damage.push(DamageMark {
            wall_ms: wall_of(first_dts_90k, last_dts_90k),
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

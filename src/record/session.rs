//! Reading one push session through the rules: packets are put in decode order across tracks
//! ([`super::interleave`]), then each is placed by the engine and handed, with its file-relative
//! timestamp, to the open file's writers (or, in the index pass, to its planners);
//! configuration changes and damage are reported as they come.

use std::sync::Arc;

use anyhow::Result;

use super::interleave::{Interleaver, MAX_SPAN_90K};
use super::stream::StreamRun;
use crate::input::{self, SessionInfo};
use crate::media::TrackKind;
use crate::media::{CodecConfig, Damage, Event, Packet};
use crate::rules::{Engine, Placement, Span, TrackStarts};

/// How often (in packets) progress is reported: cheap enough for the per-packet loop.
const PROGRESS_EVERY: u64 = 256;

pub(super) fn record_session(
    run: &mut StreamRun<'_, '_>,
    engine: &mut Engine,
    info: &SessionInfo,
    mut reader: Box<dyn input::SessionReader>,
) -> Result<()> {
    run.set_config(reader.config().clone());
    run.check_joinable(info)?;
    let mut placer = Placer {
        info,
        started: false,
        dropped: 0,
        before_cut: 0,
        raised: 0,
        packets: 0,
        first_dts_90k: None,
        last_dts_90k: 0,
        queue: Interleaver::new(run.config()),
    };
    if let Some(span) = reader.take_span() {
        placer.span(run, engine, &span)?;
    }
    let result = loop {
        let event = match reader.next_event() {
            Ok(Some(e)) => e,
            Ok(None) => break placer.drain(run, engine),
            Err(e) => {
                // What was read before the error is still written, in order.
                placer.drain(run, engine)?;
                break Err(anyhow::Error::new(e));
            }
        };
        match event {
            Event::Packet(packet) => {
                placer.packets += 1;
                if placer.packets.is_multiple_of(PROGRESS_EVERY) {
                    run.position(reader.position());
                }
                placer.queue.push(packet);
                while let Some(p) = placer.queue.pop() {
                    placer.place(run, engine, p)?;
                }
            }
            Event::Config(config) => placer.config(run, engine, config, reader.position())?,
            Event::NotRecorded(n) => run.not_recorded(&info.input, n)?,
            Event::Damage(d) => {
                let wall_ms = placer.wall_ms();
                run.damage(&info.input, wall_ms, d.to_string())?;
            }
        }
    };
    placer.finish(run, engine, reader.position())?;
    result
}

/// The session's packets on their way from the reader, through the decode-order queue, to the
/// rules and the open file's writers.
struct Placer<'i> {
    info: &'i SessionInfo,
    /// The session has begun in the rules (at its first packet placed).
    started: bool,
    dropped: u64,
    /// Packets timed before the codec change that closed the previous file.
    before_cut: u64,
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
    fn drain(&mut self, run: &mut StreamRun<'_, '_>, engine: &mut Engine) -> Result<()> {
        while let Some(p) = self.queue.drain() {
            self.place(run, engine, p)?;
        }
        Ok(())
    }

    /// The session begins in the rules and the report, at its first packet placed.
    fn start(&mut self, run: &mut StreamRun<'_, '_>, engine: &mut Engine, starts: TrackStarts) {
        if self.started {
            return;
        }
        // A session begins at its first media packet (an empty dump is no push).
        engine.begin_session_at(self.info.wall_start_ms, run.config(), starts);
        self.started = true;
        run.session_began(self.info);
    }

    /// Placeholder packets (no payload, nothing to write) placed at once, as the packets one by
    /// one would be: a span is one track's, so the decode-order queue would pass it unchanged.
    fn span(
        &mut self,
        run: &mut StreamRun<'_, '_>,
        engine: &mut Engine,
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
        run.apply(engine)
    }

    /// One packet through the rules into the open file.
    fn place(
        &mut self,
        run: &mut StreamRun<'_, '_>,
        engine: &mut Engine,
        mut packet: Packet,
    ) -> Result<()> {
        let starts = self.queue.starts();
        self.start(run, engine, starts);
        self.first_dts_90k.get_or_insert(packet.dts_90k);
        self.last_dts_90k = packet.dts_90k;
        let placement = engine.packet(packet.track, packet.dts_90k, packet.keyframe);
        run.apply(engine)?;
        match placement {
            Placement::Write {
                file_dts_90k,
                raised_90k,
                ..
            } => {
                self.raised += u64::from(raised_90k > 0);
                packet.dts_90k = file_dts_90k;
                run.write(&packet)?;
            }
            Placement::DropBeforeKeyframe => self.dropped += 1,
            Placement::DropBeforeCut => self.before_cut += 1,
        }
        Ok(())
    }

    /// A configuration change: the packets read before it are placed first, with the
    /// configuration they came with.
    fn config(
        &mut self,
        run: &mut StreamRun<'_, '_>,
        engine: &mut Engine,
        config: Arc<CodecConfig>,
        position: u64,
    ) -> Result<()> {
        self.drain(run, engine)?;
        let input = &self.info.input;
        let diff = run.config().differences(&config);
        if run.strict_config() && !diff.is_empty() {
            anyhow::bail!(
                "{input}: the codec configuration changes at byte {position} ({}); files with \
                 different configurations cannot be joined without re-encoding",
                diff.join(", ")
            );
        }
        if !diff.is_empty() {
            writeln!(
                run.log(),
                "warning: {input}: codec configuration changes at byte {position} ({})",
                diff.join(", ")
            )?;
        }
        self.queue.expect(&config);
        run.set_config(config);
        if self.started {
            engine.config_change(run.config());
            run.apply(engine)?;
        }
        Ok(())
    }

    /// The session's end: what was dropped or re-stamped is reported, and the rules hear of
    /// the end.
    fn finish(self, run: &mut StreamRun<'_, '_>, engine: &mut Engine, position: u64) -> Result<()> {
        let (info, wall_ms) = (self.info, self.wall_ms());
        if self.dropped > 0 {
            let d = Damage::Dropped {
                offset: position,
                what: format!(
                    "{} video packets before the first keyframe of a file",
                    self.dropped
                ),
            };
            run.damage(&info.input, wall_ms, d.to_string())?;
        }
        if self.before_cut > 0 {
            let d = Damage::Dropped {
                offset: position,
                what: format!(
                    "{} packets timed before the codec change that closed the previous file \
                     (a track that appeared late, stamped earlier than media already recorded)",
                    self.before_cut
                ),
            };
            run.damage(&info.input, wall_ms, d.to_string())?;
        }
        if self.raised > 0 {
            let what = format!(
                "{} packets came more than {} s out of decode order, before their file's first \
                 packet: their DTS was raised to the file's start",
                self.raised,
                MAX_SPAN_90K / 90_000
            );
            run.damage(&info.input, wall_ms, what)?;
        }
        if !self.started {
            writeln!(
                run.log(),
                "warning: {}: push #{} has no media packets; ignored",
                info.input,
                info.index
            )?;
            return Ok(());
        }
        let end = engine.end_session();
        run.session_ended(end, self.packets - self.dropped - self.before_cut);
        Ok(())
    }
}

//! One recording file while it is open: a writer per requested format, or in the index pass
//! the planners of its MP4 and FLV layout. Whether MP4 and FLV follow a plan or spool their
//! media is chosen here, once, from the stream's [`Plans`]; a format whose writer fails is
//! reported once and left out, and the other formats' files go on.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;

use super::index_pass::{self, FilePlans, Planners, Plans};
use super::{RecordOptions, Summary};
use crate::media::{CodecConfig, Packet, StreamKey};
use crate::mediainfo::FileStats;
use crate::mux::{FileClose, FileOpen, Format, Muxer, Produced, SessionStart};
use crate::rules::Reason;
use crate::sink::naming;

/// An open recording file: one muxer per format, and what the callbacks need.
pub(super) struct OpenFile {
    muxers: Vec<(Format, Box<dyn Muxer>)>,
    /// In the index pass, instead of muxers: the file's plans being learnt.
    planners: Option<Planners>,
    pub opened: Reason,
    pub config: Arc<CodecConfig>,
    pub stats: FileStats,
    pub vdoid: Option<String>,
    /// Formats whose writer failed to open or to write (reported then): not completed, so no
    /// second error follows.
    failed: Vec<Format>,
}

/// How a file opens: why, when, with which configuration, for which push.
pub(super) struct Opening<'a> {
    pub reason: Reason,
    pub wall_start_ms: i64,
    pub config: &'a Arc<CodecConfig>,
    pub vdoid: Option<String>,
    /// The input of the push being read.
    pub input: &'a str,
}

impl OpenFile {
    /// Opens the file's writers (or its planners, in the index pass). A format that cannot be
    /// written is reported and does not cost the others their files.
    pub fn open(
        key: &StreamKey,
        opts: &RecordOptions,
        plans: &Plans,
        opening: Opening<'_>,
        log: &mut dyn Write,
        summary: &mut Summary,
    ) -> Result<OpenFile> {
        let start_time_s = opening.wall_start_ms.div_euclid(1000);
        let (input, config) = (opening.input, opening.config);
        let mut file = OpenFile {
            muxers: Vec::new(),
            planners: None,
            opened: opening.reason,
            config: config.clone(),
            stats: FileStats::default(),
            vdoid: opening.vdoid,
            failed: Vec::new(),
        };
        let mut plans = match plans {
            Plans::Learn(_) => {
                file.planners = Some(Planners::new(&opts.formats, config, start_time_s, input));
                return Ok(file);
            }
            // The write pass's file takes its plans whether or not a writer opens.
            Plans::Follow(next) => Some(next.recv().unwrap_or_default()),
            Plans::Spool => None,
        };
        if opts.dry_run {
            return Ok(file);
        }
        let stream_name = naming::safe_component(&key.stream);
        for &format in &opts.formats {
            let dir = (opts.out_dir).join(naming::format_dir(&key.app, &key.stream, format));
            let open = FileOpen {
                dir: &dir,
                stream_name: &stream_name,
                start_time_s,
                config,
                options: &opts.mux,
            };
            let first = SessionStart {
                file_dts_90k: 0,
                wall_ms: opening.wall_start_ms,
                spliced: false,
            };
            let opened = index_pass::open_muxer(format, &open, plans.as_mut(), input)
                .and_then(|mut m| m.begin_session(&first).map(|()| m));
            match opened {
                Ok(m) => file.muxers.push((format, m)),
                Err(e) => {
                    let msg = format!("{input}: stream {}: no {format} file: {e:#}", key);
                    summary.fail(log, msg)?;
                    file.failed.push(format);
                }
            }
        }
        Ok(file)
    }

    /// A push session from `input` is spliced into the file.
    pub fn begin_session(&mut self, start: &SessionStart, input: &str) -> Result<()> {
        for (format, m) in &mut self.muxers {
            if !self.failed.contains(format) {
                m.begin_session(start)?;
            }
        }
        if let Some(p) = self.planners.as_mut() {
            p.begin_session(input);
        }
        Ok(())
    }

    /// One placed packet into the file's writers. A writer that fails is reported once and
    /// stops; the other formats' files go on.
    pub fn write(
        &mut self,
        packet: &Packet,
        log: &mut dyn Write,
        summary: &mut Summary,
    ) -> Result<()> {
        self.stats.add(packet);
        for (format, m) in &mut self.muxers {
            if self.failed.contains(format) {
                continue;
            }
            if let Err(e) = m.write(packet) {
                let e = e.context(format!("writing the {format} file"));
                summary.fail(log, format!("{e:#}"))?;
                self.failed.push(*format);
            }
        }
        if let Some(p) = self.planners.as_mut() {
            p.write(packet);
        }
        Ok(())
    }

    /// The push being read ended in an error: the writers note that its media stops short.
    pub fn push_ended_early(&mut self) {
        for (_, m) in &mut self.muxers {
            m.push_ended_early();
        }
    }

    /// The requested formats this file completes: those whose writer did not fail.
    pub fn formats(&self, requested: &[Format]) -> Vec<Format> {
        (requested.iter().copied())
            .filter(|f| !self.failed.contains(f))
            .collect()
    }

    /// In the index pass: the file's plans, handed to the write pass as it closes as
    /// `base_name`. `None` elsewhere.
    pub fn take_plans(&mut self, base_name: &str) -> Option<FilePlans> {
        self.planners.take().map(|p| p.finish(base_name))
    }

    /// Completes the file's writers side by side: finishing copies each format's spooled media
    /// into place and hashes it, work that the formats can share the cores for.
    pub fn finish(&mut self, close: &FileClose) -> Vec<(Format, Result<Produced>)> {
        let failed = &self.failed;
        let muxers: Vec<_> = (self.muxers.drain(..))
            .filter(|(f, _)| !failed.contains(f))
            .collect();
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
}

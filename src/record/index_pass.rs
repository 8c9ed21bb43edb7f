//! The index pass: a first reading of a stream's inputs, through the same readers and the same
//! rules, that learns the layout of every MP4 and FLV file the write pass will produce
//! ([`FilePlans`]), so the write pass puts MP4's `moov` and FLV's `onMetaData` first and
//! streams each packet straight into the final files, each MD5 done with the last packet (no
//! spool, no copy, no hashing after the input ends).
//!
//! Only where it pays and is possible: MP4 or FLV among the formats, not a dry run, and every
//! input of the stream readable twice (files; not stdin or an object streamed while it
//! downloads). Otherwise those writers spool and copy their media into place at the end. The
//! index pass runs on its own thread and hands each file's plans over when the file closes; a
//! rendezvous channel keeps it at most one file ahead, so at most two files' plans (sample
//! indexes and tag counts, never payloads) are held whatever the number of files. The write
//! pass checks every packet against its plans, so an input that changes between the passes
//! fails its MP4 and FLV files instead of producing wrong ones.
//!
//! A planner fails where its writer fails, with the same error, and then plans no more of its
//! file, while the pass goes on as the write pass goes on with the other formats: the two
//! passes meet the same packets and open the same files.

use std::borrow::Cow;
use std::sync::mpsc::{self, Receiver, SyncSender};

use anyhow::Result;

use super::RecordOptions;
use crate::input::PendingSession;
use crate::media::{CodecConfig, Packet};
use crate::mux::flv::{self, FlvMuxer, FlvPlan};
use crate::mux::mp4::{self, Mp4Muxer};
use crate::mux::{self, FileOpen, Format, Muxer};

#[cfg(test)]
mod tests;

/// The name of the index pass's thread.
pub(super) const THREAD: &str = "index-pass";

/// How a reading of a stream treats its MP4 and FLV files.
pub(super) enum Plans {
    /// No index pass: MP4 and FLV files spool their media.
    Spool,
    /// This is the index pass: MP4 and FLV files are planned, nothing is written, and each
    /// file's plans are handed over when it closes.
    Learn(SyncSender<FilePlans>),
    /// The write pass: each file takes the next plans, in the order the files open.
    Follow(Receiver<FilePlans>),
}

/// What the index pass learnt of one file, per planned format (`None`: its planner failed, or
/// the format is not written).
#[derive(Default)]
pub(super) struct FilePlans {
    mp4: Option<mp4::FilePlan>,
    flv: Option<FlvPlan>,
}

/// The planners of the file open in the index pass, one per planned format written.
pub(super) struct Planners {
    mp4: Option<mp4::Planner>,
    flv: Option<flv::Planner>,
}

impl Planners {
    /// The planners of a file opening at `start_time_s` with a push from `input`, one per
    /// format written with the configuration of the tracks it carries. A format whose writer
    /// will refuse the file gets no planner: its writer reports why.
    pub(crate) fn new(
        formats: &[(Format, &CodecConfig)],
        start_time_s: i64,
        input: &str,
    ) -> Planners {
        let mut planners = Planners {
            mp4: None,
            flv: None,
        };
        for &(format, config) in formats {
            match format {
                Format::Mp4 => planners.mp4 = mp4::Planner::new(config, start_time_s).ok(),
                Format::Flv => planners.flv = flv::Planner::new(config).ok(),
                Format::Hls => {}
            }
        }
        planners.begin_session(input);
        planners
    }

    /// A push session from `input` begins in the file.
    pub(crate) fn begin_session(&mut self, input: &str) {
        if let Some(p) = &mut self.mp4 {
            p.begin_session(input);
        }
        if let Some(p) = &mut self.flv {
            p.begin_session(input);
        }
    }

    /// Plans one packet, as each format's writer gets it (`packet`: `None` where the format
    /// leaves its track out); a planner that fails is dropped, as its writer fails at this
    /// packet.
    pub(crate) fn write<'p>(&mut self, packet: impl Fn(Format) -> Option<Cow<'p, Packet>>) {
        if let Some(p) = &mut self.mp4
            && let Some(packet) = packet(Format::Mp4)
            && p.write(&packet).is_err()
        {
            self.mp4 = None;
        }
        if let Some(p) = &mut self.flv
            && let Some(packet) = packet(Format::Flv)
            && p.write(&packet).is_err()
        {
            self.flv = None;
        }
    }

    /// The file's plans, once it closes as `base_name`.
    pub(crate) fn finish(self, base_name: &str) -> FilePlans {
        FilePlans {
            mp4: self.mp4.map(|p| p.finish(base_name)),
            flv: self.flv.and_then(|p| p.finish().ok()),
        }
    }
}

/// Opens the writer of `format` for a file: in a write pass, following the file's plan
/// (`plans`) where the format has one; otherwise spooling.
pub(super) fn open_muxer(
    format: Format,
    file: &FileOpen<'_>,
    plans: Option<&mut FilePlans>,
    input: &str,
) -> Result<Box<dyn Muxer>> {
    let Some(plans) = plans else {
        return mux::open(format, file);
    };
    Ok(match format {
        Format::Mp4 => Box::new(Mp4Muxer::follow(file, plans.mp4.take(), input)?),
        Format::Flv => Box::new(FlvMuxer::follow(file, plans.flv.take(), input)?),
        Format::Hls => mux::open(format, file)?,
    })
}

/// Whether a stream's MP4 and FLV files are planned by an index pass.
pub(super) fn wanted(opts: &RecordOptions, sessions: &[PendingSession]) -> bool {
    let planned = |f: &Format| match f {
        Format::Mp4 | Format::Flv => true,
        Format::Hls => false,
    };
    opts.index_pass
        && !opts.dry_run
        && opts.formats.iter().any(planned)
        && sessions.iter().all(PendingSession::can_reread)
}

/// Runs `write_pass` with the plans of an index pass (`learn`, the same pipeline given
/// [`Plans::Learn`]) running beside it on a thread of its own.
pub(super) fn beside<T>(
    learn: impl FnOnce(Plans) + Send,
    write_pass: impl FnOnce(Plans) -> T,
) -> T {
    let (plans, follow) = mpsc::sync_channel(0);
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name(THREAD.into())
            .spawn_scoped(scope, move || learn(Plans::Learn(plans)));
        match spawned {
            // The receiver goes with the write pass, so an index pass still waiting to hand a
            // plan over is released when the write pass ends.
            Ok(_) => write_pass(Plans::Follow(follow)),
            // No thread to spare (a process limit): the files spool their media instead.
            Err(_) => write_pass(Plans::Spool),
        }
    })
}

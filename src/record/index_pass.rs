//! The index pass: a first reading of a stream's inputs, through the same readers and the same
//! rules, that learns the layout of every MP4 file the write pass will produce ([`FilePlan`]),
//! so the write pass puts `moov` first and streams each packet straight into the final file,
//! its MD5 done with the last packet (no spool, no copy, no hashing after the input ends).
//!
//! Only where it pays and is possible: MP4 among the formats, FLV not, not a dry run, and every
//! input of the stream readable twice (files; not stdin or an object streamed while it
//! downloads). Otherwise the MP4 writer spools. With FLV written too, the run ends with the FLV
//! file's copy and MD5 anyway (its `onMetaData` needs the whole input), and a spooled MP4's copy
//! and MD5 run beside it on the other core; hashing the MP4 during the pass instead lengthens
//! the pass by that MD5 and leaves the FLV's alone at the end: less work, but two MD5s one after
//! the other, which measured slower on two cores (the hour with `hls,mp4,flv`: 4.8 s against
//! 3.6 s spooled). The index pass runs on its own thread and hands each plan over
//! when its file closes; a rendezvous channel keeps it at most one file ahead, so at most two
//! plans (sample indexes, never payloads) are held whatever the number of files. The write
//! pass checks every packet against its plan, so an input that changes between the passes
//! fails its MP4 file instead of producing a wrong one.

use std::io;
use std::sync::mpsc::{self, Receiver, SyncSender};

use super::{NoProgress, Outputs, RecordOptions, Summary, stream_pass};
use crate::input::PendingSession;
use crate::media::StreamKey;
use crate::mux::Format;
use crate::mux::mp4::FilePlan;

#[cfg(test)]
mod tests;

/// How a reading of a stream treats its MP4 files.
pub(super) enum Mp4Plans {
    /// No index pass: MP4 files spool their media.
    Spool,
    /// This is the index pass: MP4 files are planned, nothing is written, and each plan is
    /// handed over when its file closes.
    Learn(SyncSender<FilePlan>),
    /// The write pass: each MP4 file takes the next plan, in the order the files open.
    Follow(Receiver<FilePlan>),
}

/// Whether a stream's MP4 files are planned by an index pass (see the module doc for why not
/// beside FLV).
pub(super) fn wanted(opts: &RecordOptions, sessions: &[PendingSession]) -> bool {
    opts.mp4_index_pass
        && !opts.dry_run
        && opts.formats.contains(&Format::Mp4)
        && !opts.formats.contains(&Format::Flv)
        && sessions.iter().all(PendingSession::can_reread)
}

/// Runs `write_pass` with the plans of an index pass over `sessions` running beside it.
pub(super) fn beside<T>(
    key: &StreamKey,
    sessions: &[PendingSession],
    opts: &RecordOptions,
    write_pass: impl FnOnce(Mp4Plans) -> T,
) -> T {
    let (plans, follow) = mpsc::sync_channel(0);
    std::thread::scope(|scope| {
        let learn = move || learn(key, sessions, opts, plans);
        let spawned = std::thread::Builder::new()
            .name("mp4-index".into())
            .spawn_scoped(scope, learn);
        match spawned {
            // The receiver goes with the write pass, so an index pass still waiting to hand a
            // plan over is released when the write pass ends.
            Ok(_) => write_pass(Mp4Plans::Follow(follow)),
            // No thread to spare (a process limit): the MP4 files spool their media instead.
            Err(_) => write_pass(Mp4Plans::Spool),
        }
    })
}

/// The index pass proper: the write pass's pipeline with nothing written and nothing said.
fn learn(
    key: &StreamKey,
    sessions: &[PendingSession],
    opts: &RecordOptions,
    plans: SyncSender<FilePlan>,
) {
    let (mut out, mut log) = (io::sink(), io::sink());
    let mut io = Outputs {
        out: &mut out,
        log: &mut log,
        progress: &NoProgress,
        delivery: None,
    };
    // Damage and errors are the write pass's to report: it meets each at the same packet.
    let mut summary = Summary::default();
    let _ = stream_pass(
        key,
        sessions,
        opts,
        &mut io,
        &mut summary,
        Mp4Plans::Learn(plans),
    );
}

//! The write pass of a planned MP4 file: the index pass's [`super::FilePlan`] gave the sample
//! tables, and `moov` is written from them before the first packet. Each packet is then checked
//! against the sample the plan put at that place (track, size, DTS, composition offset,
//! keyframe flag and offset in `mdat`), so the file holds exactly the bytes its `moov`
//! describes, or the file fails.

use std::fmt;

use anyhow::Result;

use super::index::{Run, TrackIndex, admit};
use super::layout::{Layout, index_error, missing_track, sample_size};
use crate::media::{Packet, Track, TrackKind};

/// Where the write pass differs from the plan.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Deviation {
    /// A packet past the last sample the plan has for its track.
    Extra { track: Track, planned: u32 },
    /// Sample `sample` (1-based) of `track` has `got` where the plan has `planned`.
    Differs {
        track: Track,
        sample: u32,
        field: &'static str,
        planned: i64,
        got: i64,
    },
    /// The file ended before every planned sample of `track` arrived.
    Missing {
        track: Track,
        planned: u32,
        got: u32,
    },
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Deviation::Extra { track, planned } => write!(
                f,
                "{track} sample {} is beyond the {planned} the index pass read",
                u64::from(*planned) + 1
            ),
            Deviation::Differs {
                track,
                sample,
                field,
                planned,
                got,
            } => write!(
                f,
                "{track} sample {sample} has {field} {got} where the index pass read {planned}"
            ),
            Deviation::Missing {
                track,
                planned,
                got,
            } => write!(
                f,
                "the write pass ended after {got} of the {planned} {track} samples the index \
                 pass read"
            ),
        }
    }
}

/// How far the write pass has come through the plan: per track, the next sample and its place.
#[derive(Debug, Default)]
pub(crate) struct Follower {
    /// One per video track, as far as packets have come.
    video: Vec<TrackCursor>,
    /// One per audio track, as far as packets have come.
    audio: Vec<TrackCursor>,
    /// `mdat` payload bytes written so far.
    payload_len: u64,
}

/// A walk through one track's sample tables, one sample at a time.
#[derive(Debug, Default)]
struct TrackCursor {
    /// Samples consumed.
    n: u32,
    last_dts_90k: i64,
    deltas: RunCursor,
    offsets: RunCursor,
    /// Index into `sync` of the next keyframe.
    next_sync: usize,
    /// Chunks begun, and samples left in the current one.
    chunks: usize,
    chunk_left: u32,
    /// Index into `chunk_runs` of the run the current chunk belongs to.
    chunk_run: usize,
    /// Payload offset where the track's next sample lands inside the current chunk.
    next_offset: u64,
}

/// A position in a run-length table (`stts`/`ctts` runs).
#[derive(Debug, Default)]
struct RunCursor {
    run: usize,
    used: u32,
}

impl RunCursor {
    fn peek<T: Copy>(&self, runs: &[Run<T>]) -> Option<T> {
        runs.get(self.run).map(|r| r.value)
    }

    fn advance<T>(&mut self, runs: &[Run<T>]) {
        self.used += 1;
        if runs.get(self.run).is_none_or(|r| self.used >= r.count) {
            self.run += 1;
            self.used = 0;
        }
    }
}

impl Follower {
    /// Checks `packet` against the plan's next sample of its track. A packet the spooling
    /// writer would refuse is refused with the same error (`Err`); one it would accept but the
    /// plan does not have is a [`Deviation`] (`Ok(Err(..))`).
    /// The plan has the tracks the file's configuration has.
    pub(crate) fn check(
        &mut self,
        plan: &Layout,
        packet: &Packet,
    ) -> Result<Result<(), Deviation>> {
        let Some(index) = plan.track(packet.track) else {
            return Err(missing_track(packet.track));
        };
        let size = sample_size(packet)?;
        let cursors = match packet.track.kind {
            TrackKind::Video => &mut self.video,
            TrackKind::Audio => &mut self.audio,
        };
        let i = usize::from(packet.track.index);
        if cursors.len() <= i {
            cursors.resize_with(i + 1, TrackCursor::default);
        }
        let cursor = &mut cursors[i];
        admit(cursor.n, cursor.last_dts_90k, packet.dts_90k)
            .map_err(|e| index_error(packet.track, cursor.n, e))?;
        let checked = cursor.step(index, packet, size, self.payload_len);
        if checked.is_ok() {
            self.payload_len += u64::from(size);
        }
        Ok(checked)
    }

    /// Whether every planned sample arrived.
    pub(crate) fn finish(&self, plan: &Layout) -> Result<(), Deviation> {
        for (track, index) in plan.indexes() {
            let planned = index.count();
            let cursors = match track.kind {
                TrackKind::Video => &self.video,
                TrackKind::Audio => &self.audio,
            };
            let got = cursors.get(usize::from(track.index)).map_or(0, |c| c.n);
            if got != planned {
                return Err(Deviation::Missing {
                    track,
                    planned,
                    got,
                });
            }
        }
        Ok(())
    }
}

impl TrackCursor {
    /// Consumes the plan's next sample of this track if `packet`, landing at payload offset
    /// `at`, is that sample.
    fn step(
        &mut self,
        ix: &TrackIndex,
        packet: &Packet,
        size: u32,
        at: u64,
    ) -> Result<(), Deviation> {
        let (track, n) = (packet.track, self.n);
        let Some(&planned_size) = ix.sizes.get(n as usize) else {
            return Err(Deviation::Extra {
                track,
                planned: ix.count(),
            });
        };
        let planned_dts = match n {
            0 => ix.first_dts_90k(),
            _ => self.last_dts_90k + i64::from(self.deltas.peek(&ix.deltas_90k).unwrap_or(0)),
        };
        let planned_cts = self.offsets.peek(&ix.offsets_90k).unwrap_or(0);
        let planned_key = ix.sync.get(self.next_sync) == Some(&(n + 1));
        let opens_chunk = self.chunk_left == 0;
        let planned_at = match opens_chunk {
            true => ix.chunk_offsets.get(self.chunks).copied(),
            false => Some(self.next_offset),
        };
        let checks = [
            ("size", i64::from(planned_size), i64::from(size)),
            ("dts_90k", planned_dts, packet.dts_90k),
            ("cts_90k", planned_cts.into(), packet.cts_90k.into()),
            ("keyframe", planned_key.into(), packet.keyframe.into()),
            // Differs when another track's packet came between, or one is missing.
            ("mdat offset", planned_at.map_or(-1, clamp), clamp(at)),
        ];
        if let Some(&(field, planned, got)) = checks.iter().find(|c| c.1 != c.2) {
            return Err(Deviation::Differs {
                track,
                sample: n + 1,
                field,
                planned,
                got,
            });
        }
        if n > 0 {
            self.deltas.advance(&ix.deltas_90k);
        }
        self.offsets.advance(&ix.offsets_90k);
        if opens_chunk {
            self.chunks += 1;
            self.chunk_left = self.samples_in_chunk(ix);
        }
        self.chunk_left = self.chunk_left.saturating_sub(1);
        self.next_offset = at + u64::from(size);
        self.next_sync += usize::from(planned_key);
        self.last_dts_90k = planned_dts;
        self.n += 1;
        Ok(())
    }

    /// Samples in chunk number `chunks` (1-based), from the `stsc` runs.
    fn samples_in_chunk(&mut self, ix: &TrackIndex) -> u32 {
        let chunk = u32::try_from(self.chunks).unwrap_or(u32::MAX);
        while ix
            .chunk_runs
            .get(self.chunk_run + 1)
            .is_some_and(|&(first, _)| first <= chunk)
        {
            self.chunk_run += 1;
        }
        ix.chunk_runs.get(self.chunk_run).map_or(0, |r| r.1)
    }
}

/// A file offset as a field value in a [`Deviation`].
fn clamp(offset: u64) -> i64 {
    i64::try_from(offset).unwrap_or(i64::MAX)
}

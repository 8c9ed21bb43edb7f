//! Where an FLV file's tags go, by how the file learns its `onMetaData` (README "Outputs" "FLV"):
//! counted only (the index pass, which hands the write pass a [`FlvPlan`]), spooled (the file
//! learns it at the end), or written straight into the final file behind a script tag made from
//! the plan.
//!
//! `onMetaData` (FLV v10.1 Annex E.5) is a function of the configuration, each track's packet
//! counts, payload bytes and timestamps, the keyframe index and the length of the tags after
//! it, since every tag takes 11 + DataSize + 4 bytes. The index pass runs the same writer with
//! [`Body::Counted`], so the plan holds exactly what the spooling writer would have learnt; the
//! write pass compares what it wrote with the plan before committing, so an input that changed
//! between the passes fails its FLV file instead of producing a wrong `onMetaData`.

use anyhow::{Result, anyhow};

use super::meta::{IndexEntry, TrackStats};
use super::tag;
use crate::media::CodecConfig;
use crate::mux::{CHANGED, Format};
use crate::sink::local::{OutFile, Spool};

/// What the index pass learnt of one FLV file: everything its script tag says.
#[derive(Debug)]
pub(crate) struct FlvPlan {
    pub(super) config: CodecConfig,
    pub(super) tracks: Tracks,
    /// Bytes of the tags after the script tag, the end-of-sequence tag included.
    pub(super) body_len: u64,
    /// The input of each push session in the file, in order.
    pub(super) inputs: Vec<String>,
}

/// What the writer learns of a file's tags as it writes them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Tracks {
    /// The first video track, which `onMetaData` describes.
    pub(crate) video: TrackStats,
    /// Every video track after the first, together: they count for the file's duration.
    pub(crate) other_video: TrackStats,
    /// The first audio track, which `onMetaData` describes.
    pub(crate) audio: TrackStats,
    /// Every audio track after the first, together: they count for the file's duration.
    pub(crate) other_audio: TrackStats,
    pub(crate) index: Vec<IndexEntry>,
}

/// Where the tags after the script tag go.
pub(super) enum Body {
    /// The index pass: nothing is written, the length is counted.
    Counted(u64),
    /// Into a spool, copied behind the header and the script tag at the end.
    Spooled(Spool),
    /// Straight into the final file, behind the header and script tag made from the plan.
    Planned(Box<Planned>),
    /// The file cannot be completed: `finish` reports why.
    Failed(anyhow::Error),
}

/// A file being written in place from its plan.
pub(super) struct Planned {
    pub(crate) plan: FlvPlan,
    pub(crate) out: OutFile,
    /// Where the tags after the script tag begin in the file.
    pub(crate) body_start: u64,
    /// Push sessions begun so far.
    pub(crate) sessions: usize,
    /// The input of a push that stopped early on an error in the write pass.
    pub(crate) ended_early: Option<String>,
}

impl Body {
    /// Bytes of tags so far: where the next tag lands, relative to the body's start.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Body::Counted(n) => *n,
            Body::Spooled(s) => s.len(),
            Body::Planned(p) => p.out.len() - p.body_start,
            Body::Failed(_) => 0,
        }
    }

    /// Appends one tag (see [`tag::write_tag`]).
    pub(crate) fn tag(
        &mut self,
        tag_type: u8,
        ts_ms: u32,
        prefix: &[u8],
        data: &[u8],
    ) -> Result<()> {
        match self {
            Body::Counted(n) => *n += tag::tag_len(prefix.len() + data.len()),
            Body::Spooled(s) => {
                tag::write_tag(s, tag_type, ts_ms, prefix, data)?;
            }
            Body::Planned(p) => {
                tag::write_tag(&mut p.out, tag_type, ts_ms, prefix, data)?;
            }
            Body::Failed(_) => {}
        }
        Ok(())
    }
}

impl Planned {
    /// The input of the push being written.
    fn input(&self) -> &str {
        crate::mux::push_input(&self.plan.inputs, self.sessions)
    }

    /// A push session begins; one more than planned fails the file.
    pub(crate) fn begin_session(&mut self) -> Result<(), anyhow::Error> {
        self.sessions += 1;
        if self.sessions > self.plan.inputs.len() {
            let last = self.plan.inputs.last().map_or("?", String::as_str);
            return Err(anyhow!(
                "the inputs {CHANGED}: a push after {last} joins an FLV file the index pass \
                 planned without it"
            ));
        }
        Ok(())
    }

    /// Whether the tags written are the planned ones, so the script tag written first is right.
    pub(crate) fn check(&self, tracks: &Tracks, base_name: &str) -> Result<()> {
        let plan = &self.plan;
        let differs = [
            ("tag bytes", plan.body_len, self.out.len() - self.body_start),
            (
                "video packets",
                plan.tracks.video.packets,
                tracks.video.packets,
            ),
            (
                "audio packets",
                plan.tracks.audio.packets,
                tracks.audio.packets,
            ),
            (
                "packets of other audio tracks",
                plan.tracks.other_audio.packets,
                tracks.other_audio.packets,
            ),
            (
                "index entries",
                plan.tracks.index.len() as u64,
                tracks.index.len() as u64,
            ),
        ]
        .into_iter()
        .find(|(_, planned, got)| planned != got);
        let what = match differs {
            Some((field, planned, got)) => {
                format!("{got} {field} where the index pass read {planned}")
            }
            None if plan.tracks != *tracks => {
                "timestamps or sizes differ from the ones the index pass read".to_string()
            }
            None => return Ok(()),
        };
        let file = format!("{base_name}.{}", Format::Flv.extension());
        Err(match &self.ended_early {
            Some(input) => anyhow!(
                "a push from {input} stopped early on an error (reported above), so the write \
                 pass no longer follows the index pass ({what}); {file} is not written"
            ),
            None => anyhow!("{} {CHANGED}: {what}; {file} is not written", self.input()),
        })
    }

    pub(crate) fn push_ended_early(&mut self) {
        if self.ended_early.is_none() {
            self.ended_early = Some(self.input().to_string());
        }
    }
}

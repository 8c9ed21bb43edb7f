//! How FFmpeg times the streams of an MPEG-TS file (`estimate_timings_from_pts`,
//! `update_stream_timings`), for `inspect --json`'s stream and format durations.

use super::{Container, ContainerFacts, Inspection};
use crate::input::ts::psi::EsKind;
use crate::media::{Track, TrackKind, rescale};
use crate::mediainfo::{self, StreamInfo};

/// Each stream's presentation span in an MPEG-TS file (90 kHz), as FFmpeg's
/// `estimate_timings_from_pts` finds it: from the stream's earliest PTS to its latest PTS plus
/// one packet's duration — for video 1 / `r_frame_rate`, for audio one frame (1024 AAC or
/// 1152/576 MP3 samples at the stream's rate), each rounded down to whole ticks; without them,
/// the DTS step before the packet.
#[derive(Clone, Debug, Default)]
pub(super) struct TsSpans {
    /// By video track index.
    video: Vec<Option<(i64, i64)>>,
    /// By audio track index.
    audio: Vec<Option<(i64, i64)>>,
}

impl TsSpans {
    pub(super) fn of(&self, track: Track) -> Option<(i64, i64)> {
        let spans = match track.kind {
            TrackKind::Video => &self.video,
            TrackKind::Audio => &self.audio,
        };
        spans.get(usize::from(track.index)).copied().flatten()
    }

    /// `update_stream_timings`: the latest stream end minus the earliest stream start, each
    /// start and duration rescaled to µs on its own (rounded).
    pub(super) fn format_duration_us(&self) -> i64 {
        let spans: Vec<(i64, i64)> = self
            .video
            .iter()
            .chain(&self.audio)
            .flatten()
            .copied()
            .collect();
        let start = spans.iter().map(|&(s, _)| ticks_to_us(s)).min();
        let end = spans
            .iter()
            .map(|&(s, e)| ticks_to_us(s).saturating_add(ticks_to_us(e.saturating_sub(s))))
            .max();
        match (start, end) {
            (Some(s), Some(e)) => e.saturating_sub(s).max(0),
            _ => 0,
        }
    }
}

/// The spans of the first session with media, for MPEG-TS inputs; `streams` give each video
/// track's frame rate.
pub(super) fn ts_spans(ins: &Inspection, streams: &[StreamInfo]) -> TsSpans {
    let Some(scan) = ins.sessions.iter().find_map(|s| s.scan.as_ref()) else {
        return TsSpans::default();
    };
    if ins.container != Container::MpegTs {
        return TsSpans::default();
    }
    let span = |t: &mediainfo::TrackStats, frame_90k: Option<i64>| {
        t.first_dts_90k?;
        let end = match frame_90k {
            Some(f) => t.max_pts_90k.saturating_add(f),
            None => t.presentation_end_90k(),
        };
        Some((t.min_pts_90k, end))
    };
    let frame_90k = |track: Track| {
        let rate = streams
            .iter()
            .find(|s| s.track == track)?
            .r_frame_rate
            .as_deref()?;
        let (n, d) = rate.split_once('/')?;
        let (n, d) = (n.parse::<i64>().ok()?, d.parse::<i64>().ok()?);
        (n > 0 && d > 0).then(|| d.saturating_mul(90_000) / n)
    };
    // FFmpeg times the audio end by the last PES, which may hold several frames: its PTS
    // (the PES's first frame) plus one frame. The PIDs that carry a PES are the audio tracks,
    // in order (as `ts_streams` matches them).
    let audio_pes: Vec<Option<i64>> = match &ins.facts {
        ContainerFacts::MpegTs(pmt) => (pmt.iter())
            .filter(|s| matches!(s.kind, EsKind::Audio(_)) && s.units > 0)
            .map(|s| {
                s.first_pts_90k
                    .map(|_| s.max_pts_after_first_90k.unwrap_or(0))
            })
            .collect(),
        ContainerFacts::Flv { .. }
        | ContainerFacts::Mp4(_)
        | ContainerFacts::Hls { .. }
        | ContainerFacts::Rtmp(_)
        | ContainerFacts::Capture(_)
        | ContainerFacts::None => Vec::new(),
    };
    let audio = (scan.config.audio_tracks())
        .map(|(track, _)| {
            let i = usize::from(track.index);
            let frame_90k = scan.audio_parse.get(i).and_then(|p| p.frame_90k);
            let pes = audio_pes.get(i).copied().flatten();
            match (span(scan.stats.track(track)?, frame_90k), pes) {
                (Some((start, _)), Some(after)) => Some((
                    start,
                    start
                        .saturating_add(after)
                        .saturating_add(frame_90k.unwrap_or(0)),
                )),
                (s, _) => s,
            }
        })
        .collect();
    let video = (scan.config.video_tracks())
        .map(|(track, _)| {
            let stats = scan.stats.track(track)?;
            span(stats, frame_90k(track))
        })
        .collect();
    TsSpans { video, audio }
}

/// 90 kHz ticks to µs, rounded to nearest with halves away from zero (`av_rescale_q`).
pub(super) fn ticks_to_us(t_90k: i64) -> i64 {
    let us = i64::try_from(rescale(t_90k.unsigned_abs(), 100, 9)).unwrap_or(i64::MAX);
    if t_90k < 0 { -us } else { us }
}

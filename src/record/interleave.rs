//! A session's packets handed to the rules in decode order across its tracks.
//!
//! Inputs deliver packets in file order (the MP4 reader alone merges its tracks by DTS), and file
//! order is not decode order across tracks: an MPEG-TS muxer writes audio PES packets up to
//! ~0.7 s behind or ahead of the video of the same time (ffmpeg's `-muxdelay`, Apple's
//! segmenter), and an FLV or RTMP encoder may send its audio ahead of its video. The
//! rules cut a file at a video keyframe, and a packet whose DTS lies before the keyframe's but
//! arrives after it would land before the new file's first packet. So packets are queued per
//! track and released in DTS order (ties: in file order), the way ffmpeg's muxers interleave
//! before a segmenter sees them: at a cut, everything decoded before the keyframe stays in the
//! closing file, and the new file's first packet is its earliest.
//!
//! A packet is released once every track the configuration announces has one queued (then the
//! earliest queued is the earliest still to come, since each track's DTS never decreases), or
//! when the queue spans more than [`MAX_SPAN_90K`] (a track that stopped, or one announced and
//! never sent), so memory stays bounded.

use std::collections::VecDeque;

use crate::media::{CodecConfig, Packet, Track, TrackKind};
use crate::rules::TrackStarts;

/// The most decode time held back waiting for a silent track: ffmpeg's `max_interleave_delta`.
pub(super) const MAX_SPAN_90K: i64 = 10 * 90_000;

/// One track's queue.
#[derive(Debug)]
struct TrackQueue {
    track: Track,
    /// (file order, packet).
    queue: VecDeque<(u64, Packet)>,
    /// The configuration announces the track: a release waits for it to have a packet queued.
    expected: bool,
    first_dts_90k: Option<i64>,
}

/// Per-track queues of a session's packets, released in decode order.
#[derive(Debug, Default)]
pub(super) struct Interleaver {
    /// Every track seen or announced, in the order they came.
    tracks: Vec<TrackQueue>,
    /// File order of the next packet, for ties.
    seq: u64,
    /// Latest DTS queued, for the span.
    newest_dts_90k: Option<i64>,
}

impl Interleaver {
    pub(super) fn new(config: &CodecConfig) -> Interleaver {
        let mut q = Interleaver::default();
        q.expect(config);
        q
    }

    /// The tracks to wait for (the configuration changed; call with the queues drained).
    pub(super) fn expect(&mut self, config: &CodecConfig) {
        for t in &mut self.tracks {
            t.expected = config.has_track(t.track);
        }
        for track in config.tracks() {
            self.queue(track).expected = true;
        }
    }

    fn queue(&mut self, track: Track) -> &mut TrackQueue {
        let at = match self.tracks.iter().position(|t| t.track == track) {
            Some(at) => at,
            None => {
                self.tracks.push(TrackQueue {
                    track,
                    queue: VecDeque::new(),
                    expected: false,
                    first_dts_90k: None,
                });
                self.tracks.len() - 1
            }
        };
        &mut self.tracks[at]
    }

    pub(super) fn push(&mut self, packet: Packet) {
        self.newest_dts_90k = Some(
            self.newest_dts_90k
                .map_or(packet.dts_90k, |n| n.max(packet.dts_90k)),
        );
        let seq = self.seq;
        self.seq += 1;
        let q = self.queue(packet.track);
        q.first_dts_90k.get_or_insert(packet.dts_90k);
        q.queue.push_back((seq, packet));
    }

    /// The first DTS of the video track and the earliest of the audio tracks pushed so far.
    pub(super) fn starts(&self) -> TrackStarts {
        let first = |kind| {
            self.tracks
                .iter()
                .filter(|t| t.track.kind == kind)
                .filter_map(|t| t.first_dts_90k)
                .min()
        };
        TrackStarts {
            video_90k: first(TrackKind::Video),
            audio_90k: first(TrackKind::Audio),
        }
    }

    /// The next packet in decode order, once no packet still to come can precede it.
    pub(super) fn pop(&mut self) -> Option<Packet> {
        let waiting = self.tracks.iter().any(|t| t.expected && t.queue.is_empty());
        if waiting {
            let oldest = self.earliest()?.0;
            let span = self.newest_dts_90k.unwrap_or(oldest) - oldest;
            if span <= MAX_SPAN_90K {
                return None;
            }
        }
        self.pop_earliest()
    }

    /// The next packet in decode order, without waiting (the session or the configuration
    /// ended).
    pub(super) fn drain(&mut self) -> Option<Packet> {
        self.pop_earliest()
    }

    /// The (DTS, file order) of the earliest queued packet, and its queue.
    fn earliest(&self) -> Option<(i64, u64, usize)> {
        self.tracks
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.queue.front().map(|(seq, p)| (p.dts_90k, *seq, i)))
            .min()
    }

    fn pop_earliest(&mut self) -> Option<Packet> {
        let (_, _, i) = self.earliest()?;
        self.tracks[i].queue.pop_front().map(|(_, p)| p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::fixtures::{self, h264_aac as av};

    fn packet(kind: TrackKind, dts_ms: i64) -> Packet {
        fixtures::packet(kind, dts_ms, true, &[])
    }

    fn order(q: &mut Interleaver, input: &[(TrackKind, i64)]) -> Vec<(TrackKind, i64)> {
        let mut out = Vec::new();
        for &(t, ms) in input {
            q.push(packet(t, ms));
            while let Some(p) = q.pop() {
                out.push((p.track.kind, p.dts_90k / 90));
            }
        }
        while let Some(p) = q.drain() {
            out.push((p.track.kind, p.dts_90k / 90));
        }
        out
    }

    #[test]
    fn audio_behind_video_in_file_order_comes_out_in_decode_order() {
        use TrackKind::{Audio as A, Video as V};
        let mut q = Interleaver::new(&av());
        let got = order(
            &mut q,
            &[
                (V, 0),
                (V, 40),
                (V, 80),
                (A, 0),
                (A, 23),
                (V, 120),
                (A, 46),
                (A, 69),
                (A, 92),
            ],
        );
        let want = [
            (V, 0),
            (A, 0),
            (A, 23),
            (V, 40),
            (A, 46),
            (A, 69),
            (V, 80),
            (A, 92),
            (V, 120),
        ];
        assert_eq!(got, want);
        assert_eq!(
            q.starts(),
            TrackStarts {
                video_90k: Some(0),
                audio_90k: Some(0)
            }
        );
    }

    #[test]
    fn a_silent_track_holds_back_at_most_the_span() {
        let mut q = Interleaver::new(&av());
        for ms in (0..=10_000).step_by(40) {
            q.push(packet(TrackKind::Video, ms));
            assert!(q.pop().is_none(), "{ms}");
        }
        q.push(packet(TrackKind::Video, 10_040));
        assert_eq!(q.pop().map(|p| p.dts_90k), Some(0));
        // Without an announced audio track, nothing waits.
        let mut q = Interleaver::new(&CodecConfig {
            audio: None,
            ..av()
        });
        q.push(packet(TrackKind::Video, 0));
        assert_eq!(q.pop().map(|p| p.dts_90k), Some(0));
    }
}

//! Timestamp repair for every input kind (README "Inputs"): each track's DTS stays
//! non-decreasing and continuous. [`Repair`] is the one algorithm, in any clock unit; FLV and
//! RTMP inputs use it through [`Timeline`] (32-bit milliseconds, unwrapped across their
//! rollover), MPEG-TS inputs in 90 kHz after their 33-bit unwrap (`input/ts/demux.rs`).
//!
//! Unwrapping follows serial-number arithmetic (RFC 1982 with SERIAL_BITS = 32): each timestamp
//! is read as the previous one plus the signed 32-bit difference, so a push crossing 2^32 ms
//! (about 49.7 days) continues, and RTMP's extended timestamps need no special case here.
//!
//! A discontinuity is a DTS that goes backwards on its own track, or forwards by more than
//! [`MAX_FORWARD_JUMP_MS`] past everything seen so far (the default of ffmpeg's
//! `-dts_delta_threshold`). Tracks are compared each with itself going backwards because audio
//! and video interleave with some skew, and with the session going forwards so that a track that
//! pauses (video muted for a minute while audio runs) is not taken for a jump. The repair is one
//! session-wide offset, changed at each discontinuity and applied to every later timestamp of
//! every track, which keeps audio and video in sync when an encoder restarts its clock; the
//! repaired packet continues after everything seen, at its track's last frame interval.

use crate::media::{Damage, Track, ms_to_90k};

/// A forward jump larger than this (past the latest DTS of the session) is a discontinuity.
pub(crate) const MAX_FORWARD_JUMP_MS: i64 = 10_000;

/// A frame interval longer than this is not copied into a repair (it was a pause, not a rate).
const MAX_STEP_MS: i64 = 1_000;

#[derive(Clone, Copy, Debug, Default)]
struct TrackState {
    /// Repaired DTS of the track's last packet.
    last_dts: Option<i64>,
    /// Its last positive DTS interval, the step a repair continues with.
    step: Option<i64>,
}

/// Repairs the unwrapped timestamps of one session, in arrival order, in a clock of
/// `units_per_second` (1000 for milliseconds, 90 000 for MPEG-TS).
#[derive(Clone, Debug)]
pub(crate) struct Repair {
    units_per_second: i64,
    /// Added to timestamps; changed at each discontinuity.
    offset: i64,
    /// The largest repaired DTS of the session.
    max_dts: Option<i64>,
    /// Every track's state, in the order the tracks first appeared (a handful at most).
    tracks: Vec<(Track, TrackState)>,
}

/// A discontinuity, in the clock's unit: the track's DTS before it, and the DTS it jumped to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Jump {
    pub(crate) from: i64,
    pub(crate) to: i64,
}

impl Repair {
    pub(crate) fn new(units_per_second: i64) -> Repair {
        Repair {
            units_per_second,
            offset: 0,
            max_dts: None,
            tracks: Vec::new(),
        }
    }

    /// The repaired DTS of a packet of `track` whose unwrapped DTS is `dts`, and the jump it
    /// revealed if any. Saturates rather than overflows on absurd values.
    pub(crate) fn repair(&mut self, track: Track, dts: i64) -> (i64, Option<Jump>) {
        let unit = self.units_per_second / 1000;
        let seen = dts.saturating_add(self.offset);
        let max_dts = self.max_dts;
        let at = match self.tracks.iter().position(|(t, _)| *t == track) {
            Some(at) => at,
            None => {
                self.tracks.push((track, TrackState::default()));
                self.tracks.len() - 1
            }
        };
        let state = &mut self.tracks[at].1;
        let backwards = state.last_dts.is_some_and(|last| seen < last);
        let forwards =
            max_dts.is_some_and(|max| seen.saturating_sub(max) > MAX_FORWARD_JUMP_MS * unit);
        let mut jump = None;
        let fixed = if backwards || forwards {
            // Continue after everything already seen, at the track's own frame rate.
            let step = state.step.unwrap_or(1);
            let after = max_dts.into_iter().chain(state.last_dts).max();
            let repaired = after.map_or(seen, |a| a.saturating_add(step));
            jump = Some(Jump {
                from: state.last_dts.or(max_dts).unwrap_or(repaired),
                to: seen,
            });
            self.offset = self.offset.saturating_add(repaired.saturating_sub(seen));
            repaired
        } else {
            seen
        };
        if let Some(last) = state.last_dts {
            let step = fixed.saturating_sub(last);
            if step > 0 && step <= MAX_STEP_MS * unit && jump.is_none() {
                state.step = Some(step);
            }
        }
        state.last_dts = Some(fixed);
        self.max_dts = Some(max_dts.map_or(fixed, |m| m.max(fixed)));
        (fixed, jump)
    }
}

/// Unwraps and repairs the 32-bit millisecond timestamps of one FLV or RTMP session.
#[derive(Clone, Debug)]
pub(crate) struct Timeline {
    /// The last raw timestamp, of any track, and its unwrapped value.
    last_raw: Option<(u32, i64)>,
    repair: Repair,
}

impl Default for Timeline {
    fn default() -> Timeline {
        Timeline {
            last_raw: None,
            repair: Repair::new(1000),
        }
    }
}

/// A repaired timestamp, and the discontinuity it revealed if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub(crate) dts_ms: i64,
    pub(crate) damage: Option<Damage>,
}

impl Timeline {
    pub(crate) fn new() -> Timeline {
        Timeline::default()
    }

    /// Repairs the 32-bit millisecond timestamp of a packet of `track` found at byte `offset`.
    pub(crate) fn repair(&mut self, track: Track, raw_ms: u32, offset: u64) -> Stamp {
        let unwrapped = match self.last_raw {
            // Serial-number arithmetic: the signed 32-bit difference to the previous timestamp.
            Some((prev_raw, prev)) => prev + i64::from(raw_ms.wrapping_sub(prev_raw) as i32),
            None => i64::from(raw_ms),
        };
        self.last_raw = Some((raw_ms, unwrapped));
        let (dts_ms, jump) = self.repair.repair(track, unwrapped);
        let damage = jump.map(|j| Damage::Discontinuity {
            track,
            offset,
            from_dts_90k: ms_to_90k(j.from),
            to_dts_90k: ms_to_90k(j.to),
        });
        Stamp { dts_ms, damage }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::TrackKind::{self, Audio, Video};

    /// Feeds (track, raw) pairs; returns the repaired DTS and the number of discontinuities.
    fn run(input: &[(TrackKind, u32)]) -> (Vec<i64>, Vec<Damage>) {
        let mut t = Timeline::new();
        let mut out = Vec::new();
        let mut damage = Vec::new();
        for (i, &(kind, raw)) in input.iter().enumerate() {
            let s = t.repair(Track { kind, index: 0 }, raw, i as u64);
            out.push(s.dts_ms);
            damage.extend(s.damage);
        }
        (out, damage)
    }

    #[test]
    fn normal_interleaving_and_jitter_are_not_flagged() {
        // Audio every 23 ms, video every 40 ms with B-frame-free jitter, interleaved with skew.
        let input = [
            (Video, 0),
            (Audio, 0),
            (Audio, 23),
            (Video, 40),
            (Audio, 46),
            (Video, 81),
            (Audio, 69),
            (Audio, 92),
            (Video, 119),
            (Video, 119),
        ];
        let (dts, damage) = run(&input);
        assert!(damage.is_empty(), "{damage:?}");
        let raw: Vec<i64> = input.iter().map(|&(_, r)| i64::from(r)).collect();
        assert_eq!(dts, raw);
    }

    #[test]
    fn follows_the_32_bit_rollover() {
        let near = u32::MAX - 50;
        let input = [
            (Video, near),
            (Audio, near + 10),
            (Video, near + 40),
            (Audio, 10), // 2^32 + 10: after the rollover
            (Video, 29),
            (Video, 69),
        ];
        let (dts, damage) = run(&input);
        assert!(damage.is_empty(), "{damage:?}");
        let base = i64::from(near);
        assert_eq!(
            dts,
            [base, base + 10, base + 40, base + 61, base + 80, base + 120]
        );
    }

    #[test]
    fn a_backwards_jump_is_repaired_and_reported() {
        // The encoder restarts its clock at 0 after 10 s.
        let input = [
            (Video, 9_960),
            (Audio, 9_980),
            (Video, 10_000),
            (Audio, 10_003),
            (Video, 0),
            (Audio, 5),
            (Video, 40),
            (Audio, 28),
        ];
        let (dts, damage) = run(&input);
        assert_eq!(damage.len(), 1, "{damage:?}");
        assert_eq!(
            damage[0],
            Damage::Discontinuity {
                track: Track {
                    kind: Video,
                    index: 0
                },
                offset: 4,
                from_dts_90k: 10_000 * 90,
                to_dts_90k: 0,
            }
        );
        // Video continues 40 ms after the session's latest DTS; audio keeps its place beside it.
        assert_eq!(dts[4], 10_043);
        assert_eq!(dts[5], 10_048);
        assert_eq!(dts[6], 10_083);
        assert_eq!(dts[7], 10_071);
        assert!(dts[5] >= dts[3] && dts[6] >= dts[4]);
    }

    #[test]
    fn a_forward_jump_of_hours_is_repaired() {
        let hours = 3 * 3_600_000;
        let input = [
            (Audio, 1_000),
            (Audio, 1_023),
            (Audio, 1_046 + hours),
            (Audio, 1_069 + hours),
        ];
        let (dts, damage) = run(&input);
        assert_eq!(dts, [1_000, 1_023, 1_046, 1_069]);
        assert_eq!(damage.len(), 1);
        assert!(matches!(
            damage[0],
            Damage::Discontinuity {
                track: Track {
                    kind: Audio,
                    index: 0
                },
                offset: 2,
                from_dts_90k: 92_070,
                ..
            }
        ));
    }

    #[test]
    fn a_forward_jump_below_the_threshold_is_kept() {
        let (dts, damage) = run(&[(Audio, 0), (Audio, 9_000), (Audio, 9_023)]);
        assert!(damage.is_empty());
        assert_eq!(dts, [0, 9_000, 9_023]);
    }

    #[test]
    fn a_paused_track_resuming_is_not_a_jump() {
        // Video stops for 30 s while audio runs, then resumes in step with audio.
        let mut input = vec![(Video, 0), (Audio, 0)];
        input.extend((1..=1_400).map(|i| (Audio, i * 23)));
        input.push((Video, 32_200));
        let (dts, damage) = run(&input);
        assert!(damage.is_empty(), "{damage:?}");
        assert_eq!(dts.last(), Some(&32_200));
    }

    #[test]
    fn a_small_step_backwards_on_one_track_stays_non_decreasing() {
        let (dts, damage) = run(&[(Audio, 100), (Audio, 123), (Audio, 120), (Audio, 146)]);
        assert_eq!(damage.len(), 1);
        assert!(dts.windows(2).all(|w| w[0] <= w[1]), "{dts:?}");
    }
}

//! A span of evenly spaced packets placed at once (README "Speed and memory"): a segment log's
//! push is known by its length only, and its placeholder packets (one a second, all of one
//! track, every one a cut point) would cost the rules a step per second of media. The engine
//! places only the packets where something can happen — the first, the two before each slice
//! and the slicing packet itself, the last two — and finds each slice boundary by a search
//! over the span, so a push costs the same however long it is, and every decision, file length
//! and wall clock equals what placing the packets one by one gives (a test compares the two).

use super::{Engine, Placement};
use crate::media::{Track, TrackKind, to_ms};

/// `count` packets of one track, all keyframes: packet `i` at `i × step_90k` (session DTS),
/// except the last, at `last_90k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub(crate) track: TrackKind,
    pub(crate) step_90k: i64,
    pub(crate) count: u64,
    pub(crate) last_90k: i64,
}

impl Span {
    /// The track the span's packets stand for: its kind's first.
    fn first_track(&self) -> Track {
        Track {
            kind: self.track,
            index: 0,
        }
    }

    /// Packets every `step_90k` from 0 while before `end_90k`, then one halfway between the
    /// previous and the end, so the last lasts as long as the step before it and the span
    /// covers `end_90k` exactly (one packet at 0 when `end_90k` is 0 or less).
    pub(crate) fn until(track: TrackKind, step_90k: i64, end_90k: i64) -> Span {
        let before_end = match end_90k {
            ..=0 => 0,
            end => (end + step_90k - 1) / step_90k,
        };
        let last_90k = match before_end {
            0 => 0,
            n => (end_90k + (n - 1) * step_90k) / 2,
        };
        Span {
            track,
            step_90k,
            count: before_end as u64 + 1,
            last_90k,
        }
    }

    /// Session DTS of packet `i`.
    pub(crate) fn dts_90k(&self, i: u64) -> i64 {
        if i + 1 == self.count {
            self.last_90k
        } else {
            i as i64 * self.step_90k
        }
    }
}

impl Engine {
    /// Places every packet of `span` in the running session, as [`Engine::packet`] for each
    /// in turn would; decisions are recorded the same way.
    pub(crate) fn span(&mut self, span: &Span) {
        if span.count == 0 {
            return;
        }
        self.place(span, 0);
        let mut placed = 0;
        let last = span.count - 1;
        while placed < last {
            let target = self.next_cut(span, placed).unwrap_or(last);
            // The packet before the target gets its true step (a packet's duration is the
            // step before it): placing it after a skip leaves its predecessor's estimate wrong
            // only until it is itself replaced.
            for i in [target.saturating_sub(2), target - 1, target] {
                if i > placed {
                    self.place(span, i);
                    placed = i;
                }
            }
        }
    }

    fn place(&mut self, span: &Span, i: u64) {
        let placed = self.packet(span.first_track(), span.dts_90k(i), true);
        debug_assert!(
            matches!(placed, Placement::Write { .. }),
            "keyframes are written"
        );
    }

    /// The first packet after `placed` that closes the open file on its slice, if any.
    fn next_cut(&self, span: &Span, placed: u64) -> Option<u64> {
        let session = self.session.as_ref()?;
        let has_video = session.config.video.is_some();
        if has_video && span.track != TrackKind::Video {
            return None;
        }
        // Only an open file is cut.
        self.file.as_ref()?;
        let offset = session.offset_90k;
        let cuts = |i: u64| to_ms(span.dts_90k(i) + offset) >= self.settings.slice_ms;
        let (mut lo, mut hi) = (placed + 1, span.count);
        if !cuts(hi - 1) {
            return None;
        }
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if cuts(mid) { hi = mid } else { lo = mid + 1 }
        }
        Some(lo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::CodecConfig;
    use crate::rules::{Decision, Settings};

    fn span_of(len_ms: i64, step_ms: i64) -> Span {
        Span::until(TrackKind::Audio, step_ms * 90, len_ms * 90)
    }

    /// Pushes (wall start, length) through two engines: one packet at a time, and by spans.
    fn both(settings: &Settings, pushes: &[(i64, i64, i64)]) -> (Vec<Decision>, Vec<Decision>) {
        let config = CodecConfig::default();
        let (mut one, mut all) = (Engine::new(settings.clone()), Engine::new(settings.clone()));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for &(wall, len, step) in pushes {
            let span = span_of(len, step);
            one.begin_session(wall, &config);
            for i in 0..span.count {
                one.packet(span.first_track(), span.dts_90k(i), true);
            }
            all.begin_session(wall, &config);
            all.span(&span);
            assert_eq!(one.end_session(), all.end_session());
            a.extend(one.drain_decisions());
            b.extend(all.drain_decisions());
        }
        one.finish();
        all.finish();
        a.extend(one.drain_decisions());
        b.extend(all.drain_decisions());
        (a, b)
    }

    #[test]
    fn a_span_decides_as_its_packets_one_by_one() {
        let cases: &[(i64, Option<i64>, i64)] = &[
            (6 * 3_600_000, None, 180_000),
            (600_000, Some(900_000), 180_000),
            (1_000, None, 60_000),
            (1, None, 0),
            (2_500, Some(1), 3_600_000),
        ];
        let t0 = 1_764_072_000_000;
        let pushes = [
            (t0, 14 * 3_600_000 + 517, 1000),
            (t0 + 14 * 3_600_000 + 60_000, 1_234_567, 1000),
            (t0 + 15 * 3_600_000, 0, 1000),
            (t0 + 15 * 3_600_000 + 10, 500, 1000),
            (t0 + 15 * 3_600_000 + 5_000, 2_250, 1000),
            (t0 + 16 * 3_600_000, 61_001, 7),
            (t0 + 16 * 3_600_000 + 70_000, 3_599_999, 1000),
        ];
        for (slice_ms, period_ms, splice_window_ms) in cases {
            let settings = Settings {
                slice_ms: *slice_ms,
                period_ms: *period_ms,
                splice_window_ms: *splice_window_ms,
            };
            let (a, b) = both(&settings, &pushes);
            assert!(a.len() > pushes.len(), "{settings:?}: {a:?}");
            assert_eq!(a, b, "{settings:?}");
        }
    }
}

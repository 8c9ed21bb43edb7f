//! The movie's timing, decided once every sample is known: each track's timescale, its edit
//! list (ISO/IEC 14496-12 §8.6.5–8.6.6) and the durations of `mvhd`, `tkhd` and `mdhd`.
//!
//! The movie's time 0 is the earliest presentation time of any track. Each track's edit maps
//! its first presented sample to the movie time where it belongs: an empty edit for the time
//! before it (so audio and video stay in sync), then one edit from media_time = its earliest PTS
//! for its presentation length, measured to the end of the last *presented* sample (max PTS +
//! duration), not the last decoded one, or players drop the final B-frames. A track whose
//! earliest PTS is its first DTS and starts at movie time 0 needs no edit list.

use super::index::{LoneSample, Timing, TrackIndex};
use crate::container::mp4::EPOCH_1904_TO_1970_S;
use crate::media::{AudioConfig, VideoConfig};

/// The timescale of every track of a fragmented file: the media clock itself.
pub(crate) const FRAGMENT_TIMESCALE: u32 = 90_000;

/// What a track's sample entry describes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Entry<'a> {
    Video(&'a VideoConfig),
    Audio(&'a AudioConfig),
}

/// An edit list: an optional empty edit, then one edit into the media.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Edit {
    /// Movie-timescale length of the empty edit (0: none).
    pub(crate) empty_movie: u64,
    /// Movie-timescale length of the media edit.
    pub(crate) segment_movie: u64,
    /// Media-timescale start of the media edit.
    pub(crate) media_time: u64,
}

pub(crate) struct TrackPlan<'a> {
    /// track_ID: 1 for the first track written.
    pub(crate) id: u32,
    pub(crate) index: &'a TrackIndex,
    pub(crate) entry: Entry<'a>,
    pub(crate) timing: Timing,
    pub(crate) edit: Option<Edit>,
    /// `tkhd` duration in the movie timescale.
    pub(crate) duration_movie: u64,
}

pub(crate) struct MoviePlan<'a> {
    /// 1000 when every track is millisecond-exact, else 90000: edits then never round.
    pub(crate) timescale: u32,
    /// Seconds since 1904 of the recording's start, for every creation/modification time.
    pub(crate) time_1904_s: u64,
    pub(crate) duration_movie: u64,
    pub(crate) tracks: Vec<TrackPlan<'a>>,
    /// An init segment of a fragmented file (ISO/IEC 14496-12 §8.8): the sample tables stay
    /// empty, no `stss` or edit list is written, and `mvex` announces the fragments.
    pub(crate) fragmented: bool,
}

impl<'a> MoviePlan<'a> {
    /// Plans the movie from the tracks' indexes, video first.
    pub(crate) fn new(
        tracks: Vec<(&'a TrackIndex, Entry<'a>)>,
        start_time_s: i64,
    ) -> MoviePlan<'a> {
        let all_exact = tracks.iter().all(|(t, _)| t.ms_exact());
        let timescale: u32 = if all_exact { 1000 } else { 90_000 };
        let movie_div = 90_000 / i64::from(timescale);
        let origin_90k = tracks
            .iter()
            .filter_map(|(t, _)| t.min_pts_90k())
            .min()
            .unwrap_or(0);
        let mut plans = Vec::with_capacity(tracks.len());
        for (i, (index, entry)) in tracks.into_iter().enumerate() {
            let timing = index.timing(lone_sample(entry));
            // Media ticks to movie ticks: 1, or 90 for a millisecond track in a 90 kHz movie.
            let to_movie = |media: i64| -> u64 {
                let v = media.max(0) as u64;
                v * (u64::from(timescale) / u64::from(timing.timescale)).max(1)
            };
            let (edit, duration_movie) = match index.min_pts_90k() {
                None => (None, 0),
                Some(min_pts_90k) => {
                    let empty_movie = ((min_pts_90k - origin_90k) / movie_div).max(0) as u64;
                    let media_time = timing.media_time().max(0) as u64;
                    if empty_movie == 0 && media_time == 0 {
                        (None, to_movie(timing.media_duration))
                    } else {
                        let segment_movie = to_movie(timing.presentation_duration());
                        let edit = Edit {
                            empty_movie,
                            segment_movie,
                            media_time,
                        };
                        (Some(edit), empty_movie + segment_movie)
                    }
                }
            };
            plans.push(TrackPlan {
                id: i as u32 + 1,
                index,
                entry,
                timing,
                edit,
                duration_movie,
            });
        }
        MoviePlan {
            timescale,
            time_1904_s: start_time_s.saturating_add(EPOCH_1904_TO_1970_S).max(0) as u64,
            duration_movie: plans.iter().map(|t| t.duration_movie).max().unwrap_or(0),
            tracks: plans,
            fragmented: false,
        }
    }

    /// The movie of an init segment: every track in the 90 kHz media clock (so every packet
    /// time is exact before any is known), no samples, no edits, durations 0.
    pub(crate) fn fragmented(
        tracks: Vec<(&'a TrackIndex, Entry<'a>)>,
        start_time_s: i64,
    ) -> MoviePlan<'a> {
        let timing = Timing {
            timescale: FRAGMENT_TIMESCALE,
            div: 1,
            last_delta: 0,
            media_duration: 0,
            offset_shift: 0,
            media_min_pts: 0,
            presentation_end: 0,
        };
        let plans = tracks
            .into_iter()
            .enumerate()
            .map(|(i, (index, entry))| TrackPlan {
                id: i as u32 + 1,
                index,
                entry,
                timing,
                edit: None,
                duration_movie: 0,
            })
            .collect();
        MoviePlan {
            timescale: FRAGMENT_TIMESCALE,
            time_1904_s: start_time_s.saturating_add(EPOCH_1904_TO_1970_S).max(0) as u64,
            duration_movie: 0,
            tracks: plans,
            fragmented: true,
        }
    }

    /// Whether any track writes negative composition offsets (`ctts` version 1).
    pub(crate) fn negative_offsets(&self) -> bool {
        self.tracks
            .iter()
            .any(|t| t.index.negative_offsets(&t.timing))
    }
}

fn lone_sample(entry: Entry<'_>) -> LoneSample {
    match entry {
        Entry::Audio(a) => LoneSample::Audio {
            samples: a.codec.frame_samples(),
            rate: a.sample_rate,
        },
        Entry::Video(_) => LoneSample::Video,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::{TrackKind, VideoCodec};

    fn video() -> VideoConfig {
        VideoConfig {
            flv_track: None,
            codec: VideoCodec::H264,
            record: vec![1],
            width: 16,
            height: 16,
            flv_signal: Default::default(),
        }
    }

    fn audio() -> AudioConfig {
        crate::testutil::fixtures::h264_aac().audio.unwrap()
    }

    #[test]
    fn b_frames_and_late_video_get_edits() {
        // Video: DTS 0, 40, 80 ms; PTS 80, 160, 120 ms. Audio: from 57 ms, 23 ms frames.
        let mut v = TrackIndex::new(TrackKind::Video);
        for (i, cts) in [80, 120, 40].into_iter().enumerate() {
            v.push(i as i64 * 3600, cts * 90, i == 0, 1, (i == 0).then_some(0))
                .unwrap();
        }
        v.seal();
        let mut a = TrackIndex::new(TrackKind::Audio);
        for i in 0..3 {
            a.push((57 + 23 * i) * 90, 0, true, 1, (i == 0).then_some(3))
                .unwrap();
        }
        a.seal();
        let (vc, ac) = (video(), audio());
        let plan = MoviePlan::new(
            vec![(&v, Entry::Video(&vc)), (&a, Entry::Audio(&ac))],
            1_764_072_000,
        );
        assert_eq!(plan.timescale, 1000);
        assert_eq!(plan.time_1904_s, 1_764_072_000 + 2_082_844_800);
        // Video presents from 80 ms, 23 ms after the audio's first sample, until 160 + 40 ms.
        let edit = plan.tracks[0].edit.unwrap();
        assert_eq!(
            edit,
            Edit {
                empty_movie: 23,
                segment_movie: 120,
                media_time: 80
            }
        );
        assert_eq!(plan.tracks[0].duration_movie, 143);
        // Audio starts the movie: no edit, 3 × 23 ms.
        assert_eq!(plan.tracks[1].edit, None);
        assert_eq!(plan.tracks[1].duration_movie, 69);
        assert_eq!(plan.duration_movie, 143);
    }
}

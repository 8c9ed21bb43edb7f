//! The in-memory sample index of one MP4 track: everything the sample table boxes
//! (ISO/IEC 14496-12 §8.6–8.7: `stts`, `ctts`, `stss`, `stsz`, `stsc`, `stco`) need, gathered
//! while the payloads stream to the spool.
//!
//! This index is the only state of the MP4 writer that grows with the input, so it is compact:
//! 4 bytes per sample for its size, run-length entries for decode deltas and composition offsets
//! (one run per change), one sample number per keyframe and 8 bytes per chunk. Times stay in the
//! 90 kHz media clock until [`TrackIndex::timing`] chooses the track's timescale.

use crate::media::TrackKind;

/// A run of `count` consecutive samples sharing `value` (the `stts`/`ctts` entry shape).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Run<T> {
    pub(crate) count: u32,
    pub(crate) value: T,
}

fn push_run<T: PartialEq + Copy>(runs: &mut Vec<Run<T>>, value: T) {
    match runs.last_mut() {
        Some(r) if r.value == value && r.count < u32::MAX => r.count += 1,
        _ => runs.push(Run { count: 1, value }),
    }
}

/// Default duration of a lone sample when no decode delta exists to copy (§ "last sample").
#[derive(Clone, Copy, Debug)]
pub(crate) enum LoneSample {
    /// Audio: `samples` PCM samples per frame (1024 for AAC, 1152 for MP3) at `rate` Hz.
    Audio { samples: u32, rate: u32 },
    /// Video: one frame at 25 fps, the most common live frame rate.
    Video,
}

#[derive(Debug)]
pub(crate) struct TrackIndex {
    pub(crate) kind: TrackKind,
    /// `stsz`: every sample's size in bytes.
    pub(crate) sizes: Vec<u32>,
    /// `stts` in 90 kHz: the decode delta of every sample but the last.
    pub(crate) deltas_90k: Vec<Run<u32>>,
    /// `ctts` in 90 kHz: every sample's composition offset.
    pub(crate) offsets_90k: Vec<Run<i32>>,
    /// `stss`: 1-based numbers of the keyframes.
    pub(crate) sync: Vec<u32>,
    /// `stco`/`co64`: chunk start offsets within the spooled `mdat` payload.
    pub(crate) chunk_offsets: Vec<u64>,
    /// `stsc`: (first chunk, 1-based; samples per chunk) where the count changes.
    pub(crate) chunk_runs: Vec<(u32, u32)>,
    /// Samples in the chunk being filled.
    open_chunk_samples: u32,
    first_dts_90k: i64,
    last_dts_90k: i64,
    last_pts_90k: i64,
    min_pts_90k: i64,
    /// Latest presentation end among samples whose duration is known (all but the last).
    max_end_90k: i64,
    min_offset_90k: i32,
    last_nonzero_delta_90k: Option<u32>,
    /// Every DTS and composition offset is a whole millisecond (FLV/RTMP sources).
    ms_exact: bool,
    pub(crate) total_bytes: u64,
    pub(crate) max_size: u32,
    /// Bytes per one-second window of DTS, for the `esds` maxBitrate.
    window: i64,
    window_bytes: u64,
    pub(crate) max_window_bytes: u64,
}

/// Why a packet cannot join the index.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum IndexError {
    DtsBackwards {
        from_90k: i64,
        to_90k: i64,
    },
    DeltaTooLarge {
        delta_90k: i64,
    },
    /// A time beyond ±2^53 ticks (over 3000 years): surely damage, and arithmetic must not wrap.
    DtsOutOfRange {
        dts_90k: i64,
    },
    TooManySamples,
}

/// Largest magnitude accepted for a DTS, leaving headroom for every sum the writer forms.
const MAX_DTS_90K: i64 = 1 << 53;

/// Whether a sample decoding at `dts_90k` may follow `count` samples, the last decoding at
/// `last_dts_90k`; its decode delta from that one (none for a first sample). These are all
/// the checks [`TrackIndex::push`] makes.
pub(crate) fn admit(
    count: u32,
    last_dts_90k: i64,
    dts_90k: i64,
) -> Result<Option<u32>, IndexError> {
    if count == u32::MAX {
        return Err(IndexError::TooManySamples);
    }
    if !(-MAX_DTS_90K..=MAX_DTS_90K).contains(&dts_90k) {
        return Err(IndexError::DtsOutOfRange { dts_90k });
    }
    if count == 0 {
        return Ok(None);
    }
    // Both times are within ±2^53, so the difference cannot overflow.
    let d = dts_90k - last_dts_90k;
    if d < 0 {
        return Err(IndexError::DtsBackwards {
            from_90k: last_dts_90k,
            to_90k: dts_90k,
        });
    }
    let delta = u32::try_from(d).map_err(|_| IndexError::DeltaTooLarge { delta_90k: d })?;
    Ok(Some(delta))
}

impl TrackIndex {
    pub(crate) fn new(kind: TrackKind) -> TrackIndex {
        TrackIndex {
            kind,
            sizes: Vec::new(),
            deltas_90k: Vec::new(),
            offsets_90k: Vec::new(),
            sync: Vec::new(),
            chunk_offsets: Vec::new(),
            chunk_runs: Vec::new(),
            open_chunk_samples: 0,
            first_dts_90k: 0,
            last_dts_90k: 0,
            last_pts_90k: 0,
            min_pts_90k: i64::MAX,
            max_end_90k: i64::MIN,
            min_offset_90k: 0,
            last_nonzero_delta_90k: None,
            ms_exact: true,
            total_bytes: 0,
            max_size: 0,
            window: i64::MIN,
            window_bytes: 0,
            max_window_bytes: 0,
        }
    }

    /// Decode time of the first sample (0 while there is none).
    pub(crate) fn first_dts_90k(&self) -> i64 {
        self.first_dts_90k
    }

    pub(crate) fn count(&self) -> u32 {
        // `push` refuses a sample past u32::MAX, so this never truncates.
        self.sizes.len() as u32
    }

    /// Adds one sample. `chunk_offset` is its spool offset when it starts a new chunk (always
    /// the case for a track's first sample).
    /// Validates before changing anything, so a refused sample leaves the index intact.
    pub(crate) fn push(
        &mut self,
        dts_90k: i64,
        cts_90k: i32,
        keyframe: bool,
        size: u32,
        chunk_offset: Option<u64>,
    ) -> Result<(), IndexError> {
        let n = self.count();
        let delta = admit(n, self.last_dts_90k, dts_90k)?;
        let pts_90k = dts_90k + i64::from(cts_90k);
        if let Some(delta) = delta {
            push_run(&mut self.deltas_90k, delta);
            if delta != 0 {
                self.last_nonzero_delta_90k = Some(delta);
            }
            self.max_end_90k = self.max_end_90k.max(self.last_pts_90k + i64::from(delta));
        } else {
            self.first_dts_90k = dts_90k;
        }
        if chunk_offset.is_some() || n == 0 {
            self.close_chunk();
            self.chunk_offsets.push(chunk_offset.unwrap_or(0));
        }
        self.open_chunk_samples += 1;
        self.last_dts_90k = dts_90k;
        self.last_pts_90k = pts_90k;
        self.min_pts_90k = self.min_pts_90k.min(pts_90k);
        self.min_offset_90k = self.min_offset_90k.min(cts_90k);
        self.ms_exact &= dts_90k % 90 == 0 && cts_90k % 90 == 0;
        push_run(&mut self.offsets_90k, cts_90k);
        self.sizes.push(size);
        if keyframe {
            self.sync.push(n + 1);
        }
        self.total_bytes += u64::from(size);
        self.max_size = self.max_size.max(size);
        let window = dts_90k.div_euclid(90_000);
        if window != self.window {
            self.window = window;
            self.window_bytes = 0;
        }
        self.window_bytes += u64::from(size);
        self.max_window_bytes = self.max_window_bytes.max(self.window_bytes);
        Ok(())
    }

    /// Records the sample count of the chunk being filled in the `stsc` runs.
    fn close_chunk(&mut self) {
        if self.open_chunk_samples == 0 {
            return;
        }
        let chunk = self.chunk_offsets.len() as u32;
        if self.chunk_runs.last().map(|r| r.1) != Some(self.open_chunk_samples) {
            self.chunk_runs.push((chunk, self.open_chunk_samples));
        }
        self.open_chunk_samples = 0;
    }

    /// Completes the `stsc` runs; call once, after the last sample.
    pub(crate) fn seal(&mut self) {
        self.close_chunk();
    }

    pub(crate) fn ms_exact(&self) -> bool {
        self.ms_exact
    }

    /// Earliest presentation time, when the track has samples.
    pub(crate) fn min_pts_90k(&self) -> Option<i64> {
        (!self.sizes.is_empty()).then_some(self.min_pts_90k)
    }

    /// The track's timing in its own timescale: 1000 when every time is a whole millisecond,
    /// else 90000, so no timestamp is rounded.
    pub(crate) fn timing(&self, lone: LoneSample) -> Timing {
        let (timescale, div) = if self.ms_exact {
            (1000u32, 90i64)
        } else {
            (90_000u32, 1i64)
        };
        if self.sizes.is_empty() {
            return Timing {
                timescale,
                div,
                last_delta: 0,
                media_duration: 0,
                offset_shift: 0,
                media_min_pts: 0,
                presentation_end: 0,
            };
        }
        let last_delta = match self.last_nonzero_delta_90k {
            Some(d) => i64::from(d) / div,
            None => match lone {
                LoneSample::Audio { samples, rate } => {
                    let rate = i64::from(rate.max(1));
                    (i64::from(samples) * i64::from(timescale) + rate / 2) / rate
                }
                LoneSample::Video => i64::from(timescale) / 25,
            },
        };
        let first = self.first_dts_90k;
        let media_min_pts = (self.min_pts_90k - first) / div;
        let last_end = (self.last_pts_90k - first) / div + last_delta;
        let presentation_end = if self.max_end_90k == i64::MIN {
            last_end
        } else {
            last_end.max((self.max_end_90k - first) / div)
        };
        Timing {
            timescale,
            div,
            last_delta,
            media_duration: (self.last_dts_90k - first) / div + last_delta,
            // A composition time before the track's first decode time cannot be reached by an
            // edit (media_time >= 0), so offsets are raised just enough for none to be negative.
            offset_shift: (-media_min_pts).max(0),
            media_min_pts,
            presentation_end,
        }
    }

    /// Whether any written composition offset is below zero (`ctts` version 1).
    pub(crate) fn negative_offsets(&self, t: &Timing) -> bool {
        i64::from(self.min_offset_90k) / t.div + t.offset_shift < 0
    }

    /// Whether a `ctts` box is needed at all.
    pub(crate) fn has_offsets(&self, t: &Timing) -> bool {
        t.offset_shift != 0 || self.offsets_90k.iter().any(|r| r.value != 0)
    }
}

/// A track's times in its media timescale (`mdhd`), relative to its first decode time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timing {
    pub(crate) timescale: u32,
    /// 90 kHz ticks per timescale tick (90 or 1).
    pub(crate) div: i64,
    /// Duration given to the last sample: the previous sample's.
    pub(crate) last_delta: i64,
    /// Sum of all sample durations (`mdhd` duration).
    pub(crate) media_duration: i64,
    /// Added to every composition offset written in `ctts` (0 unless a PTS precedes the first DTS).
    pub(crate) offset_shift: i64,
    /// Earliest composition time in media time, before `offset_shift`.
    pub(crate) media_min_pts: i64,
    /// Latest presentation end (max PTS + duration) in media time, before `offset_shift`.
    pub(crate) presentation_end: i64,
}

impl Timing {
    /// The edit's media_time: where presentation begins in the media timeline.
    pub(crate) fn media_time(&self) -> i64 {
        self.media_min_pts + self.offset_shift
    }

    /// Presentation length from the first presented sample to the end of the last.
    pub(crate) fn presentation_duration(&self) -> i64 {
        self.presentation_end - self.media_min_pts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(samples: &[(i64, i32, bool, u32, bool)]) -> TrackIndex {
        let mut t = TrackIndex::new(TrackKind::Video);
        let mut offset = 0u64;
        for &(dts, cts, key, size, new_chunk) in samples {
            t.push(dts, cts, key, size, new_chunk.then_some(offset))
                .unwrap();
            offset += u64::from(size);
        }
        t.seal();
        t
    }

    #[test]
    fn runs_chunks_and_sync() {
        // 40 ms frames presenting at 80, 240, 120, 160, 240 ms; chunks of 2, 2, 1 samples.
        let t = index(&[
            (0, 7200, true, 10, true),
            (3600, 18000, false, 5, false),
            (7200, 3600, false, 5, true),
            (10800, 3600, false, 5, false),
            (14400, 7200, true, 7, true),
        ]);
        assert_eq!(
            t.deltas_90k,
            [Run {
                count: 4,
                value: 3600
            }]
        );
        assert_eq!(
            t.offsets_90k,
            [
                Run {
                    count: 1,
                    value: 7200
                },
                Run {
                    count: 1,
                    value: 18000
                },
                Run {
                    count: 2,
                    value: 3600
                },
                Run {
                    count: 1,
                    value: 7200
                },
            ]
        );
        assert_eq!(t.sync, [1, 5]);
        assert_eq!(t.chunk_offsets, [0, 15, 25]);
        assert_eq!(t.chunk_runs, [(1, 2), (3, 1)]);
        let tm = t.timing(LoneSample::Video);
        assert_eq!(tm.timescale, 1000);
        assert_eq!((tm.last_delta, tm.media_duration), (40, 200));
        assert_eq!((tm.media_time(), tm.presentation_end), (80, 280));
        assert!(t.has_offsets(&tm) && !t.negative_offsets(&tm));
    }

    #[test]
    fn sub_millisecond_times_use_90k() {
        let t = index(&[(0, 0, true, 1, true), (3003, 0, true, 1, false)]);
        let tm = t.timing(LoneSample::Video);
        assert_eq!((tm.timescale, tm.media_duration), (90_000, 6006));
        assert!(!t.has_offsets(&tm));
    }

    #[test]
    fn negative_offsets_are_kept_or_shifted() {
        // A later sample presents before its decode time but not before the first DTS: v1.
        let t = index(&[(0, 0, true, 1, true), (9000, -4500, false, 1, false)]);
        let tm = t.timing(LoneSample::Video);
        assert_eq!(tm.offset_shift, 0);
        assert!(t.negative_offsets(&tm));
        // The first sample presents before its own decode time: offsets raised by 10 ms.
        let t = index(&[(0, -900, true, 1, true), (900, -900, false, 1, false)]);
        let tm = t.timing(LoneSample::Video);
        assert_eq!((tm.offset_shift, tm.media_time()), (10, 0));
        assert!(!t.negative_offsets(&tm));
    }

    #[test]
    fn lone_sample_durations() {
        let mut t = TrackIndex::new(TrackKind::Audio);
        t.push(0, 0, true, 9, Some(0)).unwrap();
        t.seal();
        let tm = t.timing(LoneSample::Audio {
            samples: 1024,
            rate: 48_000,
        });
        assert_eq!(tm.last_delta, 21); // 21.33 ms, rounded
    }

    #[test]
    fn refuses_backwards_and_huge_deltas() {
        let mut t = TrackIndex::new(TrackKind::Video);
        t.push(9000, 0, true, 1, Some(0)).unwrap();
        assert_eq!(
            t.push(0, 0, true, 1, None),
            Err(IndexError::DtsBackwards {
                from_90k: 9000,
                to_90k: 0
            })
        );
        assert!(matches!(
            t.push(9000 + (1 << 33), 0, true, 1, None),
            Err(IndexError::DeltaTooLarge { .. })
        ));
        assert!(matches!(
            t.push(i64::MAX, 0, true, 1, None),
            Err(IndexError::DtsOutOfRange { .. })
        ));
        assert_eq!(t.count(), 1);
    }
}

//! Movie fragments (ISO/IEC 14496-12 §8.8): `mvex`/`trex` defaults and each `moof`'s
//! `traf`/`tfhd`/`tfdt`/`trun`, appended to the track's sample tables as if a whole file had
//! stored them, so [`super::cursor`], `inspect` and every reader downstream see one sample list.
//!
//! - a sample's decode time is its fragment's `tfdt` plus the durations before it in the
//!   fragment; where a `tfdt` differs from where the previous sample ended, the previous
//!   sample's `stts` delta is made to reach it (ffmpeg's `use_tfdt`), so every DTS is the file's;
//!   a `traf` without `tfdt` continues where the track ended;
//! - durations, sizes and flags come from the `trun`, else `tfhd`, else `trex` (§8.8.7.1,
//!   §8.8.8.1); `first_sample_flags` replaces the flags of a run's first sample;
//! - a sample is a sync sample unless its flags say `sample_is_non_sync_sample` or
//!   `sample_depends_on` 1, as ffmpeg reads them;
//! - data offsets: `base_data_offset` if given, else the `moof` (default-base-is-moof, or the
//!   first `traf`), else the end of the previous `traf`'s data (§8.8.7.1); a `trun` without a
//!   data offset continues after the previous run. Each `trun` becomes one chunk.

use std::collections::HashMap;

use super::boxes::{BoxError, MemBox};
use super::track::{ChunkRun, Sizes, Tables, Track};
use crate::container::mp4::{
    SAMPLE_DEPENDS_ON_OTHERS, SAMPLE_IS_NON_SYNC, TFHD_BASE_DATA_OFFSET, TFHD_DEFAULT_BASE_IS_MOOF,
    TFHD_DEFAULT_DURATION, TFHD_DEFAULT_FLAGS, TFHD_DEFAULT_SIZE, TFHD_SAMPLE_DESCRIPTION_INDEX,
    TRUN_DATA_OFFSET, TRUN_FIRST_SAMPLE_FLAGS, TRUN_SAMPLE_CTS as TRUN_CTS,
    TRUN_SAMPLE_DURATION as TRUN_DURATION, TRUN_SAMPLE_FLAGS as TRUN_FLAGS,
    TRUN_SAMPLE_SIZE as TRUN_SIZE,
};

/// `trex` defaults of one track (§8.8.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Defaults {
    pub(crate) duration: u32,
    pub(crate) size: u32,
    pub(crate) flags: u32,
}

/// The `trex` boxes of `mvex`, by track_ID.
pub(crate) fn read_mvex(mvex: &MemBox<'_>) -> Result<HashMap<u32, Defaults>, BoxError> {
    let mut out = HashMap::new();
    for b in mvex.children() {
        let b = b?;
        if &b.header.kind.0 != b"trex" {
            continue;
        }
        let (_, _, mut r) = b.full()?;
        let id = r.u32("track_ID")?;
        r.u32("default_sample_description_index")?;
        let d = Defaults {
            duration: r.u32("default_sample_duration")?,
            size: r.u32("default_sample_size")?,
            flags: r.u32("default_sample_flags")?,
        };
        out.insert(id, d);
    }
    Ok(out)
}

/// Where a track's appended samples stand.
#[derive(Clone, Copy, Debug)]
struct Tail {
    samples: u32,
    /// DTS of the last sample and where it ends (media timescale).
    last_dts: i64,
    end_dts: i64,
}

/// Appends movie fragments to the tracks' tables.
pub(crate) struct Appender {
    defaults: HashMap<u32, Defaults>,
    tails: HashMap<u32, Tail>,
    /// Non-fatal findings, for the movie's warnings.
    pub(crate) warnings: Vec<String>,
}

impl Appender {
    pub(crate) fn new(defaults: HashMap<u32, Defaults>) -> Appender {
        Appender {
            defaults,
            tails: HashMap::new(),
            warnings: Vec::new(),
        }
    }

    /// Appends one `moof` (its box, read into memory) to `tracks`.
    pub(crate) fn moof(&mut self, moof: &MemBox<'_>, tracks: &mut [Track]) -> Result<(), BoxError> {
        let moof_start = moof.header.offset;
        // Where the previous traf's data ended (the base of a traf that names none).
        let mut prev_end: Option<u64> = None;
        for traf in moof.children() {
            let traf = traf?;
            if &traf.header.kind.0 == b"traf" {
                prev_end = Some(self.traf(&traf, moof_start, prev_end, tracks)?);
            }
        }
        Ok(())
    }

    /// One `traf`; returns where its data ends.
    fn traf(
        &mut self,
        traf: &MemBox<'_>,
        moof_start: u64,
        prev_end: Option<u64>,
        tracks: &mut [Track],
    ) -> Result<u64, BoxError> {
        let tfhd = traf.require(b"tfhd")?;
        let (_, flags, mut r) = tfhd.full()?;
        let id = r.u32("track_ID")?;
        let base = if flags & TFHD_BASE_DATA_OFFSET != 0 {
            r.u64("base_data_offset")?
        } else if flags & TFHD_DEFAULT_BASE_IS_MOOF != 0 {
            moof_start
        } else {
            prev_end.unwrap_or(moof_start)
        };
        if flags & TFHD_SAMPLE_DESCRIPTION_INDEX != 0 {
            r.u32("sample_description_index")?;
        }
        let trex = self.defaults.get(&id).copied().unwrap_or_default();
        let mut d = trex;
        if flags & TFHD_DEFAULT_DURATION != 0 {
            d.duration = r.u32("default_sample_duration")?;
        }
        if flags & TFHD_DEFAULT_SIZE != 0 {
            d.size = r.u32("default_sample_size")?;
        }
        if flags & TFHD_DEFAULT_FLAGS != 0 {
            d.flags = r.u32("default_sample_flags")?;
        }
        let Some(track) = tracks.iter_mut().find(|t| t.id == id) else {
            self.warnings.push(format!(
                "a fragment at byte {} is for track {id}, which 'moov' does not have",
                traf.header.offset
            ));
            return Ok(prev_end.unwrap_or(base));
        };
        let tfdt = match traf.child(b"tfdt")? {
            Some(b) => {
                let (version, _, mut r) = b.full()?;
                Some(r.versioned(version, "baseMediaDecodeTime")? as i64)
            }
            None => None,
        };
        let mut tail = match self.tails.get(&id) {
            Some(t) => *t,
            None => start_tail(&mut track.tables),
        };
        let mut dts = tfdt.unwrap_or(tail.end_dts);
        let mut data = base;
        for trun in traf.children() {
            let trun = trun?;
            if &trun.header.kind.0 == b"trun" {
                data = append_trun(&trun, base, data, &d, &mut dts, &mut tail, track)?;
            }
        }
        self.tails.insert(id, tail);
        Ok(data)
    }
}

/// Where a track's tables from `moov` end; `ctts` is made to cover them, so the offsets of
/// appended samples land on those samples.
fn start_tail(t: &mut Tables) -> Tail {
    let samples = t.sizes.as_ref().map_or(0, |s| s.count());
    let covered: u64 = t.ctts.iter().map(|&(c, _)| u64::from(c)).sum();
    if let Ok(missing @ 1..) = u32::try_from(u64::from(samples).saturating_sub(covered)) {
        t.ctts.push((missing, 0));
    }
    let total: i64 = t
        .stts
        .iter()
        .map(|&(c, d)| i64::from(c) * i64::from(d))
        .sum();
    let last = t.stts.last().map_or(0, |&(_, d)| i64::from(d));
    let end_dts = t.first_dts.saturating_add(total);
    Tail {
        samples,
        last_dts: end_dts - last,
        end_dts,
    }
}

/// One `trun`, appended as one chunk; returns where its data ends.
fn append_trun(
    trun: &MemBox<'_>,
    base: u64,
    continue_at: u64,
    d: &Defaults,
    dts: &mut i64,
    tail: &mut Tail,
    track: &mut Track,
) -> Result<u64, BoxError> {
    // Version 0 composition offsets are unsigned by the text; both are read signed, as ffmpeg
    // does (writers put negative offsets in version 0 too).
    let (_, flags, mut r) = trun.full()?;
    let fields = [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTS]
        .iter()
        .filter(|&&f| flags & f != 0)
        .count();
    let n = r.count(4 * fields, "sample_count")?;
    let mut offset = continue_at;
    if flags & TRUN_DATA_OFFSET != 0 {
        let rel = i64::from(r.u32("data_offset")? as i32);
        offset = base
            .checked_add_signed(rel)
            .ok_or_else(|| r.err("data_offset", "points before the file"))?;
    }
    let first_flags = if flags & TRUN_FIRST_SAMPLE_FLAGS != 0 {
        Some(r.u32("first_sample_flags")?)
    } else {
        None
    };
    if n == 0 {
        return Ok(offset);
    }
    let t = &mut track.tables;
    t.chunk_offsets.push(offset);
    let chunk = t.chunk_offsets.len() as u32;
    if t.stsc.last().map(|c| c.samples_per_chunk) != Some(n as u32) {
        t.stsc.push(ChunkRun {
            first_chunk: chunk,
            samples_per_chunk: n as u32,
        });
    }
    for i in 0..n {
        let duration = field(&mut r, flags, TRUN_DURATION, d.duration, "sample_duration")?;
        let size = field(&mut r, flags, TRUN_SIZE, d.size, "sample_size")?;
        let mut sflags = field(&mut r, flags, TRUN_FLAGS, d.flags, "sample_flags")?;
        if i == 0
            && let Some(f) = first_flags
        {
            sflags = f;
        }
        let cts = field(&mut r, flags, TRUN_CTS, 0, "sample_composition_time_offset")? as i32;
        let sync = sflags & (SAMPLE_IS_NON_SYNC | SAMPLE_DEPENDS_ON_OTHERS) == 0;
        push_sample(t, tail, *dts, duration, cts, size, sync);
        *dts = dts.saturating_add(i64::from(duration));
        offset = offset.saturating_add(u64::from(size));
    }
    Ok(offset)
}

fn field(
    r: &mut super::boxes::Fields<'_>,
    flags: u32,
    bit: u32,
    default: u32,
    name: &str,
) -> Result<u32, BoxError> {
    if flags & bit != 0 {
        r.u32(name)
    } else {
        Ok(default)
    }
}

/// Appends one sample at `dts` to the tables, making the previous sample's delta reach it.
fn push_sample(
    t: &mut Tables,
    tail: &mut Tail,
    dts: i64,
    duration: u32,
    cts: i32,
    size: u32,
    sync: bool,
) {
    if tail.samples == 0 {
        t.first_dts = dts;
    } else if dts != tail.end_dts {
        // The previous sample lasts until this one decodes (never negatively).
        let delta = u32::try_from(dts - tail.last_dts).unwrap_or(0);
        if let Some(last) = t.stts.last_mut() {
            last.0 -= 1;
            if last.0 == 0 {
                t.stts.pop();
            }
        }
        push_run(&mut t.stts, delta);
    }
    push_run(&mut t.stts, duration);
    push_run(&mut t.ctts, cts);
    let number = tail.samples + 1;
    match (&mut t.stss, sync) {
        (Some(s), true) => s.push(number),
        (Some(_), false) => {}
        (None, true) => {}
        // Every sample so far was a sync sample.
        (None, false) => t.stss = Some((1..number).collect()),
    }
    match &mut t.sizes {
        Some(Sizes::Each(v)) => v.push(size),
        Some(Sizes::Uniform { size: s, count }) => {
            let mut v = vec![*s; *count as usize];
            v.push(size);
            t.sizes = Some(Sizes::Each(v));
        }
        None => t.sizes = Some(Sizes::Each(vec![size])),
    }
    tail.samples = number;
    tail.last_dts = dts;
    tail.end_dts = dts.saturating_add(i64::from(duration));
}

fn push_run<T: PartialEq + Copy>(runs: &mut Vec<(u32, T)>, value: T) {
    match runs.last_mut() {
        Some(r) if r.1 == value && r.0 < u32::MAX => r.0 += 1,
        _ => runs.push((1, value)),
    }
}

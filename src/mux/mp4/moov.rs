//! The `moov` box (ISO/IEC 14496-12 §8.2) and everything inside it but the sample entries:
//! movie and track headers, edit lists, media headers, handlers and the sample tables.

use anyhow::{Result, bail};

use super::bmff::BoxWriter;
use super::plan::{Edit, Entry, MoviePlan, TrackPlan};
use super::stsd;

/// The identity matrix of `mvhd`/`tkhd` (§8.2.2.3), 16.16 and 2.30 fixed point.
const MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

/// ISO 639-2/T "und" packed as three 5-bit letters (§8.4.2.3).
const LANGUAGE_UND: u16 = 0x55C4;

/// Writes `moov`. `data_start` is the file offset of the first `mdat` payload byte; `co64`
/// selects 64-bit chunk offsets. The size of the result does not depend on `data_start`.
pub(crate) fn write_moov(plan: &MoviePlan<'_>, data_start: u64, co64: bool) -> Result<Vec<u8>> {
    let mut w = BoxWriter::new();
    w.open(b"moov");
    mvhd(&mut w, plan);
    for track in &plan.tracks {
        trak(&mut w, plan, track, data_start, co64)?;
    }
    if plan.fragmented {
        mvex(&mut w, plan);
    }
    w.close();
    w.finish()
}

/// §8.8.1 Movie extends: one `trex` per track, no defaults (every `trun` states its samples'
/// durations, sizes and flags), the first sample description.
fn mvex(w: &mut BoxWriter, plan: &MoviePlan<'_>) {
    w.open(b"mvex");
    for t in &plan.tracks {
        w.open_full(b"trex", 0, 0);
        w.u32(t.id); // track_ID
        w.u32(1); // default_sample_description_index
        w.u32(0); // default_sample_duration
        w.u32(0); // default_sample_size
        w.u32(0); // default_sample_flags
        w.close();
    }
    w.close();
}

/// Version 1 (64-bit times) only when a value does not fit version 0's 32 bits.
fn time_version(values: &[u64]) -> u8 {
    u8::from(values.iter().any(|&v| v > u64::from(u32::MAX)))
}

/// creation_time, modification_time (both the recording's start: deterministic), then
/// `timescale` if given, then duration, in the width `version` selects.
fn times(w: &mut BoxWriter, version: u8, time_1904_s: u64, timescale: Option<u32>, duration: u64) {
    w.u32_or_u64(version, time_1904_s);
    w.u32_or_u64(version, time_1904_s);
    if let Some(ts) = timescale {
        w.u32(ts);
    }
    w.u32_or_u64(version, duration);
}

/// §8.2.2 Movie Header.
fn mvhd(w: &mut BoxWriter, plan: &MoviePlan<'_>) {
    let version = time_version(&[plan.time_1904_s, plan.duration_movie]);
    w.open_full(b"mvhd", version, 0);
    times(
        w,
        version,
        plan.time_1904_s,
        Some(plan.timescale),
        plan.duration_movie,
    );
    w.u32(0x0001_0000); // rate 1.0
    w.u16(0x0100); // volume 1.0
    w.zeros(2 + 8); // reserved
    MATRIX.iter().for_each(|&m| w.u32(m));
    w.zeros(24); // pre_defined
    w.u32(plan.tracks.len() as u32 + 1); // next_track_ID
    w.close();
}

fn trak(
    w: &mut BoxWriter,
    plan: &MoviePlan<'_>,
    t: &TrackPlan<'_>,
    data_start: u64,
    co64: bool,
) -> Result<()> {
    w.open(b"trak");
    tkhd(w, plan, t);
    if let Some(edit) = &t.edit {
        edts(w, edit);
    }
    w.open(b"mdia");
    mdhd(w, plan, t);
    let (handler, name): (&[u8; 4], &[u8]) = match t.entry {
        Entry::Video(_) => (b"vide", b"VideoHandler\0"),
        Entry::Audio(_) => (b"soun", b"SoundHandler\0"),
    };
    // §8.4.3 Handler Reference.
    w.open_full(b"hdlr", 0, 0);
    w.u32(0); // pre_defined
    w.bytes(handler);
    w.zeros(12); // reserved
    w.bytes(name);
    w.close();
    w.open(b"minf");
    match t.entry {
        Entry::Video(_) => {
            // §12.1.2 Video media header: flags 1, graphicsmode copy, opcolor 0.
            w.open_full(b"vmhd", 0, 1);
            w.zeros(8);
            w.close();
        }
        Entry::Audio(_) => {
            // §12.2.2 Sound media header: balance 0, reserved.
            w.open_full(b"smhd", 0, 0);
            w.zeros(4);
            w.close();
        }
    }
    // §8.7.1–8.7.2 Data information: the media is in this file (flag 1 on `url `).
    w.open(b"dinf");
    w.open_full(b"dref", 0, 0);
    w.u32(1);
    w.open_full(b"url ", 0, 1);
    w.close();
    w.close();
    w.close();
    stbl(w, t, plan.fragmented, data_start, co64)?;
    w.close(); // minf
    w.close(); // mdia
    w.close(); // trak
    Ok(())
}

/// §8.3.2 Track Header.
fn tkhd(w: &mut BoxWriter, plan: &MoviePlan<'_>, t: &TrackPlan<'_>) {
    let version = time_version(&[plan.time_1904_s, t.duration_movie]);
    // track_in_movie; track_enabled on the first track of each kind only, so that of several
    // audio tracks (one alternate group) the first is the one a player starts with; several
    // video tracks likewise (a group of their own, where one video track has none, as ffmpeg
    // writes it).
    let mut of_kind = plan.tracks.iter().filter(|o| o.index.kind == t.index.kind);
    let first_of_kind = of_kind.next().is_some_and(|o| o.id == t.id);
    let several = of_kind.next().is_some();
    w.open_full(b"tkhd", version, if first_of_kind { 0x3 } else { 0x2 });
    w.u32_or_u64(version, plan.time_1904_s); // creation_time
    w.u32_or_u64(version, plan.time_1904_s); // modification_time
    w.u32(t.id);
    w.u32(0); // reserved
    w.u32_or_u64(version, t.duration_movie);
    w.zeros(8); // reserved
    w.u16(0); // layer
    let (alternate_group, volume, width, height) = match t.entry {
        Entry::Video(v) => (if several { 2 } else { 0 }, 0, v.width, v.height),
        Entry::Audio(_) => (1, 0x0100, 0, 0),
    };
    w.u16(alternate_group);
    w.u16(volume);
    w.u16(0); // reserved
    MATRIX.iter().for_each(|&m| w.u32(m));
    // 16.16 fixed point; sizes beyond 65535 cannot be expressed and are clamped.
    w.u32(width.min(0xFFFF) << 16);
    w.u32(height.min(0xFFFF) << 16);
    w.close();
}

/// §8.6.5–8.6.6 Edit list: an optional empty edit (media_time −1), then the media edit.
fn edts(w: &mut BoxWriter, e: &Edit) {
    let version = time_version(&[e.empty_movie, e.segment_movie, e.media_time]);
    w.open(b"edts");
    w.open_full(b"elst", version, 0);
    w.u32(if e.empty_movie > 0 { 2 } else { 1 });
    let mut entry = |duration: u64, media_time: i64| {
        w.u32_or_u64(version, duration); // segment_duration
        w.i32_or_i64(version, media_time);
        w.u16(1); // media_rate_integer
        w.u16(0); // media_rate_fraction
    };
    if e.empty_movie > 0 {
        entry(e.empty_movie, -1);
    }
    entry(e.segment_movie, e.media_time as i64);
    w.close();
    w.close();
}

/// §8.4.2 Media Header.
fn mdhd(w: &mut BoxWriter, plan: &MoviePlan<'_>, t: &TrackPlan<'_>) {
    let duration = t.timing.media_duration.max(0) as u64;
    let version = time_version(&[plan.time_1904_s, duration]);
    w.open_full(b"mdhd", version, 0);
    times(
        w,
        version,
        plan.time_1904_s,
        Some(t.timing.timescale),
        duration,
    );
    w.u16(LANGUAGE_UND);
    w.u16(0); // pre_defined
    w.close();
}

/// §8.5.1 Sample table: description, times, sync samples, chunking, sizes, offsets.
fn stbl(
    w: &mut BoxWriter,
    t: &TrackPlan<'_>,
    fragmented: bool,
    data_start: u64,
    co64: bool,
) -> Result<()> {
    let ix = t.index;
    w.open(b"stbl");
    stsd::write_stsd(w, t)?;
    stts(w, t);
    if ix.has_offsets(&t.timing) {
        ctts(w, t)?;
    }

    // §8.6.2 Sync sample: every keyframe (video only; audio samples are all sync samples).
    // An init segment has none: its fragments flag each sample (an empty `stss` would say no
    // sample is a sync sample).
    if matches!(t.entry, Entry::Video(_)) && !fragmented {
        w.open_full(b"stss", 0, 0);
        w.u32(ix.sync.len() as u32);
        ix.sync.iter().for_each(|&n| w.u32(n));
        w.close();
    }

    // §8.7.4 Sample to chunk: one entry where the samples per chunk change.
    w.open_full(b"stsc", 0, 0);
    w.u32(ix.chunk_runs.len() as u32);
    for &(first_chunk, samples) in &ix.chunk_runs {
        w.u32(first_chunk);
        w.u32(samples);
        w.u32(1); // sample_description_index
    }
    w.close();

    // §8.7.3.2 Sample size: one size per sample (sample_size 0).
    w.open_full(b"stsz", 0, 0);
    w.u32(0);
    w.u32(ix.count());
    ix.sizes.iter().for_each(|&s| w.u32(s));
    w.close();
    chunk_offsets(w, t, data_start, co64)?;
    w.close(); // stbl
    Ok(())
}

/// §8.6.1.2 Decoding time to sample: the recorded runs, then the last sample's duration.
fn stts(w: &mut BoxWriter, t: &TrackPlan<'_>) {
    let (ix, tm) = (t.index, &t.timing);
    w.open_full(b"stts", 0, 0);
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for r in &ix.deltas_90k {
        runs.push((r.count, (i64::from(r.value) / tm.div) as u32));
    }
    if ix.count() > 0 {
        let last = u32::try_from(tm.last_delta).unwrap_or(u32::MAX);
        match runs.last_mut() {
            Some(r) if r.1 == last && r.0 < u32::MAX => r.0 += 1,
            _ => runs.push((1, last)),
        }
    }
    w.u32(runs.len() as u32);
    for (count, delta) in runs {
        w.u32(count);
        w.u32(delta);
    }
    w.close();
}

/// §8.6.1.3 Composition time to sample (written only when some offset is not zero).
fn ctts(w: &mut BoxWriter, t: &TrackPlan<'_>) -> Result<()> {
    let (ix, tm) = (t.index, &t.timing);
    let version = u8::from(ix.negative_offsets(tm));
    w.open_full(b"ctts", version, 0);
    w.u32(ix.offsets_90k.len() as u32);
    for r in &ix.offsets_90k {
        let offset = i64::from(r.value) / tm.div + tm.offset_shift;
        let fits = if version == 1 {
            i32::try_from(offset).is_ok()
        } else {
            u32::try_from(offset).is_ok()
        };
        if !fits {
            bail!("mp4 ctts: composition offset {offset} does not fit its 32-bit field");
        }
        w.u32(r.count);
        w.u32(offset as u32); // two's complement for version 1
    }
    w.close();
    Ok(())
}

/// §8.7.5 Chunk offset, 32- or 64-bit.
fn chunk_offsets(w: &mut BoxWriter, t: &TrackPlan<'_>, data_start: u64, co64: bool) -> Result<()> {
    let ix = t.index;
    w.open_full(if co64 { b"co64" } else { b"stco" }, 0, 0);
    w.u32(ix.chunk_offsets.len() as u32);
    for &o in &ix.chunk_offsets {
        let at = data_start + o;
        if co64 {
            w.u64(at);
        } else {
            let Ok(at) = u32::try_from(at) else {
                bail!("mp4 stco: chunk offset {at} needs co64");
            };
            w.u32(at);
        }
    }
    w.close();
    Ok(())
}

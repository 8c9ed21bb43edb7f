//! One `trak` (ISO/IEC 14496-12 §8.3): its handler, media timescale, edit list and sample tables
//! (`stts` §8.6.1.2, `ctts` §8.6.1.3, `stss` §8.6.2, `stsz`/`stz2` §8.7.3, `stsc` §8.7.4,
//! `stco`/`co64` §8.7.5), kept as the compact run-length tables the file stores; samples are
//! expanded one at a time by [`super::cursor`].

use super::boxes::{BoxError, FourCc, MemBox};
use super::entry::{self, SampleEntry};
use crate::media::{TrackKind, rescale};

/// Sample sizes: one for all, or one per sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Sizes {
    Uniform { size: u32, count: u32 },
    Each(Vec<u32>),
}

impl Sizes {
    pub(crate) fn count(&self) -> u32 {
        match self {
            Sizes::Uniform { count, .. } => *count,
            // Built from a u32 count.
            Sizes::Each(v) => v.len() as u32,
        }
    }

    pub(crate) fn get(&self, i: u32) -> Option<u32> {
        match self {
            Sizes::Uniform { size, count } => (i < *count).then_some(*size),
            Sizes::Each(v) => v.get(i as usize).copied(),
        }
    }
}

/// `stsc` entry: from `first_chunk` (1-based) on, `samples_per_chunk` samples per chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChunkRun {
    pub(crate) first_chunk: u32,
    pub(crate) samples_per_chunk: u32,
}

/// The sample tables of one track, as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tables {
    /// (sample_count, sample_delta)
    pub(crate) stts: Vec<(u32, u32)>,
    /// (sample_count, sample_offset), read as signed in both versions, as ffmpeg does: writers
    /// put negative offsets in version 0 boxes too.
    pub(crate) ctts: Vec<(u32, i32)>,
    /// 1-based sync sample numbers; `None` when `stss` is absent (every sample is a sync sample).
    pub(crate) stss: Option<Vec<u32>>,
    pub(crate) sizes: Option<Sizes>,
    pub(crate) stsc: Vec<ChunkRun>,
    pub(crate) chunk_offsets: Vec<u64>,
    /// Decode time of the first sample, media timescale: 0 for sample tables, the first
    /// `tfdt` for samples from movie fragments ([`super::fragment`]).
    pub(crate) first_dts: i64,
}

/// How the edit list places the media on the movie timeline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct EditMap {
    /// Total of the leading empty edits, movie timescale.
    pub(crate) empty_movie: u64,
    /// media_time of the first media edit, media timescale (0 without an edit list).
    pub(crate) media_time: i64,
    /// Edits after the first media edit (or a media rate other than 1), which are not applied.
    pub(crate) ignored_edits: u32,
    /// Every edit's segment_duration rescaled to the media timescale (each rounded on its own,
    /// as FFmpeg's `mov_fix_index` does) and added up; `None` without an edit.
    pub(crate) span_media: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct Track {
    pub(crate) id: u32,
    pub(crate) handler: FourCc,
    pub kind: Option<TrackKind>,
    pub(crate) timescale: u32,
    /// `mdhd` duration, media timescale.
    pub(crate) duration: u64,
    pub(crate) entry: Option<SampleEntry>,
    /// Number of sample entries in `stsd` (only the first is used).
    pub(crate) entry_count: u32,
    pub(crate) edit: EditMap,
    pub(crate) tables: Tables,
    /// File offset of the `trak` box, for errors.
    pub(crate) offset: u64,
}

impl Track {
    /// Samples in the sample tables (`stsz` / `stz2`, fragments appended).
    pub fn samples(&self) -> u32 {
        self.tables.sizes.as_ref().map_or(0, Sizes::count)
    }

    /// Sync samples; `None` without `stss` (every sample is a sync sample).
    pub fn sync_samples(&self) -> Option<u32> {
        // Built from a u32 count.
        self.tables.stss.as_ref().map(|s| s.len() as u32)
    }

    /// The samples' sizes added up.
    pub fn sample_bytes(&self) -> u64 {
        match &self.tables.sizes {
            Some(Sizes::Uniform { size, count }) => u64::from(*size) * u64::from(*count),
            Some(Sizes::Each(v)) => v.iter().map(|&s| u64::from(s)).sum(),
            None => 0,
        }
    }

    /// The sample durations of `stts` added up, media timescale.
    pub fn stts_duration(&self) -> u64 {
        self.tables
            .stts
            .iter()
            .map(|&(count, delta)| u64::from(count) * u64::from(delta))
            .fold(0, u64::saturating_add)
    }
}

/// Reads one `trak` of a movie whose `mvhd` timescale is `movie_timescale`.
pub(crate) fn read_trak(trak: &MemBox<'_>, movie_timescale: u32) -> Result<Track, BoxError> {
    let tkhd = trak.require(b"tkhd")?;
    let (version, _, mut r) = tkhd.full()?;
    r.versioned(version, "creation_time")?;
    r.versioned(version, "modification_time")?;
    let id = r.u32("track_ID")?;

    let mdia = trak.require(b"mdia")?;
    let mdhd = mdia.require(b"mdhd")?;
    let (version, _, mut r) = mdhd.full()?;
    r.versioned(version, "creation_time")?;
    r.versioned(version, "modification_time")?;
    let timescale = r.u32("timescale")?;
    if timescale == 0 {
        return Err(r.err("timescale", "is 0"));
    }
    let duration = r.versioned(version, "duration")?;

    let hdlr = mdia.require(b"hdlr")?;
    let (_, _, mut r) = hdlr.full()?;
    r.u32("pre_defined")?;
    let mut h = [0u8; 4];
    h.copy_from_slice(r.take(4, "handler_type")?);
    let handler = FourCc(h);
    let kind = match &h {
        b"vide" => Some(TrackKind::Video),
        b"soun" => Some(TrackKind::Audio),
        _ => None,
    };

    let edit = match trak.child(b"edts")? {
        Some(edts) => match edts.child(b"elst")? {
            Some(elst) => read_elst(&elst, timescale, movie_timescale)?,
            None => EditMap::default(),
        },
        None => EditMap::default(),
    };

    let mut track = Track {
        id,
        handler,
        kind,
        timescale,
        duration,
        entry: None,
        entry_count: 0,
        edit,
        tables: Tables::default(),
        offset: trak.header.offset,
    };
    if kind.is_none() {
        // Hint, text and metadata tracks: listed, never read.
        return Ok(track);
    }
    let stbl = mdia.require(b"minf")?.require(b"stbl")?;
    let stsd = stbl.require(b"stsd")?;
    let (_, _, mut r) = stsd.full()?;
    track.entry_count = r.u32("entry_count")?;
    // The first sample entry follows version/flags and entry_count; the others are not used.
    if track.entry_count > 0
        && let Some(first) = stsd.children_at(8).next().transpose()?
    {
        track.entry = Some(entry::read_entry(&first, kind)?);
    }
    track.tables = read_tables(&stbl)?;
    Ok(track)
}

/// §8.6.6: leading empty edits (media_time −1) shift the track; the first media edit's
/// media_time says which media time presents at that point.
fn read_elst(
    elst: &MemBox<'_>,
    media_timescale: u32,
    movie_timescale: u32,
) -> Result<EditMap, BoxError> {
    let (version, _, mut r) = elst.full()?;
    let entry_len = if version == 1 { 20 } else { 12 };
    let n = r.count(entry_len, "entry_count")?;
    let mut map = EditMap::default();
    let mut media_seen = false;
    for _ in 0..n {
        let duration = r.versioned(version, "segment_duration")?;
        let media_time = if version == 1 {
            r.u64("media_time")? as i64
        } else {
            i64::from(r.u32("media_time")? as i32)
        };
        let rate = r.u32("media_rate")?;
        let span = map.span_media.unwrap_or(0);
        map.span_media = Some(span.saturating_add(rescale(
            duration,
            u64::from(media_timescale),
            u64::from(movie_timescale),
        )));
        if media_seen {
            map.ignored_edits += 1;
        } else if media_time == -1 {
            map.empty_movie = map.empty_movie.saturating_add(duration);
        } else {
            media_seen = true;
            map.media_time = media_time.max(0);
            if rate != 0x0001_0000 {
                map.ignored_edits += 1;
            }
        }
    }
    Ok(map)
}

fn read_tables(stbl: &MemBox<'_>) -> Result<Tables, BoxError> {
    let mut t = Tables::default();
    if let Some(b) = stbl.child(b"stts")? {
        let (_, _, mut r) = b.full()?;
        let n = r.count(8, "entry_count")?;
        t.stts = (0..n)
            .map(|_| Ok((r.u32("sample_count")?, r.u32("sample_delta")?)))
            .collect::<Result<_, BoxError>>()?;
    }
    if let Some(b) = stbl.child(b"ctts")? {
        let (_, _, mut r) = b.full()?;
        let n = r.count(8, "entry_count")?;
        t.ctts = (0..n)
            .map(|_| Ok((r.u32("sample_count")?, r.u32("sample_offset")? as i32)))
            .collect::<Result<_, BoxError>>()?;
    }
    if let Some(b) = stbl.child(b"stss")? {
        let (_, _, mut r) = b.full()?;
        let n = r.count(4, "entry_count")?;
        t.stss = Some(
            (0..n)
                .map(|_| r.u32("sample_number"))
                .collect::<Result<_, _>>()?,
        );
    }
    if let Some(b) = stbl.child(b"stsz")? {
        let (_, _, mut r) = b.full()?;
        let size = r.u32("sample_size")?;
        t.sizes = Some(if size != 0 {
            Sizes::Uniform {
                size,
                count: r.u32("sample_count")?,
            }
        } else {
            let n = r.count(4, "sample_count")?;
            Sizes::Each(
                (0..n)
                    .map(|_| r.u32("entry_size"))
                    .collect::<Result<_, _>>()?,
            )
        });
    } else if let Some(b) = stbl.child(b"stz2")? {
        t.sizes = Some(read_stz2(&b)?);
    }
    if let Some(b) = stbl.child(b"stsc")? {
        let (_, _, mut r) = b.full()?;
        let n = r.count(12, "entry_count")?;
        t.stsc = (0..n)
            .map(|_| {
                let first_chunk = r.u32("first_chunk")?;
                let samples_per_chunk = r.u32("samples_per_chunk")?;
                r.u32("sample_description_index")?;
                Ok(ChunkRun {
                    first_chunk,
                    samples_per_chunk,
                })
            })
            .collect::<Result<_, BoxError>>()?;
    }
    if let Some(b) = stbl.child(b"stco")? {
        let (_, _, mut r) = b.full()?;
        let n = r.count(4, "entry_count")?;
        t.chunk_offsets = (0..n)
            .map(|_| r.u32("chunk_offset").map(u64::from))
            .collect::<Result<_, _>>()?;
    } else if let Some(b) = stbl.child(b"co64")? {
        let (_, _, mut r) = b.full()?;
        let n = r.count(8, "entry_count")?;
        t.chunk_offsets = (0..n)
            .map(|_| r.u64("chunk_offset"))
            .collect::<Result<_, _>>()?;
    }
    Ok(t)
}

/// §8.7.3.3 compact sample sizes: 4, 8 or 16 bits each.
fn read_stz2(b: &MemBox<'_>) -> Result<Sizes, BoxError> {
    let (_, _, mut r) = b.full()?;
    r.skip(3, "reserved")?;
    let field_size = r.u8("field_size")?;
    let n = r.u32("sample_count")? as usize;
    let bytes = match field_size {
        4 => n.div_ceil(2),
        8 => n,
        16 => n.saturating_mul(2),
        other => return Err(r.err("field_size", format!("{other}, expected 4, 8 or 16"))),
    };
    let data = r.take(bytes, "entry_size")?;
    let sizes = (0..n)
        .map(|i| match field_size {
            4 => u32::from(if i % 2 == 0 {
                data[i / 2] >> 4
            } else {
                data[i / 2] & 0x0F
            }),
            8 => u32::from(data[i]),
            _ => u32::from(u16::from_be_bytes([data[2 * i], data[2 * i + 1]])),
        })
        .collect();
    Ok(Sizes::Each(sizes))
}

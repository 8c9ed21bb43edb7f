//! Walks one track's sample tables sample by sample (ISO/IEC 14496-12 §8.6–8.7): decode time
//! from `stts`, composition offset from `ctts`, sync flag from `stss`, size from `stsz`, and file
//! offset from `stsc` + `stco`/`co64`. Only a few counters are kept, so memory stays that of the
//! tables themselves whatever the sample count.

use super::track::Tables;

/// One sample, in its track's media timescale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sample {
    /// 0-based sample number.
    pub(crate) number: u32,
    pub(crate) offset: u64,
    pub(crate) size: u32,
    pub(crate) dts: i64,
    pub(crate) cts: i32,
    pub(crate) sync: bool,
}

/// Where the tables disagree; the samples before it stand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TableError {
    /// `stsc`/`stco` place fewer samples than `stsz` counts.
    NoChunk { sample: u32 },
    /// A sample's offset plus size overflows.
    BadOffset { sample: u32 },
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Cursor {
    next: u32,
    dts: i64,
    stts_i: usize,
    stts_left: u32,
    ctts_i: usize,
    ctts_left: u32,
    stss_i: usize,
    /// 0-based index of the current chunk; `None` before the first.
    chunk: Option<usize>,
    stsc_i: usize,
    left_in_chunk: u32,
    next_offset: u64,
    /// `stts` ran out before the samples did (their decode delta is taken as 0).
    pub(crate) stts_short: bool,
}

impl Cursor {
    pub(crate) fn new(t: &Tables) -> Cursor {
        Cursor {
            stts_left: t.stts.first().map_or(0, |e| e.0),
            ctts_left: t.ctts.first().map_or(0, |e| e.0),
            dts: t.first_dts,
            ..Cursor::default()
        }
    }

    /// The next sample, `Ok(None)` after the last.
    pub(crate) fn next(&mut self, t: &Tables) -> Result<Option<Sample>, TableError> {
        let Some(sizes) = &t.sizes else {
            return Ok(None);
        };
        let number = self.next;
        let Some(size) = sizes.get(number) else {
            return Ok(None);
        };
        if self.left_in_chunk == 0 {
            self.next_chunk(t, number)?;
        }
        let offset = self.next_offset;
        self.next_offset = offset
            .checked_add(u64::from(size))
            .ok_or(TableError::BadOffset { sample: number })?;
        self.left_in_chunk -= 1;

        let dts = self.dts;
        self.dts = self.dts.saturating_add(i64::from(self.delta(t)));
        let cts = self.offset(t);
        let sync = match &t.stss {
            None => true,
            Some(stss) => {
                while stss.get(self.stss_i).is_some_and(|&s| s <= number) {
                    self.stss_i += 1;
                }
                stss.get(self.stss_i).is_some_and(|&s| s == number + 1)
            }
        };
        self.next += 1;
        Ok(Some(Sample {
            number,
            offset,
            size,
            dts,
            cts,
            sync,
        }))
    }

    /// Moves to the next chunk holding at least one sample.
    fn next_chunk(&mut self, t: &Tables, number: u32) -> Result<(), TableError> {
        loop {
            let chunk = self.chunk.map_or(0, |c| c + 1);
            self.chunk = Some(chunk);
            let Some(&offset) = t.chunk_offsets.get(chunk) else {
                return Err(TableError::NoChunk { sample: number });
            };
            // stsc first_chunk is 1-based; chunk + 1 fits u32 as chunk_offsets came from a u32 count.
            let chunk_1 = chunk as u32 + 1;
            while t
                .stsc
                .get(self.stsc_i + 1)
                .is_some_and(|r| r.first_chunk <= chunk_1)
            {
                self.stsc_i += 1;
            }
            let per_chunk = match t.stsc.get(self.stsc_i) {
                Some(r) if r.first_chunk <= chunk_1 => r.samples_per_chunk,
                _ => 0,
            };
            if per_chunk > 0 {
                self.left_in_chunk = per_chunk;
                self.next_offset = offset;
                return Ok(());
            }
        }
    }

    fn delta(&mut self, t: &Tables) -> u32 {
        while self.stts_left == 0 {
            self.stts_i += 1;
            match t.stts.get(self.stts_i) {
                Some(e) => self.stts_left = e.0,
                None => {
                    self.stts_short = true;
                    return 0;
                }
            }
        }
        self.stts_left -= 1;
        t.stts.get(self.stts_i).map_or(0, |e| e.1)
    }

    fn offset(&mut self, t: &Tables) -> i32 {
        while self.ctts_left == 0 {
            self.ctts_i += 1;
            match t.ctts.get(self.ctts_i) {
                Some(e) => self.ctts_left = e.0,
                None => return 0,
            }
        }
        self.ctts_left -= 1;
        t.ctts.get(self.ctts_i).map_or(0, |e| e.1)
    }
}

#[cfg(test)]
mod tests {
    use super::super::track::{ChunkRun, Sizes};
    use super::*;

    #[test]
    fn walks_runs_chunks_and_sync_samples() {
        let t = Tables {
            first_dts: 0,
            stts: vec![(2, 10), (0, 99), (1, 20)],
            ctts: vec![(1, 5), (2, -5)],
            stss: Some(vec![1, 3]),
            sizes: Some(Sizes::Each(vec![3, 4, 5, 6])),
            stsc: vec![
                ChunkRun {
                    first_chunk: 1,
                    samples_per_chunk: 2,
                },
                ChunkRun {
                    first_chunk: 2,
                    samples_per_chunk: 0,
                },
                ChunkRun {
                    first_chunk: 3,
                    samples_per_chunk: 1,
                },
            ],
            chunk_offsets: vec![100, 999, 200, 300],
        };
        let mut c = Cursor::new(&t);
        let mut got = Vec::new();
        while let Some(s) = c.next(&t).unwrap() {
            got.push((s.offset, s.size, s.dts, s.cts, s.sync));
        }
        assert_eq!(
            got,
            [
                (100, 3, 0, 5, true),
                (103, 4, 10, -5, false),
                (200, 5, 20, -5, true),
                (300, 6, 40, 0, false),
            ]
        );
        assert!(c.stts_short);
    }

    #[test]
    fn missing_chunks_are_reported() {
        let t = Tables {
            first_dts: 0,
            sizes: Some(Sizes::Uniform {
                size: 1,
                count: u32::MAX,
            }),
            stsc: vec![ChunkRun {
                first_chunk: 1,
                samples_per_chunk: 2,
            }],
            chunk_offsets: vec![u64::MAX - 1],
            ..Tables::default()
        };
        let mut c = Cursor::new(&t);
        assert!(c.next(&t).unwrap().is_some());
        assert_eq!(c.next(&t), Err(TableError::BadOffset { sample: 1 }));
        let t = Tables {
            first_dts: 0,
            chunk_offsets: vec![0],
            ..t
        };
        let mut c = Cursor::new(&t);
        c.next(&t).unwrap();
        c.next(&t).unwrap();
        assert_eq!(c.next(&t), Err(TableError::NoChunk { sample: 2 }));
    }
}

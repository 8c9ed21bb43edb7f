//! Helpers shared by the fuzz targets in `fuzz_targets/`: a reader that delivers the input in
//! short reads (so buffer refills are exercised at every boundary), and the invariants every
//! input reader must keep whatever the bytes (README "Bad input, crashes, full disks").

use std::io::{self, Read};

use kls_rec::media::{Damage, Packet, Track};

/// Largest input the stream targets need: bigger ones only slow the fuzzer down.
pub const MAX_INPUT: usize = 1 << 20;

/// Reads a byte slice in pieces of at most `chunk` bytes, and answers every third read with
/// `Interrupted`, as a pipe or a signal-interrupted `read(2)` may.
pub struct ChunkedReader<'a> {
    data: &'a [u8],
    chunk: usize,
    reads: u64,
}

impl<'a> ChunkedReader<'a> {
    /// The piece size is derived from the input's length, so a crash reproduces from the input
    /// file alone and fixture-derived seeds need no prefix byte. One-byte pieces only for small
    /// inputs: a read per byte of a 64 KiB input would slow fuzzing more than it finds.
    pub fn new(data: &'a [u8]) -> ChunkedReader<'a> {
        let small = if data.len() <= 4096 { 1 } else { 1021 };
        let chunks = [usize::MAX, usize::MAX, 4096, 509, small];
        ChunkedReader {
            data,
            chunk: chunks[data.len() % chunks.len()],
            reads: 0,
        }
    }
}

impl Read for ChunkedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        if self.chunk != usize::MAX && self.reads % 3 == 0 {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let n = buf.len().min(self.chunk).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// The byte offset a damage report names.
pub fn damage_offset(d: &Damage) -> u64 {
    match d {
        Damage::Skipped { offset, .. }
        | Damage::Truncated { offset, .. }
        | Damage::Discontinuity { offset, .. }
        | Damage::Dropped { offset, .. } => *offset,
    }
}

/// Panics (a finding) unless a position of the capture/stream readers lies within an input of
/// `len` bytes (the end itself included).
pub fn check_position(p: &kls_rec::input::rtmp::Position, len: usize) {
    assert!(
        p.input_offset <= len as u64,
        "position {} beyond a {len}-byte input",
        p.input_offset
    );
}

/// Panics (a finding) unless a damage report points inside an input of `len` bytes; a
/// truncation may point at the end itself. A skipped range must end within the input too.
pub fn check_damage(d: &Damage, len: usize) {
    let len = len as u64;
    let offset = damage_offset(d);
    assert!(
        offset <= len,
        "damage at byte {offset} beyond a {len}-byte input: {d}"
    );
    if let Damage::Skipped { offset, len: n, .. } = d {
        assert!(
            offset.checked_add(*n).is_some_and(|end| end <= len),
            "skipped range {offset}+{n} beyond a {len}-byte input: {d}"
        );
    }
    // Rendering the report must not panic either.
    let _ = d.to_string();
}

/// The last DTS of each track: a reader's packets never go back in decode time per track.
#[derive(Debug, Default)]
pub struct DtsOrder(std::collections::HashMap<Track, i64>);

impl DtsOrder {
    /// Panics (a finding) when `p` decodes before the previous packet of its track.
    pub fn check(&mut self, p: &Packet) {
        let last = self.0.entry(p.track).or_insert(i64::MIN);
        assert!(
            p.dts_90k >= *last,
            "{} DTS went back from {} to {}",
            p.track,
            *last,
            p.dts_90k
        );
        *last = p.dts_90k;
    }
}

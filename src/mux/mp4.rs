//! The MP4 recording writer (`Format::Mp4`, SPEC §3): ISO/IEC 14496-12 (ISO base media file
//! format) with ISO/IEC 14496-14 (MP4) and ISO/IEC 14496-15 (AVC/HEVC carriage), faststart
//! layout, payloads and decoder configuration bytes carried over unchanged.
//!
//! ```text
//! ftyp                      isom, minor 512, compatible isom iso2 [avc1] mp41 [iso4]
//! moov
//!   mvhd                    times from the recording start (1904 epoch), never "now"
//!   trak                    video first (track_ID 1), then audio; only configured tracks
//!     tkhd
//!     edts/elst             when the track presents from a PTS other than movie time 0
//!     mdia/mdhd, hdlr
//!     mdia/minf/vmhd|smhd, dinf/dref/url
//!     mdia/minf/stbl
//!       stsd                avc1+avcC | hvc1+hvcC (source record) | mp4a+esds (source ASC)
//!       stts ctts stss      decode deltas, composition offsets, keyframes
//!       stsc stsz stco|co64 chunking, sizes, offsets (co64 once one passes 4 GiB)
//! mdat                      64-bit largesize when over 4 GiB
//! ```
//!
//! Boxes are written here rather than with a crate: the `mp4` crate rebuilds avcC and the
//! AudioSpecificConfig and writes no edit lists (DEPENDENCIES.md), and `mp4-atom` would still
//! leave the sample tables and layout to us; the boxes themselves are ~300 lines more, and
//! owning them gives deterministic bytes with no young API pinned. Packets stream into a
//! [`Spool`] while only the sample index stays in memory; [`Muxer::finish`] writes `ftyp` +
//! `moov` (its chunk offsets computed knowing its own size) + the `mdat` header, then copies the
//! spool after them into an [`OutFile`].
//!
//! Chunks follow arrival order: a new chunk starts when the track changes, or when the current
//! one spans half a second of decode time or 1 MiB, so audio and video interleave as they were
//! pushed and a player never seeks far between them.
//!
//! Timescales: each track uses 1000 when every DTS and composition offset is a whole
//! millisecond (FLV and RTMP sources), else 90000, so every timestamp survives exactly; the
//! movie uses 1000 when all tracks do. See [`plan`] for the edit lists. Composition offsets
//! are written as received (`ctts` version 1 when one is negative), except when a sample would
//! present before the track's first decode time, which no edit can express: then every offset
//! of that track is raised by the same amount, so presentation times are still exact.

use std::io::Write;

use anyhow::{Context, Result, bail};

use super::{FileClose, FileOpen, Format, Muxer, Produced, SessionStart};
use crate::media::{CodecConfig, Packet, TrackKind, VideoCodec};
use crate::sink::local::{OutFile, Outcome, Spool};

mod bmff;
mod index;
mod moov;
mod plan;
mod stsd;
#[cfg(test)]
mod tests;

use index::{IndexError, TrackIndex};
use plan::{Entry, MoviePlan};

/// Version of the bytes this writer produces. Bump it whenever any output byte changes for the
/// same input, so a changed ETag is always deliberate.
pub const FORMAT_VERSION: u32 = 1;

/// A chunk closes once it spans this much decode time…
const CHUNK_MAX_90K: i64 = 45_000;
/// …or holds this many bytes.
const CHUNK_MAX_BYTES: u64 = 1 << 20;

/// The chunk being filled in the spool.
struct OpenChunk {
    track: TrackKind,
    start_dts_90k: i64,
    bytes: u64,
}

pub struct Mp4Muxer {
    dir: std::path::PathBuf,
    start_time_s: i64,
    config: CodecConfig,
    video: Option<TrackIndex>,
    audio: Option<TrackIndex>,
    chunk: Option<OpenChunk>,
    spool: Spool,
}

impl Mp4Muxer {
    pub fn open(file: &FileOpen<'_>) -> Result<Mp4Muxer> {
        if file.config.video.is_none() && file.config.audio.is_none() {
            bail!("mp4: the file has neither a video nor an audio configuration");
        }
        Ok(Mp4Muxer {
            dir: file.dir.to_path_buf(),
            start_time_s: file.start_time_s,
            config: file.config.clone(),
            video: file
                .config
                .video
                .as_ref()
                .map(|_| TrackIndex::new(TrackKind::Video)),
            audio: file
                .config
                .audio
                .as_ref()
                .map(|_| TrackIndex::new(TrackKind::Audio)),
            chunk: None,
            spool: Spool::create(file.dir, file.stream_name)?,
        })
    }

    /// The `ftyp` box (ISO/IEC 14496-12 §4.3), with the brands ffmpeg writes for MP4.
    fn ftyp(&self, negative_offsets: bool) -> Result<Vec<u8>> {
        let mut w = bmff::BoxWriter::new();
        w.open(b"ftyp");
        w.bytes(b"isom"); // major_brand
        w.u32(0x200); // minor_version
        w.bytes(b"isom");
        w.bytes(b"iso2");
        if matches!(&self.config.video, Some(v) if v.codec == VideoCodec::H264) {
            w.bytes(b"avc1");
        }
        w.bytes(b"mp41");
        if negative_offsets {
            // ctts version 1 (negative composition offsets) is an iso4 feature.
            w.bytes(b"iso4");
        }
        w.close();
        w.finish()
    }
}

impl Muxer for Mp4Muxer {
    fn begin_session(&mut self, _session: &SessionStart) -> Result<()> {
        // A spliced session continues the file's timeline: nothing in MP4 marks the join.
        Ok(())
    }

    fn write(&mut self, packet: &Packet) -> Result<()> {
        let Some(index) = (match packet.track {
            TrackKind::Video => self.video.as_mut(),
            TrackKind::Audio => self.audio.as_mut(),
        }) else {
            bail!(
                "mp4: {} packet but the file has no {} configuration",
                packet.track,
                packet.track
            );
        };
        let size = u32::try_from(packet.data.len()).map_err(|_| {
            anyhow::anyhow!(
                "mp4: {} packet of {} bytes exceeds 4 GiB",
                packet.track,
                packet.data.len()
            )
        })?;
        let new_chunk = match &self.chunk {
            Some(c) => {
                c.track != packet.track
                    || packet.dts_90k.saturating_sub(c.start_dts_90k) >= CHUNK_MAX_90K
                    || c.bytes >= CHUNK_MAX_BYTES
            }
            None => true,
        };
        let offset = self.spool.len();
        index
            .push(
                packet.dts_90k,
                packet.cts_90k,
                packet.keyframe,
                size,
                new_chunk.then_some(offset),
            )
            .map_err(|e| index_error(packet.track, index.count(), e))?;
        if new_chunk {
            self.chunk = Some(OpenChunk {
                track: packet.track,
                start_dts_90k: packet.dts_90k,
                bytes: 0,
            });
        }
        if let Some(c) = self.chunk.as_mut() {
            c.bytes += u64::from(size);
        }
        self.spool
            .write_all(&packet.data)
            .context("mp4: spooling media data")?;
        Ok(())
    }

    fn finish(mut self: Box<Self>, close: &FileClose) -> Result<Produced> {
        for t in self.video.iter_mut().chain(self.audio.iter_mut()) {
            t.seal();
        }
        let payload_len = self.spool.len();
        // §4.2: size 1 announces a 64-bit largesize after the type.
        let mdat_header_len: u64 = if payload_len + 8 > u64::from(u32::MAX) {
            16
        } else {
            8
        };

        let mut tracks = Vec::new();
        if let (Some(t), Some(v)) = (&self.video, &self.config.video) {
            tracks.push((t, Entry::Video(v)));
        }
        if let (Some(t), Some(a)) = (&self.audio, &self.config.audio) {
            tracks.push((t, Entry::Audio(a)));
        }
        let plan = MoviePlan::new(tracks, self.start_time_s);
        let ftyp = self.ftyp(plan.negative_offsets())?;

        // The moov's size does not depend on the offsets it holds, only on their width.
        let head_len = |moov_len: usize| (ftyp.len() + moov_len) as u64 + mdat_header_len;
        let last_chunk = plan
            .tracks
            .iter()
            .filter_map(|t| t.index.chunk_offsets.last().copied())
            .max()
            .unwrap_or(0);
        let fits_u32 = |at: u64| at <= u64::from(u32::MAX);
        let mut co64 = !fits_u32(last_chunk);
        let mut moov_len = moov::write_moov(&plan, 0, co64)?.len();
        if !co64 && !fits_u32(last_chunk + head_len(moov_len)) {
            co64 = true;
            moov_len = moov::write_moov(&plan, 0, true)?.len();
        }
        let moov = moov::write_moov(&plan, head_len(moov_len), co64)?;
        drop(plan);

        let name = format!("{}.{}", close.base_name, Format::Mp4.extension());
        let mut out = OutFile::create(&self.dir, &close.base_name)?;
        let write_head = |out: &mut OutFile| -> std::io::Result<()> {
            out.write_all(&ftyp)?;
            out.write_all(&moov)?;
            if mdat_header_len == 16 {
                out.write_all(&1u32.to_be_bytes())?;
                out.write_all(b"mdat")?;
                out.write_all(&(payload_len + 16).to_be_bytes())?;
            } else {
                out.write_all(&((payload_len + 8) as u32).to_be_bytes())?;
                out.write_all(b"mdat")?;
            }
            Ok(())
        };
        write_head(&mut out).with_context(|| format!("writing {}", out.temp_path().display()))?;
        self.spool.copy_to(&mut out)?;
        let committed = out.commit(&self.dir.join(name))?;
        Ok(Produced {
            format: Format::Mp4,
            path: committed.path,
            size: committed.size,
            md5: committed.md5,
            parts: Vec::new(),
            total_size: committed.size,
            written: committed.outcome == Outcome::Written,
        })
    }
}

fn index_error(track: TrackKind, sample: u32, e: IndexError) -> anyhow::Error {
    let n = u64::from(sample) + 1;
    match e {
        IndexError::DtsBackwards { from_90k, to_90k } => anyhow::anyhow!(
            "mp4: {track} sample {n}: dts_90k {to_90k} is before the previous {from_90k}"
        ),
        IndexError::DeltaTooLarge { delta_90k } => anyhow::anyhow!(
            "mp4: {track} sample {n}: decode delta of {delta_90k} (90 kHz) exceeds the 32-bit stts field"
        ),
        IndexError::DtsOutOfRange { dts_90k } => {
            anyhow::anyhow!("mp4: {track} sample {n}: dts_90k {dts_90k} is out of range")
        }
        IndexError::TooManySamples => {
            anyhow::anyhow!("mp4: {track} track exceeds 2^32 samples")
        }
    }
}

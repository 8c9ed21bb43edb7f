//! HLS recording writer (`Format::Hls`, README "Outputs"): a VOD media playlist (RFC 8216 §4.3)
//! and its media segments, MPEG-TS (§3.2, written by [`super::ts`]) or fragmented MP4 (§3.3,
//! [`fmp4`]), behind one [`SegmentWriter`] trait; `--hls-segments` chooses ([`segment`]).
//!
//! ```text
//! {dir}/{base_name}.m3u8                   written at finish, atomically
//! {dir}/{stream}-{start_time_s}-init.mp4   fMP4 only: the init segment (EXT-X-MAP)
//! {dir}/{stream}-{start_time_s}-{seq}.ts   one per segment (.m4s for fMP4), committed as each
//!                                          closes, seq from 0 (from the previous file's next
//!                                          number where that file started in the same second,
//!                                          and then `…-{seq}-init.mp4`)
//! ```
//!
//! A segment is cut at the first video keyframe (any packet when the file has no video) whose DTS
//! is at least `hls_segment_90k` after the segment's first DTS, and before the first packet of a
//! spliced session, which also gets `EXT-X-DISCONTINUITY`. Every TS segment opens with PAT and
//! PMT. `EXTINF` is the distance from the segment's first DTS to the next segment's (the last one
//! to the end of its last packet: last DTS plus that track's last DTS step); the program date-time
//! is the session's wall clock plus the media time since the session began. Nothing depends on
//! "now": two runs give identical bytes. A short TS segment is padded with null packets so that
//! ffmpeg probes it as MPEG-TS (see [`super::ts`]). A file's codec configuration is the same in
//! every session it holds (a change opens a new file), so one init segment serves the playlist.
//!
//! If writing fails midway, segments already committed stay (complete files); without a playlist
//! they are not a recording, and a re-run rewrites the same bytes.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::ts::TsWriter;
use super::{FileClose, FileOpen, Format, Muxer, Produced, SessionStart};
use crate::media::{Packet, Track, TrackKind};
use crate::sink::local::{OutFile, Outcome, PlainFile};

pub(crate) mod fmp4;
mod playlist;
pub(crate) mod segment;
#[cfg(test)]
mod tests;

pub use segment::SegmentChoice;
pub(crate) use segment::{SegmentFormat, SegmentWriter};

/// Version of the bytes this writer produces (playlist and segments); bumped whenever they
/// change, so changed outputs are always deliberate (`tests/golden.rs` holds it to that).
pub const FORMAT_VERSION: u32 = 6;

/// The segment being written.
struct OpenSegment {
    /// No MD5: no callback carries a segment's ETag.
    file: PlainFile,
    name: String,
    first_dts_90k: i64,
    wall_ms: i64,
    discontinuity: bool,
}

/// A committed segment.
struct ClosedSegment {
    name: String,
    path: PathBuf,
    size: u64,
    first_dts_90k: i64,
    wall_ms: i64,
    discontinuity: bool,
    written: bool,
}

/// Where a track's last packet ends: its DTS plus the last step between two of its DTS.
#[derive(Clone, Copy, Default)]
struct TrackEnd {
    last_dts_90k: Option<i64>,
    step_90k: i64,
}

impl TrackEnd {
    fn push(&mut self, dts_90k: i64) {
        if let Some(last) = self.last_dts_90k
            && dts_90k > last
        {
            self.step_90k = dts_90k.saturating_sub(last);
        }
        self.last_dts_90k = Some(dts_90k);
    }

    fn end_90k(&self) -> Option<i64> {
        self.last_dts_90k.map(|d| d.saturating_add(self.step_90k))
    }
}

pub(crate) struct HlsMuxer {
    dir: PathBuf,
    stream_name: String,
    start_time_s: i64,
    /// The number of the first segment (see [`FileOpen::first_segment`]).
    first_segment: usize,
    segment_target_90k: i64,
    /// Cut only at video keyframes (the file has video).
    cut_at_keyframes: bool,
    segments: Box<dyn SegmentWriter>,
    /// The committed init segment, once the first media segment opened (fMP4).
    init: Option<ClosedSegment>,
    session: Option<SessionStart>,
    /// The next segment starts a spliced session.
    discontinuity_pending: bool,
    open: Option<OpenSegment>,
    closed: Vec<ClosedSegment>,
    video_end: TrackEnd,
    audio_end: TrackEnd,
}

impl HlsMuxer {
    pub(crate) fn open(file: &FileOpen<'_>) -> Result<HlsMuxer> {
        if file.options.hls_segment_90k <= 0 {
            bail!(
                "the HLS segment length must be positive (got {} ms)",
                crate::media::to_ms(file.options.hls_segment_90k)
            );
        }
        let segments: Box<dyn SegmentWriter> = match file.options.hls_segments.resolve(file.config)
        {
            SegmentFormat::Ts => {
                Box::new(TsWriter::new(file.config).context("preparing the MPEG-TS streams")?)
            }
            SegmentFormat::Fmp4 => Box::new(
                fmp4::Fmp4Segments::new(file.config, file.start_time_s)
                    .context("preparing the fMP4 init segment")?,
            ),
        };
        Ok(HlsMuxer {
            dir: file.dir.to_path_buf(),
            stream_name: file.stream_name.to_string(),
            start_time_s: file.start_time_s,
            first_segment: file.first_segment,
            segment_target_90k: file.options.hls_segment_90k,
            cut_at_keyframes: file.config.video.is_some(),
            segments,
            init: None,
            session: None,
            discontinuity_pending: false,
            open: None,
            closed: Vec::new(),
            video_end: TrackEnd::default(),
            audio_end: TrackEnd::default(),
        })
    }

    fn segment_name(&self, seq: usize) -> String {
        let ext = self.segments.extension();
        format!("{}-{}-{seq}.{ext}", self.stream_name, self.start_time_s)
    }

    /// Commits the init segment before the first media segment, for formats that have one.
    fn write_init(&mut self) -> Result<()> {
        let Some(bytes) = self.segments.init_segment().filter(|_| self.init.is_none()) else {
            return Ok(());
        };
        // A file whose segments do not start at 0 shares its start second with the stream's
        // previous file: its first segment's number keeps the init segments apart too.
        let name = match self.first_segment {
            0 => format!("{}-{}-init.mp4", self.stream_name, self.start_time_s),
            n => format!("{}-{}-{n}-init.mp4", self.stream_name, self.start_time_s),
        };
        let path = self.dir.join(&name);
        let mut file = PlainFile::create(&self.dir, &name)?;
        std::io::Write::write_all(&mut file, bytes)
            .with_context(|| format!("writing {}", path.display()))?;
        let size = file.len();
        let outcome = file.commit(&path)?;
        self.init = Some(ClosedSegment {
            name,
            path,
            size,
            first_dts_90k: 0,
            wall_ms: 0,
            discontinuity: false,
            written: outcome == Outcome::Written,
        });
        Ok(())
    }

    fn starts_segment(&self, packet: &Packet) -> bool {
        let Some(open) = &self.open else {
            return true;
        };
        let cut_point = !self.cut_at_keyframes || packet.track == Track::VIDEO && packet.keyframe;
        cut_point && packet.dts_90k.saturating_sub(open.first_dts_90k) >= self.segment_target_90k
    }

    fn open_segment(&mut self, packet: &Packet, session: &SessionStart) -> Result<()> {
        self.write_init()?;
        let name = self.segment_name(self.first_segment + self.closed.len());
        let mut file = PlainFile::create(&self.dir, &name)?;
        self.segments
            .start_segment(&mut file)
            .with_context(|| format!("writing {}", self.dir.join(&name).display()))?;
        // Rounded to the nearest millisecond; FLV/RTMP times are whole milliseconds anyway.
        let since_session_ms = (packet.dts_90k.saturating_sub(session.file_dts_90k))
            .saturating_add(45)
            .div_euclid(90);
        self.open = Some(OpenSegment {
            file,
            name,
            first_dts_90k: packet.dts_90k,
            wall_ms: session.wall_ms.saturating_add(since_session_ms),
            discontinuity: std::mem::take(&mut self.discontinuity_pending),
        });
        Ok(())
    }

    fn close_segment(&mut self) -> Result<()> {
        let Some(mut seg) = self.open.take() else {
            return Ok(());
        };
        let path = self.dir.join(&seg.name);
        self.segments
            .end_segment(&mut seg.file)
            .with_context(|| format!("writing {}", path.display()))?;
        let size = seg.file.len();
        let outcome = seg.file.commit(&path)?;
        self.closed.push(ClosedSegment {
            name: seg.name,
            path,
            size,
            first_dts_90k: seg.first_dts_90k,
            wall_ms: seg.wall_ms,
            discontinuity: seg.discontinuity,
            written: outcome == Outcome::Written,
        });
        Ok(())
    }

    /// Playlist entries: each segment lasts until the next one's first DTS, the last until the
    /// end of the file's last packet.
    fn entries(&self) -> Vec<playlist::Entry> {
        let end_90k = [self.video_end.end_90k(), self.audio_end.end_90k()]
            .into_iter()
            .flatten()
            .max();
        self.closed
            .iter()
            .enumerate()
            .map(|(i, seg)| {
                let next_90k = match self.closed.get(i + 1) {
                    Some(next) => next.first_dts_90k,
                    None => end_90k.unwrap_or(seg.first_dts_90k),
                };
                playlist::Entry {
                    uri: seg.name.clone(),
                    duration_ms: next_90k
                        .saturating_sub(seg.first_dts_90k)
                        .saturating_add(45)
                        .div_euclid(90),
                    program_date_time_ms: seg.wall_ms,
                    discontinuity: seg.discontinuity,
                }
            })
            .collect()
    }
}

impl Muxer for HlsMuxer {
    fn begin_session(&mut self, session: &SessionStart) -> Result<()> {
        let has_media = self.open.is_some() || !self.closed.is_empty();
        if session.spliced && has_media {
            self.close_segment()?;
            self.discontinuity_pending = true;
        }
        self.session = Some(session.clone());
        Ok(())
    }

    fn write(&mut self, packet: &Packet) -> Result<()> {
        let Some(session) = self.session.clone() else {
            bail!("HLS writer: a packet arrived before its push session began");
        };
        if self.starts_segment(packet) {
            self.close_segment()?;
            self.open_segment(packet, &session)?;
        }
        let Some(seg) = self.open.as_mut() else {
            bail!("HLS writer: no segment is open");
        };
        self.segments
            .write_packet(packet, &mut seg.file)
            .with_context(|| format!("writing {}", self.dir.join(&seg.name).display()))?;
        match (packet.track.kind, packet.track.index) {
            (TrackKind::Video, _) => self.video_end.push(packet.dts_90k),
            (TrackKind::Audio, 0) => self.audio_end.push(packet.dts_90k),
            // The first audio track stands for the others, which end with it.
            (TrackKind::Audio, 1..) => {}
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>, close: &FileClose) -> Result<Produced> {
        self.close_segment()?;
        let path = self
            .dir
            .join(format!("{}.{}", close.base_name, Format::Hls.extension()));
        if self.closed.is_empty() {
            bail!("{}: the recording has no packets", path.display());
        }
        let map = self.init.as_ref().map(|i| i.name.as_str());
        let text = playlist::render(&self.entries(), map);
        let committed = write_playlist(&self.dir, &close.base_name, &path, text.as_bytes())?;
        // The init segment first: uploaded, like every segment, before the playlist.
        let parts: Vec<&ClosedSegment> = self.init.iter().chain(&self.closed).collect();
        let parts_size: u64 = parts.iter().map(|s| s.size).sum();
        Ok(Produced {
            format: Format::Hls,
            path,
            size: committed.size,
            md5: committed.md5,
            parts: parts.iter().map(|s| s.path.clone()).collect(),
            total_size: committed.size + parts_size,
            written: committed.outcome == Outcome::Written || parts.iter().any(|s| s.written),
            next_segment: self.first_segment + self.closed.len(),
        })
    }
}

fn write_playlist(
    dir: &Path,
    base_name: &str,
    path: &Path,
    text: &[u8],
) -> Result<crate::sink::local::Committed> {
    use std::io::Write;
    let mut file = OutFile::create(dir, base_name)?;
    file.write_all(text)
        .with_context(|| format!("writing {}", file.temp_path().display()))?;
    file.commit(path)
}

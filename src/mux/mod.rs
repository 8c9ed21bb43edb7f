//! Muxers: packets in, recording files out, payloads never altered (README "Outputs").
//!
//! The recording pipeline opens one muxer per output format for each recording file, tells it
//! where each push session of the file begins ([`Muxer::begin_session`]), hands it every packet
//! with *file-relative* timestamps, and finally names the file ([`Muxer::finish`]), because the
//! name carries the end time, known only then. Muxers write under temporary names and commit
//! atomically through [`crate::sink::local`].

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::media::{CodecConfig, Packet};
use crate::sink::local::{Committed, Outcome};

pub(crate) use crate::format::Format;

pub(crate) mod carry;
pub mod flv;
pub mod hls;
pub mod mp4;
pub(crate) mod ts;

/// Settings that shape the bytes of outputs.
#[derive(Clone, Debug)]
pub struct MuxOptions {
    /// HLS target segment length; segments are cut at the first keyframe at or after it.
    pub hls_segment_90k: i64,
    /// `--hls-segments`: MPEG-TS or fMP4 segments.
    pub hls_segments: hls::SegmentChoice,
}

impl Default for MuxOptions {
    fn default() -> Self {
        MuxOptions {
            hls_segment_90k: 10 * 90_000,
            hls_segments: hls::SegmentChoice::Auto,
        }
    }
}

/// What a muxer knows when its file opens.
#[derive(Clone, Debug)]
pub struct FileOpen<'a> {
    /// Directory the file goes in (`…/record/{App}/{StreamName}/{format}/`); may not exist yet.
    pub dir: &'a Path,
    /// The stream name used in file names (already made safe for paths).
    pub stream_name: &'a str,
    /// Unix seconds of the file's first packet: `{StartTime}` in names (HLS segments use it).
    pub start_time_s: i64,
    /// The number `n` of the file's first HLS segment (`{StreamName}-{StartTime}-{n}`): 0, or,
    /// where the stream's previous file of the run started in the same second, the number after
    /// that file's last segment (its [`Produced::next_segment`]), so the names stay apart.
    pub first_segment: usize,
    /// Codec configuration shared by every session in the file.
    pub config: &'a CodecConfig,
    pub options: &'a MuxOptions,
}

/// A push session beginning inside the file: the first call opens the file; later calls are
/// splices (README "The rules" rule 2), where HLS writes `EXT-X-DISCONTINUITY`.
#[derive(Clone, Debug)]
pub struct SessionStart {
    /// File-relative DTS at which this session's first packet lands.
    pub file_dts_90k: i64,
    /// Unix milliseconds of that packet (for `EXT-X-PROGRAM-DATE-TIME`).
    pub wall_ms: i64,
    /// True for every call after the first.
    pub spliced: bool,
}

/// How the finished file is named.
#[derive(Clone, Debug)]
pub struct FileClose {
    /// `{StreamName}-{StartTime}-{EndTime}`, without extension.
    pub base_name: String,
}

/// A finished file, committed under its final name.
#[derive(Clone, Debug)]
pub struct Produced {
    pub format: Format,
    /// The main file: `.flv`, `.mp4`, or the `.m3u8` playlist.
    pub path: PathBuf,
    /// Size of the main file in bytes.
    pub size: u64,
    /// MD5 of the main file (the callback's ETag).
    pub md5: [u8; 16],
    /// Further files that belong to it (HLS segments), in order.
    pub parts: Vec<PathBuf>,
    /// Size of the main file plus its parts (the HLS callback's `mediaSize`).
    pub total_size: u64,
    /// False when every file already existed with identical bytes (a re-run).
    pub written: bool,
    /// HLS: the number after the last segment's (see [`FileOpen::first_segment`]); 0 for the
    /// other formats.
    pub next_segment: usize,
}

impl Produced {
    /// A format written as one file (FLV, MP4), now committed.
    pub(crate) fn single(format: Format, committed: Committed) -> Produced {
        Produced {
            format,
            path: committed.path,
            size: committed.size,
            md5: committed.md5,
            parts: Vec::new(),
            total_size: committed.size,
            written: committed.outcome == Outcome::Written,
            next_segment: 0,
        }
    }
}

/// How every error of a planned file's write pass that differs from its plan (an input that
/// changed between the index pass and the write pass) begins, after the input's name.
pub(crate) const CHANGED: &str = "changed between the index pass and the write pass";

/// A recording-file writer for one format.
/// The input of the push being written, of a planned file's `inputs` (one per push), when
/// `sessions` pushes have begun.
pub(crate) fn push_input(inputs: &[String], sessions: usize) -> &str {
    (inputs.get(sessions.saturating_sub(1))).map_or("the input", String::as_str)
}

pub trait Muxer: Send {
    fn begin_session(&mut self, session: &SessionStart) -> Result<()>;

    /// One packet. Timestamps are file-relative; per track DTS never decreases. The first
    /// video packet of a file is a keyframe.
    fn write(&mut self, packet: &Packet) -> Result<()>;

    /// The push being written stopped on an error before its end: the rest of its packets
    /// will not come.
    fn push_ended_early(&mut self) {}

    /// Completes the file and commits it (and its parts) under `close.base_name`.
    fn finish(self: Box<Self>, close: &FileClose) -> Result<Produced>;
}

/// Opens a muxer of `format` for a new file.
pub fn open(format: Format, file: &FileOpen<'_>) -> Result<Box<dyn Muxer>> {
    Ok(match format {
        Format::Flv => Box::new(flv::FlvMuxer::open(file)?),
        Format::Mp4 => Box::new(mp4::Mp4Muxer::open(file)?),
        Format::Hls => Box::new(hls::HlsMuxer::open(file)?),
    })
}

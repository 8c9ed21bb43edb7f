//! `kls-rec inspect` (README "Inspecting inputs and recordings"): what is inside an input — its
//! container, push sessions (stream key, wall clock and where it came from, duration), tracks
//! (codec, profile, level, size, frame rate, sample rate, channels, configuration bytes, packet and
//! keyframe counts, GOP lengths, bit rate), timestamp gaps, configuration changes and damage with
//! byte offsets, and for RTMP dumps their connections and publishes. Every input is read through
//! [`crate::input::open`], so `inspect` sees exactly what `record` sees.
//!
//! **Gaps.** A DTS step larger than [`scan::GAP_FACTOR`] times the track's median step is a gap,
//! reported with its session time and the input byte where the packet was read. Discontinuities
//! the readers repaired are damage reports (with their byte offsets), not gaps.
//!
//! **`--json`** prints, per input, one line holding one JSON object shaped like
//! `ffprobe -show_format -show_streams -count_packets -of json` (JSON Lines: one object per input,
//! in the order given, so a single input gives exactly one ffprobe-like object). Values follow
//! FFmpeg 5.1 (`libavformat/flvdec.c`, `mov.c`, `hls.c`, `demux.c`):
//! - streams: video first, then audio; `codec_name`, `width`, `height`, `r_frame_rate`,
//!   `sample_rate`, `channels` by [`crate::mediainfo`]'s rules over the first session with media;
//!   `profile` from the configuration record (`ff_h264_get_profile`, `ff_hevc_profiles`,
//!   `ff_aac_profiles`), `level` its `level_idc`; `nb_read_packets` counts the packets of every
//!   session (FFmpeg skips empty packets, as the readers do: sequence headers, end of sequence);
//!   `avg_frame_rate` is frames over their DTS span.
//! - **FLV** (`flv`): `duration` is `onMetaData.duration` × 10⁶ truncated to µs; without it, the
//!   timestamp of the last tag found through the final `PreviousTagSize` (stepping back over
//!   tags whose timestamp is 0, as `flv_read_packet` does); without that, the media duration.
//!   Stream `bit_rate` is `videodatarate` / `audiodatarate` × 1024. ffprobe 5.1 does not know
//!   HEVC in FLV (neither codec id 12 nor Enhanced RTMP): there kls-rec says `hevc` where it
//!   says nothing.
//! - **MP4** (`mov,mp4,m4a,3gp,3g2,mj2`): `duration` is the `mvhd` duration rescaled to µs
//!   (rounded, `av_rescale`); stream `bit_rate` ⌊sample bytes × 8 × timescale / D⌋ where D is
//!   the `mdhd` duration cut to the `stts` total (`mov_read_stts`, `mov_build_index`); stream
//!   `duration` D cut to the edit list's span, every edit rescaled to the media timescale and
//!   added up, empty edits included (`mov_fix_index`); `nb_read_packets` the sample count.
//! - **HLS** (`hls`): `size` is the playlist's own size; `duration` the sum of the `EXTINF`
//!   values, each × 10⁶ truncated to µs, only when `#EXT-X-ENDLIST` is present (a live playlist
//!   has none); `bit_rate` = playlist size × 8 / duration, as ffprobe computes it. Streams carry
//!   no `duration`; only MP3 audio a `bit_rate` (its decoder's: the frame header's rate, exact
//!   for constant-bit-rate MP3).
//! - **MPEG-TS** (`mpegts`): as FFmpeg's `estimate_timings_from_pts`, a stream's `duration`
//!   runs from its earliest PTS to its latest PTS plus one packet's duration (video 1 /
//!   `r_frame_rate`, audio one frame, in whole 90 kHz ticks), and the format's from the
//!   earliest stream start to the latest stream end. An audio stream's `bit_rate` is its
//!   parser's running average ([`scan::AudioParse`]); video has none. FFmpeg's packets there
//!   are PES packets, and a PES may hold several audio frames (ffmpeg's own muxer groups them):
//!   the audio end is the last PES's PTS plus one frame, read by [`ts_facts`]. Streams are
//!   listed in PMT order with their PID as `id`; every PMT entry is listed, data PIDs included
//!   (`codec_type` `data`, `codec_name` `scte_35`, `timed_id3`, `klv` as FFmpeg names them,
//!   absent where it names none; `nb_read_packets` their PES packets, SCTE-35 its sections),
//!   without `duration`.
//! - After ffprobe's fields, `damage` (`count`, `reports` with byte offsets) when any was found
//!   (the exit status is then 3), and `not_recorded` (`what`, `offset`) for streams kls-rec does
//!   not record, which are not damage.
//! - Inputs ffprobe cannot read name themselves (`rtmp_dump`, `pcap`, `segment_log`); their
//!   duration is the sum of their sessions' media durations.
//! - Every format: `bit_rate` = ⌊size × 8 / duration⌋ in doubles over whole µs.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use serde::Serialize;

use crate::input::flv::{FlvMetadata, TagEvent, TagKind, TagReader};
use crate::input::mp4::Movie;
use crate::input::rtmp::DumpSummary;
use crate::input::{self, InputError, InputOptions, SessionInfo};

pub(crate) mod connections;
pub(crate) mod probe;
pub(crate) mod scan;
pub(crate) mod text;
pub(crate) mod ts_facts;
mod ts_spans;

pub(crate) use probe::{Probe, probe};
pub(crate) use scan::SessionScan;

/// Tags read at most looking for `onMetaData`.
const META_MAX_TAGS: usize = 16;
/// Playlists larger than this are not scanned for their `EXTINF` total.
const MAX_PLAYLIST: u64 = 64 << 20;
/// Tags stepped back over at the end of an FLV whose last timestamps are 0.
const MAX_TAIL_STEPS: usize = 64;

/// The kind of input, as recognised by its first bytes (the order `input::open` tries).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub(crate) enum Container {
    Flv,
    Mp4,
    MpegTs,
    Hls,
    RtmpDump,
    Pcap,
    /// An HTTP-FLV response saved with its headers (`curl -i`).
    HttpFlv,
    SegmentLog,
    Unknown,
}

impl Container {
    /// ffprobe's `format_name`, or kls-rec's own for inputs ffprobe cannot read.
    pub(crate) fn format_name(self) -> &'static str {
        match self {
            Container::Flv => "flv",
            Container::Mp4 => "mov,mp4,m4a,3gp,3g2,mj2",
            Container::MpegTs => "mpegts",
            Container::Hls => "hls",
            Container::RtmpDump => "rtmp_dump",
            Container::Pcap => "pcap",
            Container::HttpFlv => "http_flv",
            Container::SegmentLog => "segment_log",
            Container::Unknown => "unknown",
        }
    }

    /// What the human report calls it.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Container::Flv => "FLV",
            Container::Mp4 => "MP4",
            Container::MpegTs => "MPEG-TS",
            Container::Hls => "HLS playlist",
            Container::RtmpDump => "RTMP dump",
            Container::Pcap => "pcap capture",
            Container::HttpFlv => "HTTP-FLV response (headers kept)",
            Container::SegmentLog => "segment log",
            Container::Unknown => "unknown",
        }
    }
}

/// What the container itself says, besides its sessions.
#[derive(Clone, Debug)]
pub(crate) enum ContainerFacts {
    Flv {
        /// `onMetaData.duration`, seconds, as written.
        meta_duration_s: Option<f64>,
        videodatarate: Option<f64>,
        audiodatarate: Option<f64>,
        /// Timestamp of the last tag (ms), found from the end of the file.
        last_tag_ms: Option<u32>,
    },
    Mp4(Box<Movie>),
    Hls {
        playlist_size: u64,
        segments: usize,
        missing_segments: usize,
        /// Σ trunc(EXTINF × 10⁶).
        extinf_us: i64,
        endlist: bool,
    },
    /// The first program's streams, PMT order, with their units and PES times.
    MpegTs(Vec<ts_facts::TsStream>),
    Rtmp(Box<DumpSummary>),
    /// Every TCP connection of a capture and the pushes in them.
    Capture(Box<input::pcap::Scan>),
    None,
}

/// One push session of an input.
#[derive(Clone, Debug)]
pub(crate) struct SessionReport {
    pub(crate) info: SessionInfo,
    pub(crate) has_media: bool,
    /// `None` when the session could not be read (see `error`).
    pub(crate) scan: Option<SessionScan>,
    pub(crate) error: Option<String>,
}

/// Everything `inspect` found in one input.
#[derive(Clone, Debug)]
pub(crate) struct Inspection {
    pub(crate) input: String,
    pub(crate) container: Container,
    /// Input bytes.
    pub(crate) size: u64,
    pub(crate) facts: ContainerFacts,
    pub(crate) sessions: Vec<SessionReport>,
}

impl Inspection {
    /// Damage reports across sessions, and sessions that failed.
    pub(crate) fn damage_count(&self) -> u64 {
        self.sessions
            .iter()
            .map(|s| s.scan.as_ref().map_or(0, |x| x.damage_count) + u64::from(s.error.is_some()))
            .sum()
    }
}

/// Inspects one input as the command line names it: a path, `-` (stdin), or an `s3://`
/// object or prefix, whose objects are downloaded ([`input::s3::fetch`]) and inspected each
/// under its `s3://` name. One result per input found.
pub(crate) fn inspect_input(
    path: &str,
    opts: &InputOptions,
) -> Vec<Result<Inspection, InputError>> {
    if !input::s3::is_s3(path) {
        return vec![inspect(path, opts)];
    }
    let objects = match input::s3::fetch(path, opts) {
        Ok(o) => o,
        Err(e) => return vec![Err(e)],
    };
    objects
        .into_iter()
        .map(|(name, local)| {
            let local = local.display().to_string();
            let rename = |text: &str| text.replace(&local, &name);
            match inspect(&local, opts) {
                Ok(mut ins) => {
                    ins.input = name.clone();
                    for s in &mut ins.sessions {
                        s.info.input = rename(&s.info.input);
                        s.error = s.error.as_deref().map(rename);
                    }
                    Ok(ins)
                }
                Err(e) => Err(InputError {
                    input: rename(&e.input),
                    message: rename(&e.message),
                    ..e
                }),
            }
        })
        .collect()
}

/// Inspects one input (a path; `-` is stdin).
pub(crate) fn inspect(path: &str, opts: &InputOptions) -> Result<Inspection, InputError> {
    let (container, size) = if path == "-" {
        (Container::Flv, 0)
    } else {
        sniff(Path::new(path))?
    };
    let facts = if path == "-" {
        ContainerFacts::None
    } else {
        facts(Path::new(path), container)?
    };
    let mut sessions = Vec::new();
    for pending in input::open(path, opts)? {
        let info = pending.info.clone();
        let has_media = pending.has_media;
        let (scan, error) = match pending.open().and_then(scan::scan) {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e.to_string())),
        };
        sessions.push(SessionReport {
            info,
            has_media,
            scan,
            error,
        });
    }
    Ok(Inspection {
        input: path.to_string(),
        container,
        size: if path == "-" {
            sessions
                .iter()
                .filter_map(|s| s.scan.as_ref())
                .map(|s| s.bytes_read)
                .sum()
        } else {
            size
        },
        facts,
        sessions,
    })
}

/// The container by its first bytes, and the input's size.
fn sniff(path: &Path) -> Result<(Container, u64), InputError> {
    let (head, size) = input::head(&path.display().to_string())?;
    let container =
        input::Kind::recognise(&head, size, path).map_or(Container::Unknown, Container::from);
    Ok((container, size))
}

impl From<input::Kind> for Container {
    fn from(kind: input::Kind) -> Container {
        match kind {
            input::Kind::Flv => Container::Flv,
            input::Kind::Capture => Container::Pcap,
            input::Kind::Mp4 => Container::Mp4,
            input::Kind::Hls => Container::Hls,
            input::Kind::Ts => Container::MpegTs,
            input::Kind::Rtmp => Container::RtmpDump,
            input::Kind::HttpFlv => Container::HttpFlv,
            input::Kind::Log => Container::SegmentLog,
        }
    }
}

fn facts(path: &Path, container: Container) -> Result<ContainerFacts, InputError> {
    let name = path.display().to_string();
    Ok(match container {
        Container::Flv => flv_facts(path, &name)?,
        Container::Mp4 => ContainerFacts::Mp4(Box::new(input::mp4::read_index(path)?)),
        Container::Hls => hls_facts(path, &name)?,
        Container::MpegTs => {
            let file = File::open(path).map_err(|e| InputError::io(&name, None, e))?;
            ContainerFacts::MpegTs(ts_facts::read(BufReader::new(file)))
        }
        Container::RtmpDump => {
            ContainerFacts::Rtmp(Box::new(input::rtmp::connections_summary(path)?))
        }
        Container::Pcap => ContainerFacts::Capture(Box::new(input::pcap::scan(path, &name)?)),
        Container::HttpFlv | Container::SegmentLog | Container::Unknown => ContainerFacts::None,
    })
}

fn flv_facts(path: &Path, name: &str) -> Result<ContainerFacts, InputError> {
    let file = File::open(path).map_err(|e| InputError::io(name, None, e))?;
    let (mut tags, _) = TagReader::new(BufReader::new(&file), name)?;
    let mut meta = None;
    for _ in 0..META_MAX_TAGS {
        match tags.next_event() {
            Ok(Some(TagEvent::Tag(t))) if t.kind == TagKind::Script => {
                meta = FlvMetadata::from_script(&t.data).ok().flatten();
                if meta.is_some() {
                    break;
                }
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    let num = |k: &str| {
        meta.as_ref()
            .and_then(|m| m.value.get(k))
            .and_then(|v| v.as_f64())
            .filter(|n| n.is_finite() && *n >= 0.0 && *n < 1e15)
    };
    let mut f = &file;
    Ok(ContainerFacts::Flv {
        meta_duration_s: num("duration").filter(|&d| d > 0.0),
        videodatarate: num("videodatarate"),
        audiodatarate: num("audiodatarate"),
        last_tag_ms: last_tag_ms(&mut f).unwrap_or(None),
    })
}

/// FFmpeg's duration for an FLV without `onMetaData.duration`: the final `PreviousTagSize`
/// leads to the last tag; its timestamp, or, while that is 0, the tag before it.
fn last_tag_ms(f: &mut impl ReadSeek) -> std::io::Result<Option<u32>> {
    let mut end = f.seek(SeekFrom::End(0))?;
    for _ in 0..MAX_TAIL_STEPS {
        if end < 8 {
            return Ok(None);
        }
        let mut b = [0u8; 4];
        f.seek(SeekFrom::Start(end - 4))?;
        f.read_exact(&mut b)?;
        let size = u64::from(u32::from_be_bytes(b));
        if size == 0 || size >= end || size + 4 > end {
            return Ok(None);
        }
        let mut h = [0u8; 11];
        f.seek(SeekFrom::Start(end - 4 - size))?;
        if f.read_exact(&mut h).is_err() {
            return Ok(None);
        }
        let data_size = u64::from(u32::from_be_bytes([0, h[1], h[2], h[3]]));
        if size != data_size + 11 {
            return Ok(None);
        }
        let ts = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
        if ts != 0 {
            return Ok(Some(ts));
        }
        end -= size + 4;
    }
    Ok(None)
}

trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

fn hls_facts(path: &Path, name: &str) -> Result<ContainerFacts, InputError> {
    let playlist_size = std::fs::metadata(path)
        .map_err(|e| InputError::io(name, None, e))?
        .len();
    let runs = input::hls::playlist_sessions(path)?;
    let segments = runs.iter().map(|r| r.segments.len()).sum();
    let missing_segments = runs
        .iter()
        .flat_map(|r| &r.segments)
        .filter(|s| !s.exists)
        .count();
    let (mut extinf_us, mut endlist) = (0i64, false);
    if playlist_size <= MAX_PLAYLIST {
        let bytes = std::fs::read(path).map_err(|e| InputError::io(name, None, e))?;
        for line in String::from_utf8_lossy(&bytes).lines() {
            let line = line.trim();
            if let Some(v) = line.strip_prefix("#EXTINF:") {
                let secs = leading_float(v.split(',').next().unwrap_or(""));
                extinf_us = extinf_us.saturating_add((secs * 1e6) as i64);
            } else if line == "#EXT-X-ENDLIST" {
                endlist = true;
            }
        }
    }
    Ok(ContainerFacts::Hls {
        playlist_size,
        segments,
        missing_segments,
        extinf_us,
        endlist,
    })
}

/// C's `atof`: the longest leading decimal number, 0 without one.
fn leading_float(s: &str) -> f64 {
    let s = s.trim_start();
    let end = s
        .char_indices()
        .take_while(|&(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+')))
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    s[..end].parse().unwrap_or(0.0)
}

#[cfg(test)]
mod tests;

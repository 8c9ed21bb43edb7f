//! The segment formats of an HLS recording (RFC 8216 §3): what the playlist writer
//! ([`super::HlsMuxer`]) asks of a segment writer, and the choice between them
//! (`--hls-segments`, README "Outputs").
//!
//! - MPEG-TS (§3.2), [`super::super::ts::TsWriter`]: the reference service's layout;
//! - fragmented MP4 (§3.3), [`super::fmp4::Fmp4Segments`]: an init segment named by
//!   `EXT-X-MAP` and one `moof`/`mdat` fragment per segment.

use anyhow::Result;

use crate::media::{AudioCodec, CodecConfig, Packet, VideoCodec};
use crate::mux::ts::TsWriter;
use crate::sink::local::PlainFile;

/// `--hls-segments`: the segment format of HLS recordings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SegmentChoice {
    /// MPEG-TS when it carries every track (H.264, AAC, MP3, AC-3, E-AC-3), fMP4 otherwise (HEVC included)
    #[default]
    Auto,
    /// MPEG-TS segments (.ts)
    Ts,
    /// Fragmented MP4 segments (init segment + .m4s)
    Fmp4,
}

/// The segment format a file is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SegmentFormat {
    Ts,
    Fmp4,
}

impl SegmentChoice {
    /// The format for a file of `config`: under `auto`, MPEG-TS where it carries every track,
    /// the reference's layout; fMP4 otherwise, and for HEVC, which Apple's players take only in
    /// fMP4 (HLS authoring specification 1.10).
    pub(crate) fn resolve(self, config: &CodecConfig) -> SegmentFormat {
        match self {
            SegmentChoice::Ts => SegmentFormat::Ts,
            SegmentChoice::Fmp4 => SegmentFormat::Fmp4,
            SegmentChoice::Auto => {
                let video_in_ts = config.video_tracks().all(|(_, v)| match v.codec {
                    VideoCodec::H264 => true,
                    // Never written to HLS: MPEG-TS or not, the pipeline keeps it out.
                    VideoCodec::Hevc
                    | VideoCodec::Av1
                    | VideoCodec::Vp9
                    | VideoCodec::FlvOnly(_) => false,
                });
                let audio_in_ts = config.audio_tracks().all(|(_, a)| match a.codec {
                    AudioCodec::Aac | AudioCodec::Mp3 | AudioCodec::Ac3 | AudioCodec::Eac3 => true,
                    AudioCodec::Opus | AudioCodec::Flac | AudioCodec::FlvOnly(_) => false,
                });
                if video_in_ts && audio_in_ts {
                    SegmentFormat::Ts
                } else {
                    SegmentFormat::Fmp4
                }
            }
        }
    }
}

/// A writer of one HLS recording's media segments; the playlist writer decides where each
/// segment begins and names the files.
pub(crate) trait SegmentWriter: Send {
    /// Extension of the media segments (`ts`, `m4s`).
    fn extension(&self) -> &'static str;

    /// The init segment (`EXT-X-MAP`, §4.3.2.5), for formats that have one.
    fn init_segment(&self) -> Option<&[u8]>;

    fn start_segment(&mut self, out: &mut PlainFile) -> Result<()>;

    fn write_packet(&mut self, packet: &Packet, out: &mut PlainFile) -> Result<()>;

    /// Completes the segment; `out` holds what was written so far.
    fn end_segment(&mut self, out: &mut PlainFile) -> Result<()>;
}

impl SegmentWriter for TsWriter {
    fn extension(&self) -> &'static str {
        "ts"
    }

    fn init_segment(&self) -> Option<&[u8]> {
        None
    }

    fn start_segment(&mut self, out: &mut PlainFile) -> Result<()> {
        TsWriter::start_segment(self, out)
    }

    fn write_packet(&mut self, packet: &Packet, out: &mut PlainFile) -> Result<()> {
        TsWriter::write_packet(self, packet, out)
    }

    fn end_segment(&mut self, out: &mut PlainFile) -> Result<()> {
        TsWriter::end_segment(self, out.len(), out)
    }
}

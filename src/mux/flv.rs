//! The FLV recording writer (README "Outputs" "FLV"), following the Adobe FLV and F4V File Format
//! Specification v10.1 Annex E, and veovera Enhanced RTMP v1 for HEVC signalled by FourCC.
//!
//! File layout:
//!
//! ```text
//! FLV header (9 bytes) + PreviousTagSize0
//! script tag  "onMetaData" { duration, width, height, videodatarate, framerate, videocodecid,
//!                            audiodatarate, audiosamplerate, audiosamplesize, stereo,
//!                            audiocodecid, filesize, keyframes { times, filepositions } }
//! video tag   sequence header (the source's AVC/HEVC decoder configuration record, or its Annex
//!             B parameter sets as received; the built record when it sent none), ts 0
//! audio tag   AAC sequence header (the source's AudioSpecificConfig), ts 0 — none for MP3
//! tags        every packet, in the order received, payload unchanged
//! video tag   end of sequence (AVCPacketType 2 / PacketTypeSequenceEnd) at the last video DTS
//! ```
//!
//! Decisions:
//! - Video before audio, so ffmpeg numbers the video stream 0 and the audio stream 1.
//! - An end-of-sequence tag closes the video, as ffmpeg's FLV muxer writes it; demuxers drop it
//!   (it carries no frame), and decoders flush on it.
//! - Tag timestamps are the file-relative DTS in milliseconds (rounded down); CompositionTime is
//!   the rounded-down PTS minus the rounded-down DTS, so PTS never drifts from the source.
//! - `keyframes` lists every video keyframe; an audio-only file lists the first audio tag of each
//!   second (every AAC/MP3 frame is a sync point, and one entry per second keeps the index small).
//!   Positions point at tag headers. An index of fewer than two entries is left out, because
//!   ffmpeg rejects it with a warning.
//! - Because `filesize` and the positions are known only at the end, tags go to a
//!   [`Spool`] first; [`Muxer::finish`] writes the header and the script tag, then copies the
//!   spool behind them into the committed file.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use super::{FileClose, FileOpen, Format, Muxer, Produced, SessionStart};
use crate::media::{
    AudioCodec, BuiltRecord, CodecConfig, FlvVideoSignal, Packet, TrackKind, VideoConfig, to_ms,
};
use crate::sink::local::{OutFile, Spool};

mod meta;
mod tag;

use meta::{IndexEntry, Summary, TrackStats};

/// Version of the bytes this writer produces; bumped whenever they change, so a changed ETag is
/// always deliberate.
pub const FORMAT_VERSION: u32 = 3;

/// CompositionTime is an SI24.
const CTS_MIN_MS: i64 = -(1 << 23);
const CTS_MAX_MS: i64 = (1 << 23) - 1;

/// Writes one FLV recording file.
pub struct FlvMuxer {
    dir: PathBuf,
    config: CodecConfig,
    /// Every tag after the script tag, in file order.
    body: Spool,
    video: TrackStats,
    audio: TrackStats,
    index: Vec<IndexEntry>,
    /// Audio-only files: the next whole second that gets an index entry.
    next_audio_index_ms: i64,
    /// A spool write failed part-way (see [`FlvMuxer::spool_tag`]).
    broken: bool,
}

impl FlvMuxer {
    /// Starts a file: spools the sequence headers of `file.config`.
    pub fn open(file: &FileOpen<'_>) -> Result<FlvMuxer> {
        let config = file.config.clone();
        if config.video.is_none() && config.audio.is_none() {
            bail!("an FLV file needs an audio or a video track; the configuration has neither");
        }
        check_carried(&config)?;
        let mut body = Spool::create(file.dir, file.stream_name)?;
        if let Some(v) = &config.video {
            let prefix = video_prefix(v, tag::FRAME_KEY, VideoPart::SequenceHeader, 0);
            let header = match &config.video_built {
                Some(BuiltRecord::AnnexB(received)) => received,
                Some(BuiltRecord::InBand) | None => &v.record,
            };
            check_size("video decoder configuration record", &prefix, header)?;
            tag::write_tag(&mut body, tag::TAG_VIDEO, 0, prefix.as_bytes(), header)?;
        }
        if let Some(a) = &config.audio
            && a.codec == AudioCodec::Aac
        {
            let prefix = tag::audio(a.flv_sound_byte, Some(tag::AAC_SEQUENCE_HEADER));
            check_size("AudioSpecificConfig", &prefix, &a.specific)?;
            tag::write_tag(&mut body, tag::TAG_AUDIO, 0, prefix.as_bytes(), &a.specific)?;
        }
        Ok(FlvMuxer {
            dir: file.dir.to_path_buf(),
            config,
            body,
            video: TrackStats::default(),
            audio: TrackStats::default(),
            index: Vec::new(),
            next_audio_index_ms: 0,
            broken: false,
        })
    }

    /// The tag timestamp and CompositionTime of a packet, checked against their fields.
    fn times(packet: &Packet) -> Result<(u32, i32)> {
        let dts_ms = to_ms(packet.dts_90k);
        let pts_ms = to_ms(packet.pts_90k());
        let Ok(ts_ms) = u32::try_from(dts_ms) else {
            bail!(
                "{} packet DTS {dts_ms} ms does not fit the FLV timestamp (0 to 2^32 - 1 ms)",
                packet.track
            );
        };
        let cts_ms = pts_ms - dts_ms;
        if !(CTS_MIN_MS..=CTS_MAX_MS).contains(&cts_ms) {
            bail!(
                "{} packet at DTS {dts_ms} ms: composition offset {cts_ms} ms does not fit the \
                 FLV CompositionTime (signed 24 bits)",
                packet.track
            );
        }
        Ok((ts_ms, cts_ms as i32))
    }

    fn summary<'a>(&'a self, index: &'a [IndexEntry]) -> Summary<'a> {
        Summary {
            config: &self.config,
            video: &self.video,
            audio: &self.audio,
            index,
        }
    }

    /// Spools a video end-of-sequence tag at the last video DTS.
    fn write_end_of_sequence(&mut self) -> Result<()> {
        let Some(v) = &self.config.video else {
            return Ok(());
        };
        let prefix = video_prefix(v, tag::FRAME_KEY, VideoPart::EndOfSequence, 0);
        // The DTS was checked to fit when the packet was written.
        let ts_ms = u32::try_from(self.video.last_dts_ms()).unwrap_or(0);
        self.spool_tag(tag::TAG_VIDEO, ts_ms, &prefix, &[])
    }

    /// Appends a tag to the spool. A failure part-way leaves the body ending inside a tag, so
    /// the muxer refuses any further write and never completes the file.
    fn spool_tag(
        &mut self,
        tag_type: u8,
        ts_ms: u32,
        prefix: &tag::Prefix,
        data: &[u8],
    ) -> Result<()> {
        if self.broken {
            bail!("an earlier write to the FLV spool failed; the file cannot be completed");
        }
        self.broken = true;
        tag::write_tag(&mut self.body, tag_type, ts_ms, prefix.as_bytes(), data)?;
        self.broken = false;
        Ok(())
    }
}

/// The bit rate this writer declares for a track (`videodatarate`/`audiodatarate` × 1024, which
/// ffprobe reports as the stream's `bit_rate`): its payload bits over the file duration, rounded.
pub fn bit_rate(payload_bytes: u64, duration_ms: i64) -> Option<u64> {
    (duration_ms > 0).then(|| (payload_bytes as f64 * 8000.0 / duration_ms as f64).round() as u64)
}

/// What a video tag carries; each convention has its own packet type values for these.
#[derive(Clone, Copy)]
enum VideoPart {
    SequenceHeader,
    Frame,
    EndOfSequence,
}

/// The legacy `CodecID` the video is written with: the source's convention, except for a codec
/// FLV has no CodecID for, which only Enhanced RTMP can signal.
fn legacy_codec_id(v: &VideoConfig) -> Option<u8> {
    match v.flv_signal {
        FlvVideoSignal::CodecId => v.codec.ids().flv_codec_id,
        FlvVideoSignal::Enhanced => None,
    }
}

/// Refuses, before anything is written, audio this writer cannot signal yet.
fn check_carried(config: &CodecConfig) -> Result<()> {
    if let Some(a) = &config.audio {
        match a.codec {
            AudioCodec::Aac | AudioCodec::Mp3 => {}
            AudioCodec::Opus | AudioCodec::Flac | AudioCodec::Ac3 | AudioCodec::Eac3 => bail!(
                "FLV writing of {} audio (Enhanced RTMP audio FourCC) is not supported yet",
                a.codec.name()
            ),
        }
    }
    Ok(())
}

/// The video tag header in the convention the source used (README "Outputs": HEVC in both).
fn video_prefix(v: &VideoConfig, frame_type: u8, part: VideoPart, cts_ms: i32) -> tag::Prefix {
    match legacy_codec_id(v) {
        Some(codec_id) => {
            let packet_type = match part {
                VideoPart::SequenceHeader => tag::AVC_SEQUENCE_HEADER,
                VideoPart::Frame => tag::AVC_NALU,
                VideoPart::EndOfSequence => tag::AVC_END_OF_SEQUENCE,
            };
            tag::legacy_video(frame_type, codec_id, packet_type, cts_ms)
        }
        None => {
            let packet_type = match part {
                VideoPart::SequenceHeader => tag::EX_SEQUENCE_START,
                VideoPart::Frame => tag::EX_CODED_FRAMES,
                VideoPart::EndOfSequence => tag::EX_SEQUENCE_END,
            };
            tag::enhanced_video(frame_type, packet_type, &v.codec.ids().fourcc, cts_ms)
        }
    }
}

/// A tag's data must fit DataSize (UI24).
fn check_size(what: &str, prefix: &tag::Prefix, payload: &[u8]) -> Result<()> {
    let size = prefix.as_bytes().len() + payload.len();
    if size > tag::MAX_DATA_SIZE {
        bail!(
            "{what} of {} bytes does not fit an FLV tag (DataSize is 24 bits, at most {} bytes)",
            payload.len(),
            tag::MAX_DATA_SIZE - prefix.as_bytes().len()
        );
    }
    Ok(())
}

impl Muxer for FlvMuxer {
    fn begin_session(&mut self, _session: &SessionStart) -> Result<()> {
        // A spliced session's timestamps already continue the file's timeline: nothing to mark.
        Ok(())
    }

    fn write(&mut self, packet: &Packet) -> Result<()> {
        let (ts_ms, cts_ms) = Self::times(packet)?;
        let offset = self.body.len();
        let (tag_type, prefix) = match packet.track {
            TrackKind::Video => {
                let Some(v) = &self.config.video else {
                    bail!("video packet at {ts_ms} ms, but the file has no video track");
                };
                let frame = if packet.keyframe {
                    tag::FRAME_KEY
                } else {
                    tag::FRAME_INTER
                };
                let prefix = video_prefix(v, frame, VideoPart::Frame, cts_ms);
                (tag::TAG_VIDEO, prefix)
            }
            TrackKind::Audio => {
                let Some(a) = &self.config.audio else {
                    bail!("audio packet at {ts_ms} ms, but the file has no audio track");
                };
                let aac = (a.codec == AudioCodec::Aac).then_some(tag::AAC_RAW);
                (tag::TAG_AUDIO, tag::audio(a.flv_sound_byte, aac))
            }
        };
        check_size(
            &format!("{} packet at {ts_ms} ms", packet.track),
            &prefix,
            &packet.data,
        )?;
        self.spool_tag(tag_type, ts_ms, &prefix, &packet.data)?;

        let dts_ms = i64::from(ts_ms);
        let pts_ms = dts_ms + i64::from(cts_ms);
        match packet.track {
            TrackKind::Video => {
                self.video.add(dts_ms, pts_ms, packet.data.len());
                if packet.keyframe {
                    self.index.push(IndexEntry {
                        time_ms: ts_ms,
                        body_offset: offset,
                    });
                }
            }
            TrackKind::Audio => {
                self.audio.add(dts_ms, pts_ms, packet.data.len());
                if self.config.video.is_none() && dts_ms >= self.next_audio_index_ms {
                    self.index.push(IndexEntry {
                        time_ms: ts_ms,
                        body_offset: offset,
                    });
                    self.next_audio_index_ms = (dts_ms / 1000 + 1) * 1000;
                }
            }
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>, close: &FileClose) -> Result<Produced> {
        self.write_end_of_sequence()?;
        let mut index = std::mem::take(&mut self.index);
        // Numbers are fixed-size doubles: a first encoding with zeros has the final size.
        let mut script_len = self.summary(&index).encode(0, 0).len();
        while script_len > tag::MAX_DATA_SIZE && index.len() >= 2 {
            // Only an index of about a million entries gets here: thin it rather than fail.
            index = index.into_iter().step_by(2).collect();
            script_len = self.summary(&index).encode(0, 0).len();
        }
        let body_start = tag::FILE_HEADER_LEN + tag::TAG_HEADER_LEN + script_len as u64 + 4;
        let file_size = body_start + self.body.len();
        let script = self.summary(&index).encode(body_start, file_size);
        if script.len() != script_len {
            bail!(
                "onMetaData changed size from {script_len} to {} bytes",
                script.len()
            );
        }

        let final_path = self
            .dir
            .join(format!("{}.{}", close.base_name, Format::Flv.extension()));
        let mut out = OutFile::create(&self.dir, &close.base_name)?;
        out.write_all(&tag::file_header(
            self.config.audio.is_some(),
            self.config.video.is_some(),
        ))?;
        tag::write_tag(&mut out, tag::TAG_SCRIPT, 0, &[], &script)?;
        self.body.copy_to(&mut out)?;
        if out.len() != file_size {
            bail!("wrote {} bytes, expected {file_size}", out.len());
        }
        let committed = out
            .commit(&final_path)
            .with_context(|| format!("committing {}", final_path.display()))?;
        Ok(Produced::single(Format::Flv, committed))
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_bytes;

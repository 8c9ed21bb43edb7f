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
//! - `filesize` and the positions depend on every tag, so `onMetaData` is written once they are
//!   known ([`plan`]). **Planned** ([`FlvMuxer::follow`]): when the recording pipeline ran an
//!   index pass (inputs that can be read twice; `record::index_pass` says when), it counted
//!   the file's tags with this same writer, so the header and script tag go out first and every
//!   tag straight behind them into the final file, hashed as written. **Spooled**
//!   ([`FlvMuxer::open`]), otherwise (stdin, streamed objects): tags go to a [`Spool`];
//!   [`Muxer::finish`] writes the header and the script tag, then copies the spool behind them.
//!   Both give the same bytes.

use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use super::{CHANGED, FileClose, FileOpen, Format, Muxer, Produced, SessionStart};
use crate::media::{BuiltRecord, CodecConfig, Packet, TrackKind, to_ms};
use crate::sink::local::{OutFile, Spool};

mod header;
mod meta;
mod plan;
mod tag;

use header::{
    AudioPart, VideoForm, VideoPart, audio_prefix, audio_sequence_header, carries_composition_time,
    enhanced_audio, video_form, video_prefix, whole_tags,
};
pub(crate) use header::{has_sequence_header_audio, has_sequence_header_video};

use meta::{IndexEntry, Summary};
pub(crate) use plan::FlvPlan;
use plan::{Body, Planned, Tracks};

/// Version of the bytes this writer produces; bumped whenever they change, so a changed ETag is
/// always deliberate.
pub const FORMAT_VERSION: u32 = 5;

/// CompositionTime is an SI24.
const CTS_MIN_MS: i64 = -(1 << 23);
const CTS_MAX_MS: i64 = (1 << 23) - 1;

/// Writes one FLV recording file.
pub(crate) struct FlvMuxer {
    dir: PathBuf,
    config: CodecConfig,
    /// Every tag after the script tag, in file order.
    body: Body,
    tracks: Tracks,
    /// Audio-only files: the next whole second that gets an index entry.
    next_audio_index_ms: i64,
    /// A tag write failed part-way (see [`FlvMuxer::body_tag`]).
    broken: bool,
}

impl FlvMuxer {
    /// Starts a file that spools its tags and writes `onMetaData` once every packet is known.
    pub(crate) fn open(file: &FileOpen<'_>) -> Result<FlvMuxer> {
        check_tracks(file.config)?;
        let body = Body::Spooled(Spool::create(file.dir, file.stream_name)?);
        FlvMuxer::start(file.dir, file.config, body)
    }

    /// Starts a file that follows `plan`, the index pass's plan for this file: the header and
    /// `onMetaData` go out now, then every tag straight after them. `None` (the index pass
    /// planned no more files), or a plan for another configuration, fails the file, naming
    /// `input`.
    pub(crate) fn follow(
        file: &FileOpen<'_>,
        plan: Option<FlvPlan>,
        input: &str,
    ) -> Result<FlvMuxer> {
        check_tracks(file.config)?;
        let body = match plan {
            Some(plan) if plan.config == *file.config => {
                let (script, body_start) = script_tag(&plan.config, &plan.tracks, plan.body_len)?;
                let mut out = OutFile::create(file.dir, file.stream_name)?;
                write_head(&mut out, &plan.config, &script)?;
                Body::Planned(Box::new(Planned {
                    plan,
                    out,
                    body_start,
                    sessions: 0,
                    ended_early: None,
                }))
            }
            Some(_) => Body::Failed(anyhow!(
                "{input} {CHANGED}: the FLV file opening at {} has another codec configuration \
                 than the planned one",
                file.start_time_s
            )),
            None => Body::Failed(anyhow!(
                "{input} {CHANGED}: the index pass planned no FLV file opening at {}",
                file.start_time_s
            )),
        };
        FlvMuxer::start(file.dir, file.config, body)
    }

    /// A writer whose tags go to `body`, the sequence headers of `config` first.
    fn start(dir: &Path, config: &CodecConfig, body: Body) -> Result<FlvMuxer> {
        let mut m = FlvMuxer {
            dir: dir.to_path_buf(),
            config: config.clone(),
            body,
            tracks: Tracks::default(),
            next_audio_index_ms: 0,
            broken: false,
        };
        for (track, v) in config.video_tracks().filter(|(_, v)| !whole_tags(v)) {
            let prefix = video_prefix(track, v, tag::FRAME_KEY, VideoPart::SequenceHeader, 0);
            let header = match (track.index, &config.video_built) {
                (0, Some(BuiltRecord::AnnexB(received))) => received,
                (_, Some(BuiltRecord::AnnexB(_) | BuiltRecord::InBand) | None) => &v.record,
            };
            check_size("video decoder configuration record", &prefix, header)?;
            m.body_tag(tag::TAG_VIDEO, 0, &prefix, header)?;
        }
        for (track, a) in config.audio_tracks() {
            if let Some((prefix, body)) = audio_sequence_header(track, a) {
                check_size("audio sequence header", &prefix, body)?;
                m.body_tag(tag::TAG_AUDIO, 0, &prefix, body)?;
            }
        }
        Ok(m)
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

    /// Writes a video end-of-sequence tag for each video track, at the last video DTS.
    fn write_end_of_sequence(&mut self) -> Result<()> {
        let last_ms = self.tracks.video.last_dts_ms();
        let last_ms = last_ms.max(self.tracks.other_video.last_dts_ms());
        // The DTS was checked to fit when the packet was written.
        let ts_ms = u32::try_from(last_ms).unwrap_or(0);
        let prefixes: Vec<tag::Prefix> = self
            .config
            .video_tracks()
            .filter(|(_, v)| !whole_tags(v))
            .map(|(track, v)| video_prefix(track, v, tag::FRAME_KEY, VideoPart::EndOfSequence, 0))
            .collect();
        for prefix in prefixes {
            self.body_tag(tag::TAG_VIDEO, ts_ms, &prefix, &[])?;
        }
        Ok(())
    }

    /// Appends a tag to the body. A failure part-way leaves the body ending inside a tag, so
    /// the muxer refuses any further write and never completes the file.
    fn body_tag(
        &mut self,
        tag_type: u8,
        ts_ms: u32,
        prefix: &tag::Prefix,
        data: &[u8],
    ) -> Result<()> {
        if self.broken {
            bail!("an earlier write of the FLV file failed; the file cannot be completed");
        }
        self.broken = true;
        self.body.tag(tag_type, ts_ms, prefix.as_bytes(), data)?;
        self.broken = false;
        Ok(())
    }

    /// Completes a spooled file: the header and the script tag, then the spool behind them.
    fn commit_spooled(
        &self,
        mut spool: Spool,
        base_name: &str,
        final_path: &Path,
    ) -> Result<OutFile> {
        let (script, body_start) = script_tag(&self.config, &self.tracks, spool.len())?;
        let file_size = body_start + spool.len();
        let mut out = OutFile::create(&self.dir, base_name)?;
        write_head(&mut out, &self.config, &script)?;
        spool.copy_to(&mut out)?;
        if out.len() != file_size {
            bail!(
                "wrote {} bytes of {}, expected {file_size}",
                out.len(),
                final_path.display()
            );
        }
        Ok(out)
    }
}

/// Builds [`FlvPlan`]s in the index pass: the writer itself, its tags counted, not written.
pub(crate) struct Planner {
    muxer: FlvMuxer,
    inputs: Vec<String>,
}

impl Planner {
    /// Fails as [`FlvMuxer::open`] fails, with the same error.
    pub(crate) fn new(config: &CodecConfig) -> Result<Planner> {
        check_tracks(config)?;
        Ok(Planner {
            muxer: FlvMuxer::start(Path::new(""), config, Body::Counted(0))?,
            inputs: Vec::new(),
        })
    }

    /// A push session from `input` begins in the file.
    pub(crate) fn begin_session(&mut self, input: &str) {
        self.inputs.push(input.to_string());
    }

    /// Fails where the writer's `write` fails, with the same error.
    pub(crate) fn write(&mut self, packet: &Packet) -> Result<()> {
        self.muxer.write(packet)
    }

    pub(crate) fn finish(mut self) -> Result<FlvPlan> {
        self.muxer.write_end_of_sequence()?;
        Ok(FlvPlan {
            body_len: self.muxer.body.len(),
            config: self.muxer.config,
            tracks: self.muxer.tracks,
            inputs: self.inputs,
        })
    }
}

/// An FLV file needs a track.
fn check_tracks(config: &CodecConfig) -> Result<()> {
    if config.video.is_none() && config.audio.is_none() {
        bail!("an FLV file needs an audio or a video track; the configuration has neither");
    }
    Ok(())
}

/// The script tag's data of a file whose tags after it take `body_len` bytes, and where those
/// tags begin.
fn script_tag(config: &CodecConfig, tracks: &Tracks, body_len: u64) -> Result<(Vec<u8>, u64)> {
    fn summary<'a>(
        config: &'a CodecConfig,
        tracks: &'a Tracks,
        index: &'a [IndexEntry],
    ) -> Summary<'a> {
        Summary {
            config,
            video: &tracks.video,
            other_video: &tracks.other_video,
            audio: &tracks.audio,
            other_audio: &tracks.other_audio,
            index,
        }
    }
    let mut index = Cow::Borrowed(&tracks.index[..]);
    // Numbers are fixed-size doubles: a first encoding with zeros has the final size.
    let mut script_len = summary(config, tracks, &index).encode(0, 0).len();
    while script_len > tag::MAX_DATA_SIZE && index.len() >= 2 {
        // Only an index of about a million entries gets here: thin it rather than fail.
        index = Cow::Owned(index.iter().copied().step_by(2).collect());
        script_len = summary(config, tracks, &index).encode(0, 0).len();
    }
    let body_start = tag::FILE_HEADER_LEN as u64 + tag::tag_len(script_len);
    let script = summary(config, tracks, &index).encode(body_start, body_start + body_len);
    if script.len() != script_len {
        bail!(
            "onMetaData changed size from {script_len} to {} bytes",
            script.len()
        );
    }
    Ok((script, body_start))
}

/// The file header and the script tag.
fn write_head(out: &mut OutFile, config: &CodecConfig, script: &[u8]) -> Result<()> {
    out.write_all(&tag::file_header(
        config.audio.is_some(),
        config.video.is_some(),
    ))?;
    tag::write_tag(out, tag::TAG_SCRIPT, 0, &[], script)?;
    Ok(())
}

/// The bit rate this writer declares for a track (`videodatarate`/`audiodatarate` × 1024, which
/// ffprobe reports as the stream's `bit_rate`): its payload bits over the file duration, rounded.
pub(crate) fn bit_rate(payload_bytes: u64, duration_ms: i64) -> Option<u64> {
    (duration_ms > 0).then(|| (payload_bytes as f64 * 8000.0 / duration_ms as f64).round() as u64)
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
        if let Body::Planned(p) = &mut self.body
            && let Err(e) = p.begin_session()
        {
            self.body = Body::Failed(e);
        }
        Ok(())
    }

    fn write(&mut self, packet: &Packet) -> Result<()> {
        let (ts_ms, cts_ms) = Self::times(packet)?;
        let offset = self.body.len();
        let (tag_type, prefix) = match packet.track.kind {
            TrackKind::Video => {
                let Some(v) = self.config.video_track(packet.track.index) else {
                    bail!(
                        "{} packet at {ts_ms} ms, but the file has no such track",
                        packet.track
                    );
                };
                let frame = if packet.keyframe {
                    tag::FRAME_KEY
                } else {
                    tag::FRAME_INTER
                };
                if cts_ms != 0 && !carries_composition_time(packet.track, v) {
                    bail!(
                        "{} frame at {ts_ms} ms has a composition offset of {cts_ms} ms, which \
                         its Enhanced RTMP header cannot carry",
                        v.codec.name()
                    );
                }
                let prefix = video_prefix(packet.track, v, frame, VideoPart::Frame, cts_ms);
                (tag::TAG_VIDEO, prefix)
            }
            TrackKind::Audio => {
                let Some(a) = self.config.audio_track(packet.track.index) else {
                    bail!(
                        "{} packet at {ts_ms} ms, but the file has no such track",
                        packet.track
                    );
                };
                (
                    tag::TAG_AUDIO,
                    audio_prefix(packet.track, a, AudioPart::Frame),
                )
            }
        };
        let prefix = tag::with_offset_ns(tag_type, prefix, packet.offset_ns);
        check_size(
            &format!("{} packet at {ts_ms} ms", packet.track),
            &prefix,
            &packet.data,
        )?;
        self.body_tag(tag_type, ts_ms, &prefix, &packet.data)?;

        let dts_ms = i64::from(ts_ms);
        let pts_ms = dts_ms + i64::from(cts_ms);
        let entry = IndexEntry {
            time_ms: ts_ms,
            body_offset: offset,
        };
        let t = &mut self.tracks;
        match (packet.track.kind, packet.track.index) {
            (TrackKind::Video, 0) => {
                t.video.add(dts_ms, pts_ms, packet.data.len());
                if packet.keyframe {
                    t.index.push(entry);
                }
            }
            (TrackKind::Video, 1..) => t.other_video.add(dts_ms, pts_ms, packet.data.len()),
            (TrackKind::Audio, 1..) => t.other_audio.add(dts_ms, pts_ms, packet.data.len()),
            (TrackKind::Audio, 0) => {
                t.audio.add(dts_ms, pts_ms, packet.data.len());
                if self.config.video.is_none() && dts_ms >= self.next_audio_index_ms {
                    t.index.push(entry);
                    self.next_audio_index_ms = (dts_ms / 1000 + 1) * 1000;
                }
            }
        }
        Ok(())
    }

    fn push_ended_early(&mut self) {
        if let Body::Planned(p) = &mut self.body {
            p.push_ended_early();
        }
    }

    fn finish(mut self: Box<Self>, close: &FileClose) -> Result<Produced> {
        self.write_end_of_sequence()?;
        let final_path = self
            .dir
            .join(format!("{}.{}", close.base_name, Format::Flv.extension()));
        let out = match std::mem::replace(&mut self.body, Body::Counted(0)) {
            Body::Spooled(spool) => self.commit_spooled(spool, &close.base_name, &final_path)?,
            Body::Planned(p) => {
                p.check(&self.tracks, &close.base_name)?;
                p.out
            }
            Body::Counted(_) => bail!("the FLV index pass writes no file"),
            Body::Failed(e) => return Err(e),
        };
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
#[cfg(test)]
mod tests_multitrack;

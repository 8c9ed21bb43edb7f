//! Where every sample of an MP4 file goes: each track's sample index (ISO/IEC 14496-12 §8.6–8.7)
//! and the chunking of the `mdat` payload, learnt packet by packet, payloads never kept.
//!
//! The spooling writer builds a [`Layout`] while its media goes to the spool. The index pass
//! builds one per file with a [`Planner`], before anything is written, and hands it to the
//! write pass as the file's [`FilePlan`]. Both build it with [`Layout::push`], so a plan lays
//! a file out exactly as spooling would.
//!
//! Chunks follow arrival order: a new chunk starts when the track changes, or when the current
//! one spans half a second of decode time or 1 MiB, so audio and video interleave as they were
//! pushed and a player never seeks far between them.

use anyhow::{Result, anyhow, bail};

use super::index::{IndexError, TrackIndex};
use super::plan::Entry;
use crate::media::{CodecConfig, Packet, Track, TrackKind};

/// A chunk closes once it spans this much decode time…
const CHUNK_MAX_90K: i64 = 45_000;
/// …or holds this many bytes.
const CHUNK_MAX_BYTES: u64 = 1 << 20;

/// The chunk being filled.
#[derive(Debug)]
struct OpenChunk {
    track: Track,
    start_dts_90k: i64,
    bytes: u64,
}

/// The sample indexes of a file's tracks and the length of its `mdat` payload.
#[derive(Debug)]
pub(crate) struct Layout {
    /// One index per video track, track 0 first.
    video: Vec<TrackIndex>,
    /// One index per audio track, track 0 first.
    audio: Vec<TrackIndex>,
    chunk: Option<OpenChunk>,
    payload_len: u64,
}

impl Layout {
    /// An empty layout with one track per configured codec.
    pub(crate) fn new(config: &CodecConfig) -> Result<Layout> {
        if config.video.is_none() && config.audio.is_none() {
            bail!("mp4: the file has neither a video nor an audio configuration");
        }
        super::stsd::check_carried(config)?;
        Ok(Layout {
            video: config
                .video_tracks()
                .map(|_| TrackIndex::new(TrackKind::Video))
                .collect(),
            audio: config
                .audio_tracks()
                .map(|_| TrackIndex::new(TrackKind::Audio))
                .collect(),
            chunk: None,
            payload_len: 0,
        })
    }

    /// The indexes of one kind's tracks, track 0 first.
    fn of_kind(&self, kind: TrackKind) -> &[TrackIndex] {
        match kind {
            TrackKind::Video => &self.video,
            TrackKind::Audio => &self.audio,
        }
    }

    pub(crate) fn track(&self, track: Track) -> Option<&TrackIndex> {
        self.of_kind(track.kind).get(usize::from(track.index))
    }

    /// Every track's index with its track, video first.
    pub(crate) fn indexes(&self) -> impl Iterator<Item = (Track, &TrackIndex)> {
        let video = (0u8..).zip(&self.video).map(|(i, t)| (Track::video(i), t));
        let audio = (0u8..).zip(&self.audio).map(|(i, t)| (Track::audio(i), t));
        video.chain(audio)
    }

    /// Bytes of `mdat` payload: where the next packet lands, relative to the payload's start.
    pub(crate) fn payload_len(&self) -> u64 {
        self.payload_len
    }

    /// Places one packet after the previous ones. A refused packet changes nothing.
    pub(crate) fn push(&mut self, packet: &Packet) -> Result<()> {
        let index = match packet.track.kind {
            TrackKind::Video => &mut self.video,
            TrackKind::Audio => &mut self.audio,
        }
        .get_mut(usize::from(packet.track.index))
        .ok_or_else(|| missing_track(packet.track))?;
        let size = sample_size(packet)?;
        let new_chunk = match &self.chunk {
            Some(c) => {
                c.track != packet.track
                    || packet.dts_90k.saturating_sub(c.start_dts_90k) >= CHUNK_MAX_90K
                    || c.bytes >= CHUNK_MAX_BYTES
            }
            None => true,
        };
        let offset = self.payload_len;
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
        self.payload_len += u64::from(size);
        Ok(())
    }

    /// Completes the chunk tables; call once, after the last packet.
    pub(crate) fn seal(&mut self) {
        for t in self.video.iter_mut().chain(self.audio.iter_mut()) {
            t.seal();
        }
    }

    /// The tracks with their sample entries, video first, as `moov` lists them. A track is
    /// listed when both the layout and `config` have it.
    pub(crate) fn tracks<'a>(
        &'a self,
        config: &'a CodecConfig,
    ) -> Vec<(&'a TrackIndex, Entry<'a>)> {
        let video = self.video.iter().zip(config.video_tracks());
        let video = video.map(|(t, (_, v))| (t, Entry::Video(v)));
        let audio = self.audio.iter().zip(config.audio_tracks());
        video
            .chain(audio.map(|(t, (_, a))| (t, Entry::Audio(a))))
            .collect()
    }

    /// Whether the layout has exactly the tracks `config` configures.
    pub(crate) fn fits(&self, config: &CodecConfig) -> bool {
        self.video.len() == config.video_tracks().count()
            && self.audio.len() == config.audio_tracks().count()
    }
}

/// What the index pass learnt of one MP4 file: its layout and enough to recognise the file.
#[derive(Debug)]
pub struct FilePlan {
    pub(super) layout: Layout,
    /// Unix seconds of the file's first packet (`{StartTime}`).
    pub(super) start_time_s: i64,
    /// `{StreamName}-{StartTime}-{EndTime}`, the name the file closed under.
    pub(super) base_name: String,
    /// The input of each push session in the file, in order.
    pub(super) inputs: Vec<String>,
}

/// Builds a [`FilePlan`] in the index pass, from the packets the write pass will see.
pub struct Planner {
    layout: Layout,
    start_time_s: i64,
    inputs: Vec<String>,
}

impl Planner {
    /// Fails as [`super::Mp4Muxer::open`] fails, on a configuration without tracks.
    pub fn new(config: &CodecConfig, start_time_s: i64) -> Result<Planner> {
        Ok(Planner {
            layout: Layout::new(config)?,
            start_time_s,
            inputs: Vec::new(),
        })
    }

    /// A push session from `input` begins in the file.
    pub fn begin_session(&mut self, input: &str) {
        self.inputs.push(input.to_string());
    }

    /// Fails where the spooling writer's `write` fails, with the same error.
    pub fn write(&mut self, packet: &Packet) -> Result<()> {
        self.layout.push(packet)
    }

    pub fn finish(mut self, base_name: &str) -> FilePlan {
        self.layout.seal();
        FilePlan {
            layout: self.layout,
            start_time_s: self.start_time_s,
            base_name: base_name.to_string(),
            inputs: self.inputs,
        }
    }
}

/// A packet's size as its `stsz` entry, refused past 4 GiB.
pub(crate) fn sample_size(packet: &Packet) -> Result<u32> {
    u32::try_from(packet.data.len()).map_err(|_| {
        anyhow!(
            "mp4: {} packet of {} bytes exceeds 4 GiB",
            packet.track,
            packet.data.len()
        )
    })
}

/// A packet of a track the file's configuration does not have.
pub(crate) fn missing_track(track: Track) -> anyhow::Error {
    anyhow!("mp4: {track} packet but the file has no {track} configuration")
}

/// Why the `sample`-th (0-based) sample of `track` was refused.
pub(crate) fn index_error(track: Track, sample: u32, e: IndexError) -> anyhow::Error {
    let n = u64::from(sample) + 1;
    match e {
        IndexError::DtsBackwards { from_90k, to_90k } => {
            anyhow!("mp4: {track} sample {n}: dts_90k {to_90k} is before the previous {from_90k}")
        }
        IndexError::DeltaTooLarge { delta_90k } => anyhow!(
            "mp4: {track} sample {n}: decode delta of {delta_90k} (90 kHz) exceeds the 32-bit stts field"
        ),
        IndexError::DtsOutOfRange { dts_90k } => {
            anyhow!("mp4: {track} sample {n}: dts_90k {dts_90k} is out of range")
        }
        IndexError::TooManySamples => anyhow!("mp4: {track} track exceeds 2^32 samples"),
    }
}

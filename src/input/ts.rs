//! MPEG-2 transport stream input (ISO/IEC 13818-1) — a `.ts` file, or the segments of one HLS
//! discontinuity run ([`super::hls`]) — read as one push session, streaming over `Read`.
//!
//! - [`packet`]: 188-byte packets, resynchronising on lost sync bytes (reported with offsets);
//! - [`psi`]: PAT and PMT sections (CRC-checked);
//! - [`pes`]: PES reassembly and PTS/DTS;
//! - [`au`]: video access units rebuilt from the elementary stream across PES boundaries;
//! - [`video`]: Annex B → length-prefixed NAL units, decoder configuration record (generated
//!   from the stream's parameter sets, or a matching hint);
//! - [`audio`]: ADTS → raw AAC + AudioSpecificConfig, MP3 frames;
//! - [`es`]: one elementary stream's state, kept across PMT versions;
//! - [`demux`]: continuity counters, 33-bit unwrapping, timeline repair, stream selection.
//!
//! Elementary streams read: H.264 (stream_type 0x1B), HEVC (0x24), AAC in ADTS (0x0F), MPEG
//! audio (0x03, 0x04), AC-3 and E-AC-3 (0x81 / 0x87, or 0x06 with their DVB descriptor or
//! registration); every video and audio stream of the program, numbered per kind in PMT order
//! ([`order`]). The session's
//! starting configuration is settled over a bounded prelude, as for FLV: events are held until
//! every stream of the PMT has given its configuration (or the prelude's budget,
//! [`crate::input::prelude`], is spent); later changes are [`Event::Config`].

use std::collections::VecDeque;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::hls::naming;
use super::prelude::{self, Budget};
use super::{InputError, InputOptions, PendingSession, SessionInfo, SessionReader};
use crate::media::{
    AudioConfig, CodecConfig, Damage, Event, Packet, Track, TrackKind, VideoConfig,
};

pub(crate) mod au;
pub(crate) mod audio;
pub(crate) mod demux;
mod es;
mod order;
use order::TrackOrder;
pub(crate) mod packet;
pub(crate) mod pes;
pub(crate) mod psi;
#[cfg(test)]
mod tests;
pub(crate) mod video;

pub use demux::{Demuxed, TsDemuxer};

/// Whether the first bytes of an input look like a transport stream: sync bytes 188 bytes apart
/// (three of them when the input is that long).
pub(crate) fn looks_like_ts(head: &[u8]) -> bool {
    let syncs = head
        .iter()
        .step_by(crate::container::ts::PACKET_LEN)
        .take(3);
    let n = syncs.clone().count();
    n > 0
        && syncs
            .into_iter()
            .all(|&b| b == crate::container::ts::SYNC_BYTE)
        && (n == 3 || head.len() < super::SNIFF_LEN)
}

/// Opens a `.ts` file as one pending session.
pub(crate) fn open_path(path: &Path, opts: &InputOptions) -> Result<PendingSession, InputError> {
    let input = path.display().to_string();
    let size = std::fs::metadata(path)
        .map_err(|e| InputError::io(&input, None, e))?
        .len();
    let mut warnings = Vec::new();
    let (wall_start_ms, wall_clock) = naming::wall_clock(opts, path, 0, &mut warnings);
    if wall_clock == super::WallClockSource::ModifiedTime {
        warnings.push(format!(
            "{input}: the duration of an MPEG-TS file is not known before reading it: taken as 0"
        ));
    }
    let info = SessionInfo::single(
        naming::stream_key(opts, path),
        (wall_start_ms, wall_clock),
        input.clone(),
        warnings,
    );
    let path = path.to_path_buf();
    let opener = Box::new(move || {
        let reader: Box<dyn SessionReader> = Box::new(TsSession::open(
            input.clone(),
            vec![(path.clone(), None)],
            CodecConfig::default(),
        )?);
        Ok(reader)
    });
    Ok(PendingSession::rereadable(info, Some(size), opener))
}

/// One push session read from transport stream files in order (one file, or an HLS run).
pub(crate) struct TsSession {
    input: String,
    demux: TsDemuxer,
    /// Files still to read, each with the name damage is reported under (HLS segments).
    files: VecDeque<(PathBuf, Option<String>)>,
    /// The segment being read, when named.
    segment: Option<String>,
    start: Arc<CodecConfig>,
    current: CodecConfig,
    queue: VecDeque<Event>,
    in_prelude: bool,
    prelude: Budget,
    eof: bool,
    /// The session's numbering of the program's video and audio streams.
    video_order: TrackOrder<VideoConfig>,
    audio_order: TrackOrder<AudioConfig>,
    /// Packets of streams waiting in `video_order` or `audio_order`, in input order, with the
    /// demultiplexer's numbering.
    held: Vec<Packet>,
    /// A packet of a track without its configuration was reported.
    orphan_reported: bool,
}

impl TsSession {
    /// Reads `files` in order as one timeline; `hints` as for [`TsDemuxer::new`]. A file that
    /// cannot be opened is reported and skipped. The prelude is read here.
    pub(crate) fn open(
        input: String,
        files: Vec<(PathBuf, Option<String>)>,
        hints: CodecConfig,
    ) -> Result<TsSession, InputError> {
        let mut s = TsSession {
            input,
            demux: TsDemuxer::new(hints),
            files: files.into(),
            segment: None,
            start: Arc::default(),
            current: CodecConfig::default(),
            queue: VecDeque::new(),
            in_prelude: true,
            video_order: TrackOrder::default(),
            audio_order: TrackOrder::default(),
            held: Vec::new(),
            orphan_reported: false,
            prelude: Budget::default(),
            eof: false,
        };
        while s.in_prelude {
            if !s.read_one()? || s.prelude_complete() {
                s.in_prelude = false;
                s.start = Arc::new(s.current.clone());
            }
        }
        Ok(s)
    }

    fn prelude_complete(&self) -> bool {
        let (video, audio) = self.demux.has_tracks();
        let have_all = (video > 0 || audio > 0)
            && self.current.video_tracks().count() >= video
            && self.current.audio_tracks().count() >= audio;
        have_all || self.prelude.spent()
    }

    /// Opens the next file; false when none is left.
    fn next_file(&mut self) -> bool {
        while let Some((path, name)) = self.files.pop_front() {
            match File::open(&path) {
                Ok(f) => {
                    self.demux.set_input(Box::new(BufReader::new(f)));
                    self.segment = name;
                    return true;
                }
                Err(e) => self.queue.push_back(Event::Damage(Damage::Dropped {
                    offset: 0,
                    what: format!(
                        "{}: cannot be read ({e}); its media is missing",
                        path.display()
                    ),
                })),
            }
        }
        false
    }

    /// Reads one demultiplexed item and queues its events; false at the end of every file.
    fn read_one(&mut self) -> Result<bool, InputError> {
        loop {
            if self.eof {
                return Ok(false);
            }
            let item = self
                .demux
                .next_item()
                .map_err(|e| InputError::io(&self.input, Some(self.demux.position()), e))?;
            match item {
                Some(d) => {
                    self.handle(d);
                    return Ok(true);
                }
                None => {
                    if !self.next_file() && !self.demux.end_of_stream() {
                        self.eof = true;
                        self.pass_silent();
                    }
                    if !self.queue.is_empty() {
                        return Ok(true);
                    }
                }
            }
        }
    }

    fn handle(&mut self, d: Demuxed) {
        match d {
            Demuxed::Packet(p) => self.packet(p),
            Demuxed::Video(index, v) => {
                let ready = self.video_order.configure(index, v);
                self.install_numbered(ready, Vec::new());
            }
            Demuxed::Audio(index, a) => {
                let ready = self.audio_order.configure(index, a);
                self.install_numbered(Vec::new(), ready);
            }
            Demuxed::Damage(mut d) => {
                if let Some(seg) = &self.segment {
                    name_damage(&mut d, seg);
                }
                self.queue.push_back(Event::Damage(d));
            }
            // Once per stream for the whole input, not per HLS segment.
            Demuxed::NotRecorded(n) => self.queue.push_back(Event::NotRecorded(n)),
        }
    }

    /// A packet as the demultiplexer numbers it.
    fn packet(&mut self, mut p: Packet) {
        match self.session_index(p.track) {
            Some(index) => p.track.index = index,
            None if self.is_pending(p.track) => return self.hold(p),
            None => return self.orphan(&p),
        }
        if !self.current.has_track(p.track) {
            return self.orphan(&p);
        }
        if self.in_prelude {
            self.prelude.item();
            self.prelude.media(p.dts_90k, p.data.len());
        }
        self.queue.push_back(Event::Packet(p));
    }

    /// The session's number of a demultiplexer track, once its kind's order gave it one.
    fn session_index(&self, track: Track) -> Option<u8> {
        match track.kind {
            TrackKind::Video => self.video_order.session_index(track.index),
            TrackKind::Audio => self.audio_order.session_index(track.index),
        }
    }

    fn is_pending(&self, track: Track) -> bool {
        match track.kind {
            TrackKind::Video => self.video_order.is_pending(track.index),
            TrackKind::Audio => self.audio_order.is_pending(track.index),
        }
    }

    /// Installs the configurations [`TrackOrder`] numbered, with their session indexes; the
    /// packets held for those streams follow.
    fn install_numbered(&mut self, video: Vec<(u8, VideoConfig)>, audio: Vec<(u8, AudioConfig)>) {
        if video.is_empty() && audio.is_empty() {
            return;
        }
        for (index, new) in video {
            let old = self.current.video_track(index);
            let (same, first) = (old == Some(&new), old.is_none());
            if !same {
                self.install(first, move |c| c.set_video_track(index, new));
            }
        }
        for (index, new) in audio {
            let old = self.current.audio_track(index);
            let (same, first) = (old == Some(&new), old.is_none());
            if !same {
                self.install(first, move |c| c.set_audio_track(index, new));
            }
        }
        let (ready, wait): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|p| self.session_index(p.track).is_some());
        self.held = wait;
        for p in ready {
            self.packet(p);
        }
    }

    /// Holds a packet of a stream waiting for the ones listed ahead of it; with too much held,
    /// or at the end of the input, the silent ones are passed over.
    fn hold(&mut self, p: Packet) {
        self.held.push(p);
        if self.held.len() >= prelude::MAX_ITEMS {
            self.pass_silent();
        }
    }

    fn pass_silent(&mut self) {
        let video = self.video_order.pass_silent();
        let audio = self.audio_order.pass_silent();
        self.install_numbered(video, audio);
    }

    /// A packet of a track without a configuration: dropped, reported once.
    fn orphan(&mut self, p: &Packet) {
        if std::mem::replace(&mut self.orphan_reported, true) {
            return;
        }
        let what = format!(
            "{} packets without a configuration (later ones are dropped without another report)",
            p.track
        );
        self.queue.push_back(Event::Damage(Damage::Dropped {
            offset: self.demux.position(),
            what,
        }));
    }

    fn install(&mut self, first: bool, set: impl FnOnce(&mut CodecConfig)) {
        if self.in_prelude && first {
            set(&mut self.current);
            return;
        }
        if self.in_prelude {
            // A real change: what came before it is the start.
            self.in_prelude = false;
            self.start = Arc::new(self.current.clone());
        }
        set(&mut self.current);
        self.queue
            .push_back(Event::Config(Arc::new(self.current.clone())));
    }
}

/// Prefixes damage found inside an HLS segment with the segment's name.
fn name_damage(d: &mut Damage, segment: &str) {
    let what = match d {
        Damage::Skipped { what, .. }
        | Damage::Truncated { what, .. }
        | Damage::Dropped { what, .. } => what,
        Damage::Discontinuity { .. } => return,
    };
    *what = format!("segment {segment}: {what}");
}

impl SessionReader for TsSession {
    fn config(&self) -> &Arc<CodecConfig> {
        &self.start
    }

    fn next_event(&mut self) -> Result<Option<Event>, InputError> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Ok(Some(e));
            }
            if !self.read_one()? {
                return Ok(None);
            }
        }
    }

    fn position(&self) -> u64 {
        self.demux.position()
    }
}

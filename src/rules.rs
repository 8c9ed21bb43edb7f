//! The recording rules (README "The rules"): which recording file each packet of each push session
//! goes to.
//!
//! Pure: no I/O, no clocks. The pipeline feeds one [`Engine`] per stream key with the sessions of
//! that key in wall-clock order and the packets of each, and the engine answers where each packet
//! lands (file and file-relative DTS) and records every [`Decision`] with its [`Reason`].
//!
//! - **Slicing** (highest priority): once the open file's length reaches `slice`, the file is
//!   closed before the next video keyframe (any packet when the session has no video).
//! - **Interruption**: at a session end the file is held; the next session is appended when the
//!   gap is within the splice window, the file is shorter than `slice` and `period`, and the codec
//!   configuration is equal. Otherwise the held file is closed and a new one opened.
//! - **Recording period**: consulted only at a resume; a continuous push never cuts on it.
//! - **Codec change** inside a session closes the file and opens a new one, which begins where
//!   the closed one ended: a packet timed before that (a late track's first packets, stamped
//!   earlier than media already written) is dropped, so files never overlap.
//!
//! A file's *length* is the media duration written into it: an appended session continues the
//! file's timeline right after the previous session's last packet, so gaps never count.

use crate::media::{CodecConfig, Track as MediaTrack, TrackKind, to_ms};

/// The rules' settings, in milliseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub slice_ms: i64,
    /// `None`: no recording period.
    pub period_ms: Option<i64>,
    /// 0: never splice.
    pub splice_window_ms: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            slice_ms: 6 * 3600 * 1000,
            period_ms: None,
            splice_window_ms: 3 * 60 * 1000,
        }
    }
}

/// Where a packet goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    Write {
        file: FileId,
        /// DTS in the file's timeline (0 at the file's first packet).
        file_dts_90k: i64,
        /// How far the DTS was raised because it fell before the file's first packet: 0 unless
        /// the input delivers a track further out of decode order than the pipeline reads ahead.
        raised_90k: i64,
    },
    /// A video packet before the first keyframe of a file: undecodable, so not written.
    DropBeforeKeyframe,
    /// A packet timed before a codec change's cut inside its session (a track that first
    /// appears late, stamped earlier than media already written): its time lies in the file
    /// closed at the change, which has the old configuration, so it is not written.
    DropBeforeCut,
}

/// How far a track may overlap its previous packet when an appended session's lead track
/// continues the file exactly: the error of a duration estimated from a millisecond DTS step.
pub(crate) const JOIN_TOLERANCE_90K: i64 = 2 * 90;

/// Where each track of a session begins (session DTS of its first packet), as far as known
/// before the session's first packet is placed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TrackStarts {
    pub(crate) video_90k: Option<i64>,
    pub(crate) audio_90k: Option<i64>,
}

impl TrackStarts {
    fn of(&self, kind: TrackKind) -> Option<i64> {
        match kind {
            TrackKind::Video => self.video_90k,
            TrackKind::Audio => self.audio_90k,
        }
    }
}

/// A track's media in the open file, in file DTS.
#[derive(Clone, Copy, Debug)]
struct FileTrack {
    last_dts_90k: i64,
    /// The latest packet's DTS plus its estimated duration.
    end_90k: i64,
}

#[derive(Clone, Debug)]
struct OpenFile {
    id: FileId,
    wall_start_ms: i64,
    /// End of the media written so far: the latest end of any track (DTS + duration estimate).
    len_90k: i64,
    /// Length carried over from earlier sessions in the file (appends start after it).
    base_90k: i64,
    config: CodecConfig,
    /// The video tracks with no packet written yet (the first of each must be a keyframe).
    awaiting_keyframe: Vec<MediaTrack>,
    video: Option<FileTrack>,
    audio: Option<FileTrack>,
}

impl OpenFile {
    fn track(&self, kind: TrackKind) -> Option<FileTrack> {
        match kind {
            TrackKind::Video => self.video,
            TrackKind::Audio => self.audio,
        }
    }

    fn track_mut(&mut self, kind: TrackKind) -> &mut Option<FileTrack> {
        match kind {
            TrackKind::Video => &mut self.video,
            TrackKind::Audio => &mut self.audio,
        }
    }

    /// Where an appended session's first packet lands (file DTS), given where its tracks
    /// begin. Each track would continue right after its own last packet (DTS + estimated
    /// duration); the lead track (video when the file has video) decides, so slices of one push
    /// join back into its timeline exactly, as long as no other track then overlaps its previous
    /// packet by more than [`JOIN_TOLERANCE_90K`] (a duration estimate's error). Otherwise (pushes
    /// whose tracks end apart), and without the track starts, the session's first packet lands
    /// right after the file's end.
    fn continuation_90k(&self, starts: &TrackStarts) -> i64 {
        let Some(first) = [starts.video_90k, starts.audio_90k]
            .into_iter()
            .flatten()
            .min()
        else {
            return self.len_90k;
        };
        let lead = match self.config.video {
            Some(_) => TrackKind::Video,
            None => TrackKind::Audio,
        };
        let after = |k: TrackKind| {
            let t = self.track(k)?;
            Some(t.end_90k.max(t.last_dts_90k + 1) - starts.of(k)?)
        };
        let every = [TrackKind::Video, TrackKind::Audio]
            .into_iter()
            .filter_map(after)
            .max();
        let offset = match (after(lead), every) {
            (Some(lead), Some(every)) if every - lead <= JOIN_TOLERANCE_90K => {
                // Within the tolerance, still never behind a track's last packet.
                let floor = [TrackKind::Video, TrackKind::Audio]
                    .into_iter()
                    .filter_map(|k| Some(self.track(k)?.last_dts_90k + 1 - starts.of(k)?))
                    .max();
                floor.map_or(lead, |f| f.max(lead))
            }
            // As a log of the pushes (which knows their lengths only) predicts it.
            (Some(_) | None, Some(_) | None) => self.len_90k - first,
        };
        first + offset
    }
}

#[derive(Clone, Debug)]
struct Track {
    last_dts_90k: i64,
    /// Last DTS step: the duration given to the track's latest packet.
    last_delta_90k: i64,
}

impl Track {
    /// Where the track's media ends: its latest packet plus that packet's estimated duration.
    /// Replaced by every packet, so an early guess never outlives the packet that corrects it.
    fn end_90k(&self) -> i64 {
        self.last_dts_90k + self.last_delta_90k
    }
}

#[derive(Clone, Debug)]
struct Session {
    index: usize,
    wall_start_ms: i64,
    config: CodecConfig,
    /// Session DTS of its first packet (`None` until it arrives).
    first_dts_90k: Option<i64>,
    /// file DTS = session DTS + offset, for the current file.
    offset_90k: i64,
    video: Option<Track>,
    audio: Option<Track>,
    /// What opens the next file, when the next packet must open one.
    pending_open: Option<Reason>,
    /// Set when this session was appended, until its first packet: the file DTS that packet
    /// lands at.
    append_at_90k: Option<i64>,
    /// Session DTS where the media of the file a codec change closed ended: the next file
    /// begins there, so files never overlap.
    cut_90k: Option<i64>,
}

impl Session {
    fn wall_at(&self, dts_90k: i64) -> i64 {
        self.wall_start_ms + to_ms(dts_90k - self.first_dts_90k.unwrap_or(dts_90k))
    }

    /// End of the session's media in session DTS: the later of its tracks' ends.
    fn end_dts_90k(&self) -> i64 {
        let ends = [&self.video, &self.audio]
            .into_iter()
            .flatten()
            .map(Track::end_90k);
        ends.max().unwrap_or(self.first_dts_90k.unwrap_or(0))
    }

    fn wall_end_ms(&self) -> i64 {
        self.wall_at(self.end_dts_90k())
    }

    fn track(&mut self, kind: TrackKind) -> &mut Option<Track> {
        match kind {
            TrackKind::Video => &mut self.video,
            TrackKind::Audio => &mut self.audio,
        }
    }

    /// Per-track duration bookkeeping: the latest packet lasts as long as the last step.
    fn note(&mut self, track: TrackKind, dts_90k: i64) {
        let slot = self.track(track);
        let delta = match slot {
            Some(t) => (dts_90k - t.last_dts_90k).max(0),
            None => 0,
        };
        let last_delta = match slot {
            Some(t) if delta == 0 => t.last_delta_90k,
            _ => delta,
        };
        *slot = Some(Track {
            last_dts_90k: dts_90k,
            last_delta_90k: last_delta,
        });
    }
}

/// The rules for one stream key.
#[derive(Debug)]
pub struct Engine {
    settings: Settings,
    file: Option<OpenFile>,
    session: Option<Session>,
    /// Wall end of the previous session, for the gap.
    prev_wall_end_ms: Option<i64>,
    next_file: FileId,
    sessions: usize,
    decisions: Vec<Decision>,
}

impl Engine {
    pub fn new(settings: Settings) -> Engine {
        Engine {
            settings,
            file: None,
            session: None,
            prev_wall_end_ms: None,
            next_file: 0,
            sessions: 0,
            decisions: Vec::new(),
        }
    }

    /// Decisions taken since the last call, in order.
    pub fn drain_decisions(&mut self) -> std::vec::Drain<'_, Decision> {
        self.decisions.drain(..)
    }

    /// A push session begins. `wall_start_ms` is the wall clock of its first packet.
    pub fn begin_session(&mut self, wall_start_ms: i64, config: &CodecConfig) {
        self.begin_session_at(wall_start_ms, config, TrackStarts::default());
    }

    /// [`Engine::begin_session`], knowing where the session's tracks begin (the pipeline reads
    /// ahead to order packets): an appended session then continues the file track by track
    /// ([`OpenFile::continuation_90k`]).
    pub(crate) fn begin_session_at(
        &mut self,
        wall_start_ms: i64,
        config: &CodecConfig,
        starts: TrackStarts,
    ) {
        if self.session.is_some() {
            self.end_session();
        }
        let index = self.sessions;
        self.sessions += 1;
        let mut session = Session {
            index,
            wall_start_ms,
            config: config.clone(),
            first_dts_90k: None,
            offset_90k: 0,
            video: None,
            audio: None,
            pending_open: Some(Reason::FirstPush),
            append_at_90k: None,
            cut_90k: None,
        };
        if let Some(held) = &self.file {
            let gap_ms = (wall_start_ms - self.prev_wall_end_ms.unwrap_or(wall_start_ms)).max(0);
            let len_ms = to_ms(held.len_90k);
            let s = &self.settings;
            let verdict = if gap_ms > s.splice_window_ms || s.splice_window_ms == 0 {
                Some(Reason::GapExceeded)
            } else if len_ms >= s.slice_ms {
                Some(Reason::SliceExceededAtResume)
            } else if s.period_ms.is_some_and(|p| len_ms >= p) {
                Some(Reason::PeriodExceeded)
            } else if held.config != *config {
                Some(Reason::CodecChange)
            } else {
                None
            };
            match verdict {
                Some(reason) => {
                    self.close(reason, Some(gap_ms));
                    session.pending_open = Some(reason);
                }
                None => {
                    let start_90k = held.continuation_90k(&starts);
                    session.pending_open = None;
                    session.append_at_90k = Some(start_90k);
                    self.decisions.push(Decision::Append {
                        file: held.id,
                        session: index,
                        gap_ms,
                        file_len_90k: held.len_90k,
                        start_90k,
                        wall_start_ms,
                    });
                }
            }
        }
        self.session = Some(session);
    }

    /// The codec configuration changed inside the running session.
    pub(crate) fn config_change(&mut self, config: &CodecConfig) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        if session.config == *config {
            return;
        }
        session.config = config.clone();
        if self.file.is_some() {
            if session.first_dts_90k.is_some() {
                // The closed file ends where the session's media ends (as `close` says it).
                session.cut_90k = Some(session.end_dts_90k()).max(session.cut_90k);
            }
            self.close(Reason::CodecChange, None);
            if let Some(s) = self.session.as_mut() {
                s.pending_open = Some(Reason::CodecChange);
            }
        } else if let Some(s) = self.session.as_mut() {
            // Nothing written yet: the file opens with the new configuration.
            s.pending_open.get_or_insert(Reason::CodecChange);
        }
    }

    /// Places one packet of the running session. `dts_90k` is in the session's own timeline.
    /// Files are cut at keyframes of the first video track.
    pub fn packet(&mut self, track: MediaTrack, dts_90k: i64, keyframe: bool) -> Placement {
        let Some(session) = self.session.as_mut() else {
            panic!("Engine::packet outside a session");
        };
        if session.cut_90k.is_some_and(|cut| dts_90k < cut) {
            return Placement::DropBeforeCut;
        }
        let has_video = session.config.video.is_some();
        let first = *session.first_dts_90k.get_or_insert(dts_90k);
        let kind = track.kind;
        session.note(kind, dts_90k);
        let may_cut = !has_video || (track == MediaTrack::VIDEO && keyframe);

        // Rule 1: slicing inside a push.
        if session.pending_open.is_none() && session.append_at_90k.is_none() && may_cut {
            self.slice_if_due(dts_90k);
        }
        let session = self.session.as_mut().expect("checked above");
        if let Some(reason) = session.pending_open {
            if has_video && kind == TrackKind::Video && !keyframe {
                return Placement::DropBeforeKeyframe;
            }
            self.open_file(reason, dts_90k);
        } else if let Some(at) = session.append_at_90k.take() {
            // First packet of an appended session: continue right after the file's end.
            session.offset_90k = at - first;
            if let Some(f) = self.file.as_mut() {
                f.base_90k = f.len_90k;
            }
        }
        self.write_into_file(track, dts_90k, keyframe)
    }

    /// Closes the open file when the packet at `dts_90k`, where a cut may fall, reaches the
    /// slice length; the next packet that may start a file opens one.
    fn slice_if_due(&mut self, dts_90k: i64) {
        let session = self.session.as_mut().expect("in a session");
        let file_dts = dts_90k + session.offset_90k;
        if let Some(closing) = self
            .file
            .take_if(|f| to_ms(file_dts) >= self.settings.slice_ms && f.len_90k > 0)
        {
            // The file ends where its media ends (a last audio frame may reach past the cut).
            let len_90k = closing.len_90k.max(file_dts);
            self.decisions.push(Decision::Close {
                file: closing.id,
                reason: Reason::Slice,
                wall_start_ms: closing.wall_start_ms,
                wall_end_ms: session.wall_at(len_90k - session.offset_90k),
                len_90k,
                gap_ms: None,
            });
            session.pending_open = Some(Reason::Slice);
        }
    }

    /// Opens a file at the packet at `dts_90k`, for `reason`.
    fn open_file(&mut self, reason: Reason, dts_90k: i64) {
        let session = self.session.as_mut().expect("in a session");
        session.pending_open = None;
        let id = self.next_file;
        self.next_file += 1;
        let wall_start_ms = session.wall_at(dts_90k);
        session.offset_90k = -dts_90k;
        self.file = Some(OpenFile {
            id,
            wall_start_ms,
            len_90k: 0,
            base_90k: 0,
            config: session.config.clone(),
            awaiting_keyframe: session.config.video_tracks().map(|(t, _)| t).collect(),
            video: None,
            audio: None,
        });
        self.decisions.push(Decision::Open {
            file: id,
            reason,
            wall_start_ms,
            session: session.index,
        });
    }

    /// Writes the packet into the open file (a video file's first packet must be a keyframe)
    /// and moves the file's end.
    fn write_into_file(&mut self, track: MediaTrack, dts_90k: i64, keyframe: bool) -> Placement {
        let session = self.session.as_mut().expect("in a session");
        let file = self
            .file
            .as_mut()
            .expect("a file is open after the checks above");
        if let Some(at) = file.awaiting_keyframe.iter().position(|&t| t == track) {
            if !keyframe {
                return Placement::DropBeforeKeyframe;
            }
            file.awaiting_keyframe.swap_remove(at);
        }
        let track = track.kind;
        let file_dts_90k = (dts_90k + session.offset_90k).max(0);
        let raised_90k = file_dts_90k - (dts_90k + session.offset_90k);
        let end_90k = session.track(track).as_ref().map_or(0, Track::end_90k) + session.offset_90k;
        *file.track_mut(track) = Some(FileTrack {
            last_dts_90k: file_dts_90k,
            end_90k: end_90k.max(file_dts_90k),
        });
        file.len_90k = file
            .base_90k
            .max(session.end_dts_90k() + session.offset_90k);
        Placement::Write {
            file: file.id,
            file_dts_90k,
            raised_90k,
        }
    }

    /// The running session ended; its file is held for a possible resume. Returns the wall
    /// clock of the end of the session's last packet (`None` for a session without packets).
    pub fn end_session(&mut self) -> Option<i64> {
        let s = self.session.take().filter(|s| s.first_dts_90k.is_some())?;
        let end = s.wall_end_ms();
        self.prev_wall_end_ms = Some(end);
        Some(end)
    }

    /// No more sessions: the held file is closed.
    pub fn finish(&mut self) {
        self.end_session();
        if self.file.is_some() {
            self.close(Reason::EndOfInput, None);
        }
    }

    fn close(&mut self, reason: Reason, gap_ms: Option<i64>) {
        let Some(file) = self.file.take() else {
            return;
        };
        // The file ends where its media ends, in the wall clock of the session that wrote last.
        let wall_end_ms = match &self.session {
            Some(s) if s.first_dts_90k.is_some() && s.append_at_90k.is_none() => s.wall_end_ms(),
            _ => self
                .prev_wall_end_ms
                .unwrap_or(file.wall_start_ms + to_ms(file.len_90k)),
        };
        self.decisions.push(Decision::Close {
            file: file.id,
            reason,
            wall_start_ms: file.wall_start_ms,
            wall_end_ms,
            len_90k: file.len_90k,
            gap_ms,
        });
    }
}

mod decision;
mod span;
pub use decision::{Decision, FileId, Reason};
pub(crate) use decision::{duration_display, wall_ms_display};
pub(crate) use span::Span;

#[cfg(test)]
mod tests;

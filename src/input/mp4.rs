//! MP4 input (ISO/IEC 14496-12 ISO base media file format, ISO/IEC 14496-14 MP4, ISO/IEC
//! 14496-15 AVC/HEVC carriage): a recording file read back as one push session, for `splice`
//! and `inspect` (README "Inspecting inputs and recordings").
//!
//! ```text
//! ftyp                  brands (reported)
//! moov                  read into memory wherever it is, before or after mdat
//!   mvhd                timescale, creation time
//!   trak                first video (hdlr vide) and first audio (hdlr soun) track used
//!     edts/elst         leading empty edits + first media edit (see below)
//!     mdia/mdhd         media timescale
//!     mdia/minf/stbl    stsd (avc1/avc3+avcC, hvc1/hev1+hvcC, mp4a+esds, .mp3), stts, ctts,
//!                       stss, stsz/stz2, stsc, stco/co64: walked sample by sample (cursor)
//! mdat                  never read whole: each sample is read at its offset when yielded
//! moof/traf             movie fragments (tfhd, tfdt, trun with trex/tfhd defaults): their
//!                       samples appended to the track's tables ([`fragment`])
//! ```
//!
//! - [`boxes`]: framing, every size checked against its parent and the file;
//! - [`movie`]: the top-level walk and `moov`; [`track`]: one `trak`; [`entry`]: sample
//!   entries → codec configuration (source bytes); [`cursor`]: sample tables → samples.
//!
//! **Times.** A sample's movie time is what the edit list makes of it, as ffmpeg presents it:
//! `dts = empty + (dts_media − media_time)` and `pts = empty + (dts_media + ctts − media_time)`,
//! where `empty` is the total of the leading empty edits (movie timescale) and `media_time` the
//! first media edit's start (media timescale); `cts_90k = pts_90k − dts_90k`. Edits after the
//! first media edit are not applied (reported). Media ticks become 90 kHz exactly when the
//! timescale divides 90000 (1000, 90000, 48000 does not): otherwise each *absolute* time is
//! rounded to the nearest tick, so rounding never accumulates. An MP4 keeps no absolute origin:
//! for kls-rec's own files (whose movie time 0 is the earliest presentation time of any track)
//! this gives back exactly the DTS/CTS the writer received, less that earliest PTS.
//!
//! Packets are yielded in DTS order across the two tracks (ties by file offset, so the writer's
//! interleaving is kept). Memory is the sample tables plus one payload.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use super::hls::naming;
use super::{InputError, InputOptions, PendingSession, SessionInfo, SessionReader};
use crate::codec::mp3;
use crate::media::{CodecConfig, Damage, Event, Packet, Track as MediaTrack, TrackKind};

pub(crate) mod boxes;
pub(crate) mod cursor;
pub(crate) mod entry;
pub(crate) mod fragment;
pub mod movie;

#[cfg(test)]
pub(crate) mod tests;
pub mod track;

pub use movie::{BoxInfo, Movie};

use cursor::{Cursor, Sample, TableError};
use entry::EntryCodec;
use track::Track;

/// Reads the box layout and sample tables of an MP4 file (no sample data), for `inspect`.
pub fn read_index(path: &Path) -> Result<Movie, InputError> {
    let input = path.display().to_string();
    Ok(open_movie(path, &input)?.1)
}

/// Bytes an MP4 is read from: a file, or an fMP4 HLS run's init segment and media segments
/// read as one ([`super::concat::Concat`]).
pub(crate) trait Source: Read + Seek + Send {}
impl<T: Read + Seek + Send> Source for T {}

type Reader = BufReader<Box<dyn Source>>;

fn open_movie(path: &Path, input: &str) -> Result<(Reader, Movie), InputError> {
    let file = File::open(path).map_err(|e| InputError::io(input, None, e))?;
    let len = file
        .metadata()
        .map_err(|e| InputError::io(input, None, e))?
        .len();
    read_source(Box::new(file), len, input)
}

fn read_source(
    source: Box<dyn Source>,
    len: u64,
    input: &str,
) -> Result<(Reader, Movie), InputError> {
    let mut f = BufReader::new(source);
    let movie = movie::read_movie(&mut f, len)
        .map_err(|e| InputError::new(input, Some(e.offset), e.message))?;
    Ok((f, movie))
}

/// Opens an MP4 file as one pending session. The `moov` is read now (to validate the file and
/// know its duration) and handed to the session.
pub(crate) fn open_path(path: &Path, opts: &InputOptions) -> Result<PendingSession, InputError> {
    let input = path.display().to_string();
    let session = Mp4Session::open(path)?;
    let mut warnings = session.warnings.clone();
    let duration_ms = session.movie_duration_ms;
    let (wall_start_ms, wall_clock) = naming::wall_clock(opts, path, duration_ms, &mut warnings);
    let info = SessionInfo::single(
        naming::stream_key(opts, path),
        (wall_start_ms, wall_clock),
        input,
        warnings,
    );
    let size = session.movie_file_len;
    // The first opening takes the movie read here; a later one reads the `moov` again.
    let first = std::sync::Mutex::new(Some(session));
    let path = path.to_path_buf();
    let opener = Box::new(move || {
        let taken = first.lock().unwrap_or_else(|p| p.into_inner()).take();
        let session = match taken {
            Some(s) => s,
            None => Mp4Session::open(&path)?,
        };
        let reader: Box<dyn SessionReader> = Box::new(session);
        Ok(reader)
    });
    Ok(PendingSession::rereadable(info, Some(size), opener))
}

/// One used track: its tables, where its walk is, and its time mapping.
struct TrackReader {
    /// The session track its samples are.
    stream: MediaTrack,
    track: Track,
    cursor: Cursor,
    /// The next sample, read ahead for the DTS-order merge.
    peek: Option<Sample>,
    /// Leading empty edits in 90 kHz.
    empty_90k: i64,
    /// Damage already reported for a short `stts`.
    stts_reported: bool,
}

impl TrackReader {
    fn to_90k(&self, ticks: i64) -> i64 {
        rescale_90k(ticks, self.track.timescale)
    }

    fn dts_90k(&self, s: &Sample) -> i64 {
        self.empty_90k + self.to_90k(s.dts - self.track.edit.media_time)
    }

    fn pts_90k(&self, s: &Sample) -> i64 {
        self.empty_90k + self.to_90k(s.dts + i64::from(s.cts) - self.track.edit.media_time)
    }
}

/// `ticks` of a `timescale` clock in 90 kHz, rounded to nearest (exact when it divides 90000).
pub(crate) fn rescale_90k(ticks: i64, timescale: u32) -> i64 {
    let ts = i128::from(timescale.max(1));
    let num = i128::from(ticks) * 90_000 * 2 + ts;
    let v = num.div_euclid(2 * ts);
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// Reads an MP4 file's samples as one session.
pub struct Mp4Session {
    input: String,
    file: Reader,
    /// File offset the reader stands at.
    pos: u64,
    file_len: u64,
    tracks: Vec<TrackReader>,
    config: Arc<CodecConfig>,
    queue: std::collections::VecDeque<Event>,
    /// Facts found while opening, for [`SessionInfo::warnings`].
    pub(crate) warnings: Vec<String>,
    movie_duration_ms: i64,
    movie_file_len: u64,
}

impl Mp4Session {
    /// Reads the `moov` and chooses the first video and first audio track with a codec kls-rec
    /// carries; other tracks are named in [`Mp4Session::warnings`].
    pub fn open(path: &Path) -> Result<Mp4Session, InputError> {
        let input = path.display().to_string();
        let (file, movie) = open_movie(path, &input)?;
        Mp4Session::from_movie(input, file, movie)
    }

    /// An fMP4 HLS run: the init segment and the media segments after it, read as one
    /// fragmented file; `input` names the playlist. Offsets in reports count from the init
    /// segment's first byte, the segments following in playlist order.
    pub fn open_segments(
        input: String,
        files: Vec<std::path::PathBuf>,
    ) -> Result<Mp4Session, InputError> {
        let concat =
            super::concat::Concat::new(files).map_err(|e| InputError::io(&input, None, e))?;
        let len = concat.len();
        let (file, movie) = read_source(Box::new(concat), len, &input)?;
        Mp4Session::from_movie(input, file, movie)
    }

    fn from_movie(input: String, mut file: Reader, movie: Movie) -> Result<Mp4Session, InputError> {
        let mut warnings: Vec<String> = movie
            .warnings
            .iter()
            .map(|w| format!("{input}: {w}"))
            .collect();
        let mut config = CodecConfig::default();
        let mut tracks = Vec::new();
        for t in movie.tracks {
            let mut note = |w: String| warnings.push(format!("{input}: {w}"));
            tracks.extend(take_track(t, movie.timescale, &mut config, &mut note));
        }
        if tracks.is_empty() {
            return Err(InputError::new(
                &input,
                None,
                "no video or audio track with a supported codec (H.264, HEVC, AV1, VP9, AAC, MP3, \
                 Opus, FLAC, AC-3, E-AC-3)",
            ));
        }
        let mut queue = std::collections::VecDeque::new();
        for t in &mut tracks {
            advance(t, &mut queue);
        }
        // MP3 has no configuration record: the first frame's header is its configuration.
        if let Some(a) = config
            .audio
            .as_mut()
            .filter(|a| a.codec.ids().path.mp4_config_from_frames)
            && let Some(s) = tracks
                .iter()
                .find(|t| t.stream == MediaTrack::AUDIO)
                .and_then(|t| t.peek)
            && let Some(h) = mp3_header_at(&mut file, s.offset, movie.file_len)
        {
            *a = mp3::audio_config(h.sample_rate, h.channels);
        }
        let movie_duration_ms = rescale_90k(
            i64::try_from(movie.duration).unwrap_or(i64::MAX),
            movie.timescale,
        ) / 90;
        let pos = file
            .stream_position()
            .map_err(|e| InputError::io(&input, None, e))?;
        Ok(Mp4Session {
            input,
            file,
            pos,
            file_len: movie.file_len,
            tracks,
            config: Arc::new(config),
            queue,
            warnings,
            movie_duration_ms,
            movie_file_len: movie.file_len,
        })
    }

    /// Reads `size` bytes at `offset`, seeking only when not already there.
    fn read_payload(&mut self, offset: u64, size: u32) -> Result<Vec<u8>, InputError> {
        if offset != self.pos {
            let delta = offset as i128 - self.pos as i128;
            let r = if let Ok(d) = i64::try_from(delta) {
                self.file.seek_relative(d)
            } else {
                self.file.seek(SeekFrom::Start(offset)).map(|_| ())
            };
            r.map_err(|e| InputError::io(&self.input, Some(offset), e))?;
        }
        // The caller checked offset + size against the file length.
        let mut data = vec![0u8; size as usize];
        self.file
            .read_exact(&mut data)
            .map_err(|e| InputError::io(&self.input, Some(offset), e))?;
        self.pos = offset + u64::from(size);
        Ok(data)
    }
}

/// Reads a track's next sample into `peek`, queueing the damage found on the way.
fn advance(t: &mut TrackReader, queue: &mut std::collections::VecDeque<Event>) {
    t.peek = match t.cursor.next(&t.track.tables) {
        Ok(s) => s,
        Err(e) => {
            let (sample, why) = match e {
                TableError::NoChunk { sample } => (sample, "stsc/stco place no chunk for it"),
                TableError::BadOffset { sample } => (sample, "its offset overflows"),
            };
            queue.push_back(Event::Damage(Damage::Truncated {
                offset: t.track.offset,
                what: format!(
                    "{} track {}: sample tables end at sample {} of {} ({why})",
                    t.stream.kind,
                    t.track.id,
                    sample + 1,
                    t.track.tables.sizes.as_ref().map_or(0, |s| s.count())
                ),
            }));
            None
        }
    };
    if t.cursor.stts_short && !t.stts_reported {
        t.stts_reported = true;
        queue.push_back(Event::Damage(Damage::Dropped {
            offset: t.track.offset,
            what: format!(
                "{} track {}: 'stts' covers fewer samples than 'stsz'; the rest get no decode delta",
                t.stream.kind, t.track.id
            ),
        }));
    }
}

impl SessionReader for Mp4Session {
    fn config(&self) -> &Arc<CodecConfig> {
        &self.config
    }

    fn next_event(&mut self) -> Result<Option<Event>, InputError> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Ok(Some(e));
            }
            let next = self
                .tracks
                .iter()
                .enumerate()
                .filter_map(|(i, t)| t.peek.map(|s| (t.dts_90k(&s), s.offset, i)))
                .min();
            let Some((dts_90k, _, i)) = next else {
                return Ok(None);
            };
            let t = &mut self.tracks[i];
            let Some(s) = t.peek else {
                return Ok(None);
            };
            let (stream, id) = (t.stream, t.track.id);
            let kind = stream.kind;
            let pts_90k = t.pts_90k(&s);
            advance(t, &mut self.queue);
            if s.offset.saturating_add(u64::from(s.size)) > self.file_len {
                // The mdat is cut: this sample and every later one of the track are lost.
                let t = &mut self.tracks[i];
                let left = t.track.tables.sizes.as_ref().map_or(0, |z| z.count()) - s.number;
                t.peek = None;
                self.queue.push_back(Event::Damage(Damage::Truncated {
                    // A table may place the sample wholly past the end: name the end then.
                    offset: s.offset.min(self.file_len),
                    what: format!(
                        "{kind} track {id}: sample {} of {} bytes runs past the end of the file \
                         ({} bytes); {left} samples lost",
                        s.number + 1,
                        s.size,
                        self.file_len
                    ),
                }));
                continue;
            }
            let data = self.read_payload(s.offset, s.size)?;
            let cts = pts_90k.saturating_sub(dts_90k);
            let cts_90k = i32::try_from(cts).unwrap_or(if cts < 0 { i32::MIN } else { i32::MAX });
            return Ok(Some(Event::Packet(Packet {
                track: stream,
                dts_90k,
                cts_90k,
                keyframe: kind == TrackKind::Audio || s.sync,
                data,
                offset_ns: 0,
            })));
        }
    }

    fn position(&self) -> u64 {
        self.pos
    }
}

/// The reader of one `trak`, its codec configuration set in `config`; `None` when it is not
/// read (`note` says why). Every track is read, in file order.
fn take_track(
    t: Track,
    timescale: u32,
    config: &mut CodecConfig,
    note: &mut impl FnMut(String),
) -> Option<TrackReader> {
    let Some(kind) = t.kind else {
        note(format!("track {} ('{}') ignored", t.id, t.handler));
        return None;
    };
    let known = match kind {
        TrackKind::Video => config.video_tracks().count(),
        TrackKind::Audio => config.audio_tracks().count(),
    };
    let Ok(index) = u8::try_from(known) else {
        note(format!(
            "{kind} track {} ignored (at most 256 {kind} tracks are read)",
            t.id
        ));
        return None;
    };
    let stream = MediaTrack { kind, index };
    match t.entry.as_ref().map(|e| &e.codec) {
        Some(EntryCodec::Video(v)) => config.set_video_track(index, v.clone()),
        Some(EntryCodec::Audio(a)) => config.set_audio_track(index, a.clone()),
        Some(EntryCodec::Unsupported(why)) => {
            note(format!(
                "{kind} track {} ignored: {why} is not supported",
                t.id
            ));
            return None;
        }
        None => {
            note(format!("{kind} track {} has no sample entry", t.id));
            return None;
        }
    }
    if t.edit.ignored_edits > 0 {
        note(format!(
            "{kind} track {}: {} edit(s) after the first media edit are not applied",
            t.id, t.edit.ignored_edits
        ));
    }
    let empty_90k = rescale_90k(
        i64::try_from(t.edit.empty_movie).unwrap_or(i64::MAX),
        timescale,
    );
    let cursor = Cursor::new(&t.tables);
    Some(TrackReader {
        stream,
        track: t,
        cursor,
        peek: None,
        empty_90k,
        stts_reported: false,
    })
}

/// The MP3 frame header at `offset`, if the file holds one there.
fn mp3_header_at(file: &mut Reader, offset: u64, file_len: u64) -> Option<mp3::Mp3Header> {
    let mut head = [0u8; 4];
    (offset.saturating_add(4) <= file_len
        && file.seek(SeekFrom::Start(offset)).is_ok()
        && file.read_exact(&mut head).is_ok())
    .then(|| mp3::parse_header(&head).ok())
    .flatten()
}

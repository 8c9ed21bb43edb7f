//! One recording file while it is open: a writer per requested format, or in the index pass
//! the planners of its MP4 and FLV layout. Whether MP4 and FLV follow a plan or spool their
//! media is chosen here, once, from the stream's [`Plans`]; a format whose writer fails is
//! reported once and left out, and the other formats' files go on. A format that cannot carry
//! some of the file's tracks ([`Carried`]) gets the others, and writes no file when it carries
//! none.

use std::borrow::Cow;
use std::io::Write;
use std::sync::Arc;

use anyhow::Result;

use super::index_pass::{self, FilePlans, Planners, Plans};
use super::{RecordOptions, Summary};
use crate::media::{CodecConfig, Packet, StreamKey};
use crate::mediainfo::FileStats;
use crate::mux::carry::Carried;
use crate::mux::{FileClose, FileOpen, Format, Muxer, Produced, SessionStart};
use crate::rules::Reason;
use crate::sink::naming;

/// An open recording file: one muxer per format, and what the callbacks need.
pub(super) struct OpenFile {
    muxers: Vec<(Format, Box<dyn Muxer>)>,
    /// In the index pass, instead of muxers: the file's plans being learnt.
    planners: Option<Planners>,
    pub(crate) opened: Reason,
    pub(crate) config: Arc<CodecConfig>,
    pub(crate) stats: FileStats,
    pub(crate) vdoid: Option<String>,
    /// Formats whose writer failed to open or to write (reported then): not completed, so no
    /// second error follows.
    failed: Vec<Format>,
    /// Formats that cannot carry some of the file's tracks (reported as lost media): each
    /// writer gets only the tracks its format carries, and a format left with none writes no
    /// file.
    partial: Vec<(Format, Carried)>,
}

/// How a file opens: why, when, with which configuration, for which push.
pub(super) struct Opening<'a> {
    pub(crate) reason: Reason,
    pub(crate) wall_start_ms: i64,
    pub(crate) config: &'a Arc<CodecConfig>,
    pub(crate) vdoid: Option<String>,
    /// The input of the push being read.
    pub(crate) input: &'a str,
    /// The formats that cannot carry every track, with what each carries.
    pub(crate) partial: Vec<(Format, Carried)>,
    /// The number of the first HLS segment ([`crate::mux::FileOpen::first_segment`]).
    pub(crate) first_segment: usize,
}

impl OpenFile {
    /// Opens the file's writers (or its planners, in the index pass). A format that cannot be
    /// written is reported and does not cost the others their files.
    pub(crate) fn open(
        key: &StreamKey,
        opts: &RecordOptions,
        plans: &Plans,
        opening: Opening<'_>,
        log: &mut dyn Write,
        summary: &mut Summary,
    ) -> Result<OpenFile> {
        let start_time_s = naming::name_second(opening.wall_start_ms);
        let (input, config) = (opening.input, opening.config);
        let mut file = OpenFile {
            muxers: Vec::new(),
            planners: None,
            opened: opening.reason,
            config: config.clone(),
            stats: FileStats::default(),
            vdoid: opening.vdoid,
            failed: Vec::new(),
            partial: opening.partial,
        };
        let mut plans = match plans {
            Plans::Learn(_) => {
                // Each format is planned with the tracks it carries, as its writer is opened.
                let formats: Vec<(Format, &CodecConfig)> = (opts.formats.iter())
                    .filter(|&&f| file.writes(f))
                    .map(|&f| (f, file.config_of(f)))
                    .collect();
                file.planners = Some(Planners::new(&formats, start_time_s, input));
                return Ok(file);
            }
            // The write pass's file takes its plans whether or not a writer opens.
            Plans::Follow(next) => Some(next.recv().unwrap_or_default()),
            Plans::Spool => None,
        };
        if opts.dry_run {
            return Ok(file);
        }
        let stream_name = naming::safe_component(&key.stream);
        for &format in &opts.formats {
            if !file.writes(format) {
                continue;
            }
            let dir = (opts.out_dir).join(naming::format_dir(&key.app, &key.stream, format));
            let open = FileOpen {
                dir: &dir,
                stream_name: &stream_name,
                start_time_s,
                first_segment: opening.first_segment,
                config: file.config_of(format),
                options: &opts.mux,
            };
            let first = SessionStart {
                file_dts_90k: 0,
                wall_ms: opening.wall_start_ms,
                spliced: false,
            };
            let opened = index_pass::open_muxer(format, &open, plans.as_mut(), input)
                .and_then(|mut m| m.begin_session(&first).map(|()| m));
            match opened {
                Ok(m) => file.muxers.push((format, m)),
                Err(e) => {
                    let msg = format!("{input}: stream {}: no {format} file: {e:#}", key);
                    summary.fail(log, msg)?;
                    file.failed.push(format);
                }
            }
        }
        Ok(file)
    }

    /// A push session from `input` is spliced into the file.
    pub(crate) fn begin_session(&mut self, start: &SessionStart, input: &str) -> Result<()> {
        for (format, m) in &mut self.muxers {
            if !self.failed.contains(format) {
                m.begin_session(start)?;
            }
        }
        if let Some(p) = self.planners.as_mut() {
            p.begin_session(input);
        }
        Ok(())
    }

    /// One placed packet into the file's writers. A writer that fails is reported once and
    /// stops; the other formats' files go on.
    pub(crate) fn write(
        &mut self,
        packet: &Packet,
        log: &mut dyn Write,
        summary: &mut Summary,
    ) -> Result<()> {
        self.stats.add(packet);
        for (format, m) in &mut self.muxers {
            if self.failed.contains(format) {
                continue;
            }
            let Some(packet) = carried_packet(&self.partial, *format, packet) else {
                continue;
            };
            if let Err(e) = m.write(&packet) {
                let e = e.context(format!("writing the {format} file"));
                summary.fail(log, format!("{e:#}"))?;
                self.failed.push(*format);
            }
        }
        if let Some(p) = self.planners.as_mut() {
            p.write(|format| carried_packet(&self.partial, format, packet));
        }
        Ok(())
    }

    /// The push being read ended in an error: the writers note that its media stops short.
    pub(crate) fn push_ended_early(&mut self) {
        for (_, m) in &mut self.muxers {
            m.push_ended_early();
        }
    }

    /// The requested formats this file completes: those that carry some of its tracks and
    /// whose writer did not fail.
    pub(crate) fn formats(&self, requested: &[Format]) -> Vec<Format> {
        (requested.iter().copied())
            .filter(|&f| self.writes(f) && !self.failed.contains(&f))
            .collect()
    }

    /// Whether `format` carries any of the file's tracks.
    fn writes(&self, format: Format) -> bool {
        carried_in(&self.partial, format).is_none_or(|c| !c.is_empty())
    }

    /// The configuration `format`'s writer gets: the tracks it carries.
    pub(crate) fn config_of(&self, format: Format) -> &CodecConfig {
        carried_in(&self.partial, format).map_or(&*self.config, |c| &c.config)
    }

    /// The packet statistics `format`'s callback describes: the tracks it carries, numbered as
    /// in its file (the file's statistics are kept by source track).
    pub(crate) fn stats_of(&self, format: Format) -> Cow<'_, FileStats> {
        match carried_in(&self.partial, format) {
            Some(carried) => Cow::Owned(carried_stats(carried, &self.config, &self.stats)),
            None => Cow::Borrowed(&self.stats),
        }
    }

    /// In the index pass: the file's plans, handed to the write pass as it closes as
    /// `base_name`. `None` elsewhere.
    pub(crate) fn take_plans(&mut self, base_name: &str) -> Option<FilePlans> {
        self.planners.take().map(|p| p.finish(base_name))
    }

    /// Completes the file's writers side by side: finishing copies each format's spooled media
    /// into place and hashes it, work that the formats can share the cores for.
    pub(crate) fn finish(&mut self, close: &FileClose) -> Vec<(Format, Result<Produced>)> {
        let failed = &self.failed;
        let muxers: Vec<_> = (self.muxers.drain(..))
            .filter(|(f, _)| !failed.contains(f))
            .collect();
        if muxers.len() <= 1 {
            return muxers
                .into_iter()
                .map(|(f, m)| (f, m.finish(close)))
                .collect();
        }
        std::thread::scope(|scope| {
            let running: Vec<_> = muxers
                .into_iter()
                .map(|(f, m)| (f, scope.spawn(move || m.finish(close))))
                .collect();
            running
                .into_iter()
                .map(|(f, t)| {
                    let r = t
                        .join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("the {f} writer panicked")));
                    (f, r)
                })
                .collect()
        })
    }
}

/// The statistics of the tracks `carried` keeps of `config`, renumbered as it renumbers them.
fn carried_stats(carried: &Carried, config: &CodecConfig, stats: &FileStats) -> FileStats {
    let mut out = FileStats::default();
    for track in config.tracks() {
        if let (Some(to), Some(s)) = (carried.track(track), stats.track(track)) {
            *out.track_mut(to) = s.clone();
        }
    }
    out
}

/// What of a file `format` carries, where it cannot carry every track.
fn carried_in(partial: &[(Format, Carried)], format: Format) -> Option<&Carried> {
    partial.iter().find(|(f, _)| *f == format).map(|(_, c)| c)
}

/// A packet as `format`'s writer gets it: on the track it has in that format's file (audio
/// tracks after a left-out one move up), or `None` where the format leaves its track out.
fn carried_packet<'p>(
    partial: &[(Format, Carried)],
    format: Format,
    packet: &'p Packet,
) -> Option<Cow<'p, Packet>> {
    let Some(carried) = carried_in(partial, format) else {
        return Some(Cow::Borrowed(packet));
    };
    let track = carried.track(packet.track)?;
    Some(if track == packet.track {
        Cow::Borrowed(packet)
    } else {
        Cow::Owned(Packet {
            track,
            ..packet.clone()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::{AudioCodec, FlvAudio, Track, TrackKind};
    use crate::testutil::fixtures::{h264_aac, packet};

    #[test]
    fn a_format_leaving_a_track_out_describes_the_others_by_their_own_packets() {
        // Nellymoser as audio track 0, AAC as track 1: MP4 keeps the AAC as its track 0.
        let mut config = h264_aac();
        let aac = config.audio.clone().unwrap();
        config.audio.as_mut().unwrap().codec = AudioCodec::FlvOnly(FlvAudio::Nellymoser8k);
        config.more_audio.push(aac);
        let mut stats = FileStats::default();
        stats.add(&packet(TrackKind::Video, 0, true, &[0; 100]));
        stats.add(&packet(TrackKind::Audio, 0, true, &[0; 10]));
        let mut second = packet(TrackKind::Audio, 0, true, &[0; 30]);
        second.track = Track::audio(1);
        stats.add(&second);
        let carried = Carried::new(Format::Mp4, &config);
        let mp4 = carried_stats(&carried, &config, &stats);
        let bytes = |s: &FileStats, t| s.track(t).map(|t| t.bytes);
        assert_eq!(bytes(&mp4, Track::AUDIO), bytes(&stats, Track::audio(1)));
        assert_eq!(bytes(&mp4, Track::VIDEO), bytes(&stats, Track::VIDEO));
        assert!(mp4.more_audio.is_empty());
    }
}

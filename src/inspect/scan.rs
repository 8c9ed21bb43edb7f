//! One push session read to its end, counting what `inspect` reports: per track packets,
//! keyframes, bytes, GOPs and timestamp gaps; configuration changes and damage with their byte
//! offsets. Memory is bounded: the DTS-step histogram and the kept gap/damage lists are capped.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::codec::{aac, mp3};
use crate::input::{InputError, SessionReader};
use crate::media::{
    self, AudioCodec, AudioConfig, CodecConfig, Event, NotRecorded, Packet, Track, TrackKind,
};
use crate::mediainfo::FileStats;

/// A DTS step larger than this many times the track's median step is a gap.
pub(crate) const GAP_FACTOR: i64 = 3;
/// Distinct DTS steps counted per track; a stream with more is counted approximately.
const MAX_DISTINCT_STEPS: usize = 4096;
/// Largest DTS steps kept per track as gap candidates (the count stays exact).
const MAX_GAP_CANDIDATES: usize = 64;
/// DTS values kept from a track's start.
pub(crate) const EARLY_DTS: usize = 41;
/// Damage reports and configuration changes kept per session (the rest are counted).
pub(crate) const MAX_KEPT: usize = 64;

/// A DTS step, where it happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Gap {
    /// Session-relative DTS of the packet after the step.
    pub(crate) at_ms: i64,
    pub(crate) step_ms: i64,
    /// Input bytes consumed when the packet was read (the packet ends at or before it).
    pub(crate) byte: u64,
}

/// A codec configuration change inside the session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct ConfigChange {
    pub(crate) byte: u64,
    pub(crate) at_ms: i64,
    pub(crate) differences: Vec<String>,
}

/// Group-of-pictures lengths of a video track: keyframe to keyframe.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct GopStats {
    /// Complete GOPs (the last, open one is not counted).
    pub(crate) count: u64,
    pub(crate) min_frames: u64,
    pub(crate) max_frames: u64,
    pub(crate) total_frames: u64,
    pub(crate) min_90k: i64,
    pub(crate) max_90k: i64,
    pub(crate) total_90k: i64,
}

impl GopStats {
    fn add(&mut self, frames: u64, len_90k: i64) {
        if self.count == 0 {
            (self.min_frames, self.max_frames) = (frames, frames);
            (self.min_90k, self.max_90k) = (len_90k, len_90k);
        }
        self.count += 1;
        self.min_frames = self.min_frames.min(frames);
        self.max_frames = self.max_frames.max(frames);
        self.total_frames += frames;
        self.min_90k = self.min_90k.min(len_90k);
        self.max_90k = self.max_90k.max(len_90k);
        self.total_90k = self.total_90k.saturating_add(len_90k);
    }
}

/// One track of one session.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct TrackScan {
    pub(crate) packets: u64,
    pub(crate) keyframes: u64,
    pub(crate) bytes: u64,
    pub(crate) first_dts_90k: Option<i64>,
    pub(crate) last_dts_90k: i64,
    pub(crate) gop: GopStats,
    /// Steps larger than [`GAP_FACTOR`] × the median, at most [`MAX_GAP_CANDIDATES`] kept.
    pub(crate) gaps: Vec<Gap>,
    pub(crate) gap_count: u64,
    pub(crate) median_step_90k: i64,
    /// The step before the last packet: its duration, as the rules and ffprobe take it.
    pub(crate) last_step_90k: i64,
    /// The first DTS values (the window FFmpeg analyses for `avg_frame_rate`).
    #[serde(skip)]
    pub(crate) early_dts_90k: Vec<i64>,
    #[serde(skip)]
    steps: BTreeMap<i64, u64>,
    #[serde(skip)]
    candidates: Vec<(i64, Gap)>,
    /// The smallest kept candidate once the list is full.
    #[serde(skip)]
    smallest_candidate: i64,
    #[serde(skip)]
    gop_start: Option<(i64, u64)>,
}

impl TrackScan {
    fn add(&mut self, p: &Packet, origin_90k: i64, byte: u64) {
        self.packets += 1;
        self.bytes += p.data.len() as u64;
        if self.early_dts_90k.len() < EARLY_DTS {
            self.early_dts_90k.push(p.dts_90k);
        }
        if self.first_dts_90k.is_some() {
            let step = p.dts_90k.saturating_sub(self.last_dts_90k);
            self.last_step_90k = step;
            if self.steps.len() < MAX_DISTINCT_STEPS || self.steps.contains_key(&step) {
                *self.steps.entry(step).or_default() += 1;
            }
            self.keep_candidate(step, p.dts_90k, origin_90k, byte);
        } else {
            self.first_dts_90k = Some(p.dts_90k);
        }
        self.last_dts_90k = p.dts_90k;
        if p.keyframe {
            self.keyframes += 1;
            if p.track.kind == TrackKind::Video {
                if let Some((start, frames)) = self.gop_start {
                    self.gop.add(frames, p.dts_90k.saturating_sub(start));
                }
                self.gop_start = Some((p.dts_90k, 0));
            }
        }
        if let Some((_, frames)) = self.gop_start.as_mut() {
            *frames += 1;
        }
    }

    /// Keeps the largest steps seen, as gap candidates.
    fn keep_candidate(&mut self, step: i64, dts_90k: i64, origin_90k: i64, byte: u64) {
        if self.candidates.len() >= MAX_GAP_CANDIDATES {
            // Most steps are ordinary: one comparison, no scan.
            if step <= self.smallest_candidate {
                return;
            }
            let (i, smallest) = self
                .candidates
                .iter()
                .enumerate()
                .min_by_key(|(_, (s, _))| *s)
                .map(|(i, (s, _))| (i, *s))
                .unwrap_or((0, i64::MAX));
            if step <= smallest {
                return;
            }
            self.candidates.swap_remove(i);
        }
        let gap = Gap {
            at_ms: crate::media::to_ms(dts_90k.saturating_sub(origin_90k)),
            step_ms: crate::media::to_ms(step),
            byte,
        };
        self.candidates.push((step, gap));
        if self.candidates.len() >= MAX_GAP_CANDIDATES {
            self.smallest_candidate = self.candidates.iter().map(|(s, _)| *s).min().unwrap_or(0);
        }
    }

    /// Median step, then the gaps: candidates above [`GAP_FACTOR`] × the median, in order.
    fn finish(&mut self) {
        let total: u64 = self.steps.values().sum();
        let mut seen = 0;
        for (&step, &n) in &self.steps {
            seen += n;
            if seen * 2 >= total {
                self.median_step_90k = step;
                break;
            }
        }
        let threshold = self.median_step_90k.max(1).saturating_mul(GAP_FACTOR);
        self.gap_count = self.steps.range(threshold + 1..).map(|(_, n)| n).sum();
        let mut gaps: Vec<Gap> = self
            .candidates
            .drain(..)
            .filter(|(s, _)| *s > threshold)
            .map(|(_, g)| g)
            .collect();
        gaps.sort_by_key(|g| (g.at_ms, g.byte));
        self.gaps = gaps;
    }

    /// Last DTS − first DTS + the last packet's duration (the step before it).
    pub(crate) fn duration_90k(&self) -> i64 {
        media::media_duration_90k(self.first_dts_90k, self.last_dts_90k, self.last_step_90k)
    }

    /// Bits per second over [`TrackScan::duration_90k`].
    pub(crate) fn bit_rate(&self) -> Option<u64> {
        media::bit_rate(self.bytes, self.duration_90k())
    }
}

/// ADTS header bytes before each AAC frame, as kls-rec's MPEG-TS writer puts them. A header
/// with a CRC is 2 bytes longer, which the reader does not keep: such a stream reads lower.
const ADTS_HEADER_LEN: i64 = 7;
/// Samples in one ADTS raw data block.
const ADTS_FRAME_SAMPLES: i64 = 1024;

/// What FFmpeg's audio parsers (`aac_ac3_parser.c` over `adts_header.c`, `mpegaudio_parser.c`)
/// make of a session's audio, as an MPEG-TS demuxer reports it.
#[derive(Clone, Debug, Default)]
pub(crate) struct AudioParse {
    frames: i64,
    /// After every frame `bit_rate += (frame_rate − bit_rate) / frames`, in integers, where an
    /// AAC frame's rate is its ADTS bytes × 8 × the ADTS sample rate / 1024 and an MP3 frame's
    /// the rate its header names.
    pub(crate) bit_rate: i64,
    /// One frame's duration, ⌊samples × 90000 / sample rate⌋: the packet duration FFmpeg
    /// assumes where the container gives none.
    pub(crate) frame_90k: Option<i64>,
}

impl AudioParse {
    /// `adts_rate`: the ADTS sample rate of the stream's AAC (its core rate); `None` for MP3.
    fn add(&mut self, codec: AudioCodec, adts_rate: Option<u32>, frame: &[u8]) {
        let frame_rate = match (codec, adts_rate) {
            (AudioCodec::Aac, Some(rate)) if rate > 0 => {
                let bytes = i64::try_from(frame.len()).unwrap_or(i64::MAX);
                self.frame_90k
                    .get_or_insert(ADTS_FRAME_SAMPLES * 90_000 / i64::from(rate));
                bytes
                    .saturating_add(ADTS_HEADER_LEN)
                    .saturating_mul(8 * i64::from(rate))
                    / ADTS_FRAME_SAMPLES
            }
            (AudioCodec::Mp3, _) => match mp3::parse_header(frame) {
                Ok(h) if h.sample_rate > 0 => {
                    self.frame_90k.get_or_insert(
                        i64::from(h.samples_per_frame) * 90_000 / i64::from(h.sample_rate),
                    );
                    i64::from(h.bitrate_kbps) * 1000
                }
                _ => return,
            },
            (AudioCodec::Aac, _) => return,
            // No per-frame bit rate in their frames: the packet statistics give it.
            (
                AudioCodec::Opus
                | AudioCodec::Flac
                | AudioCodec::Ac3
                | AudioCodec::Eac3
                | AudioCodec::FlvOnly(_),
                _,
            ) => return,
        };
        self.frames += 1;
        self.bit_rate += (frame_rate - self.bit_rate) / self.frames;
    }
}

/// What one session held.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct SessionScan {
    #[serde(skip)]
    pub(crate) config: Arc<CodecConfig>,
    pub(crate) video: TrackScan,
    /// Video tracks 1, 2, … of a multitrack push.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) more_video: Vec<TrackScan>,
    pub(crate) audio: TrackScan,
    /// Audio tracks 1, 2, … of a multitrack push.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) more_audio: Vec<TrackScan>,
    pub(crate) config_changes: Vec<ConfigChange>,
    pub(crate) config_change_count: u64,
    /// Damage reports, rendered with their byte offsets.
    pub(crate) damage: Vec<String>,
    pub(crate) damage_count: u64,
    /// Streams not recorded (not damage), as reported.
    #[serde(skip)]
    pub(crate) not_recorded: Vec<NotRecorded>,
    /// ffprobe-style counters for the frame-rate guess.
    #[serde(skip)]
    pub(crate) stats: FileStats,
    /// What an MPEG-TS demuxer's audio parser would report, by audio track index.
    #[serde(skip)]
    pub(crate) audio_parse: Vec<AudioParse>,
    /// Input bytes read.
    pub(crate) bytes_read: u64,
}

impl SessionScan {
    /// Session duration: from the earliest first DTS of any track to the latest track end.
    pub(crate) fn duration_90k(&self) -> i64 {
        let tracks: Vec<&TrackScan> = std::iter::once(&self.video)
            .chain(&self.more_video)
            .chain(std::iter::once(&self.audio))
            .chain(&self.more_audio)
            .collect();
        let start = tracks.iter().filter_map(|t| t.first_dts_90k).min();
        let end = tracks
            .iter()
            .filter_map(|t| t.first_dts_90k.map(|f| f.saturating_add(t.duration_90k())))
            .max();
        match (start, end) {
            (Some(s), Some(e)) => e.saturating_sub(s).max(0),
            _ => 0,
        }
    }

    /// A track's scan; `None` for a track after the first the session does not have.
    pub(crate) fn track(&self, track: Track) -> Option<&TrackScan> {
        let (first, more) = match track.kind {
            TrackKind::Video => (&self.video, &self.more_video),
            TrackKind::Audio => (&self.audio, &self.more_audio),
        };
        crate::media::counters(first, more, track.index)
    }

    fn track_mut(&mut self, track: Track) -> &mut TrackScan {
        let (first, more) = match track.kind {
            TrackKind::Video => (&mut self.video, &mut self.more_video),
            TrackKind::Audio => (&mut self.audio, &mut self.more_audio),
        };
        crate::media::counters_mut(first, more, track.index)
    }
}

/// Reads a session to its end.
pub(crate) fn scan(mut reader: Box<dyn SessionReader>) -> Result<SessionScan, InputError> {
    let mut s = SessionScan {
        config: reader.config().clone(),
        ..SessionScan::default()
    };
    let mut current = s.config.clone();
    let mut adts_rates = adts_sample_rates(&current);
    let mut origin_90k: Option<i64> = None;
    let mut last_90k = 0i64;
    while let Some(event) = reader.next_event()? {
        let byte = reader.position();
        match event {
            Event::Packet(p) => {
                let origin = *origin_90k.get_or_insert(p.dts_90k);
                last_90k = p.dts_90k;
                s.stats.add(&p);
                s.track_mut(p.track).add(&p, origin, byte);
                if p.track.kind == TrackKind::Audio
                    && let Some(a) = current.audio_track(p.track.index)
                {
                    let i = usize::from(p.track.index);
                    if s.audio_parse.len() <= i {
                        s.audio_parse.resize_with(i + 1, AudioParse::default);
                    }
                    let rate = adts_rates.get(i).copied().flatten();
                    s.audio_parse[i].add(a.codec, rate, &p.data);
                }
            }
            Event::Config(c) => {
                s.config_change_count += 1;
                if s.config_changes.len() < MAX_KEPT {
                    s.config_changes.push(ConfigChange {
                        byte,
                        at_ms: crate::media::to_ms(
                            last_90k.saturating_sub(origin_90k.unwrap_or(last_90k)),
                        ),
                        differences: current.differences(&c),
                    });
                }
                current = c;
                adts_rates = adts_sample_rates(&current);
            }
            Event::NotRecorded(n) => {
                if s.not_recorded.len() < MAX_KEPT {
                    s.not_recorded.push(n);
                }
            }
            Event::Damage(d) => {
                s.damage_count += 1;
                if s.damage.len() < MAX_KEPT {
                    s.damage.push(d.to_string());
                }
            }
        }
    }
    s.bytes_read = reader.position();
    s.video.finish();
    s.audio.finish();
    s.more_video.iter_mut().for_each(TrackScan::finish);
    s.more_audio.iter_mut().for_each(TrackScan::finish);
    Ok(s)
}

/// Each audio track's ADTS sample rate, by index ([`adts_sample_rate`]).
fn adts_sample_rates(config: &CodecConfig) -> Vec<Option<u32>> {
    config
        .audio_tracks()
        .map(|(_, a)| adts_sample_rate(a))
        .collect()
}

/// The sample rate an ADTS header gives an AAC configuration: its core coder's.
fn adts_sample_rate(a: &AudioConfig) -> Option<u32> {
    match a.codec {
        AudioCodec::Aac => aac::parse_asc(&a.specific)
            .ok()
            .map(|asc| asc.core_sample_rate),
        AudioCodec::Mp3
        | AudioCodec::Opus
        | AudioCodec::Flac
        | AudioCodec::Ac3
        | AudioCodec::Eac3
        | AudioCodec::FlvOnly(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(track: TrackKind, dts_ms: i64, keyframe: bool) -> Packet {
        crate::testutil::fixtures::packet(track, dts_ms, keyframe, &[0; 10])
    }

    #[test]
    fn gops_and_gaps() {
        let mut t = TrackScan::default();
        // 25 fps, keyframe every 10 frames, one 2 s hole after frame 25.
        let mut dts = 0;
        for i in 0..40 {
            if i == 25 {
                dts += 2000;
            }
            t.add(&packet(TrackKind::Video, dts, i % 10 == 0), 0, i * 100);
            dts += 40;
        }
        t.finish();
        assert_eq!((t.packets, t.keyframes, t.bytes), (40, 4, 400));
        assert_eq!(t.median_step_90k, 40 * 90);
        assert_eq!(t.gap_count, 1);
        assert_eq!(
            t.gaps,
            vec![Gap {
                at_ms: 25 * 40 + 2000,
                step_ms: 2040,
                byte: 2500
            }]
        );
        assert_eq!(t.gop.count, 3);
        assert_eq!((t.gop.min_frames, t.gop.max_frames), (10, 10));
        assert_eq!(t.gop.min_90k, 400 * 90);
        assert_eq!(t.gop.max_90k, 2400 * 90);
    }

    /// The running average truncates toward zero after every frame, as FFmpeg's does in C.
    #[test]
    fn audio_parser_bit_rate() {
        let mut a = AudioParse::default();
        // (93 + 7) × 8 × 44100 / 1024 = 34453, then (43 + 7) … = 17226.
        a.add(AudioCodec::Aac, Some(44_100), &[0; 93]);
        assert_eq!((a.bit_rate, a.frame_90k), (34_453, Some(2089)));
        a.add(AudioCodec::Aac, Some(44_100), &[0; 43]);
        assert_eq!(a.bit_rate, 34_453 + (17_226 - 34_453) / 2);
        // MP3: the header's rate (MPEG-1 layer III, 128 kbit/s, 44.1 kHz: 1152 samples).
        let mut m = AudioParse::default();
        m.add(AudioCodec::Mp3, None, &[0xFF, 0xFB, 0x90, 0x00]);
        assert_eq!((m.bit_rate, m.frame_90k), (128_000, Some(2351)));
        // What cannot be parsed counts for nothing.
        m.add(AudioCodec::Mp3, None, &[0; 4]);
        a.add(AudioCodec::Aac, None, &[0; 10]);
        assert_eq!((m.bit_rate, m.frames, a.frames), (128_000, 1, 2));
    }

    #[test]
    fn candidates_stay_bounded_and_counts_exact() {
        let mut t = TrackScan::default();
        let mut dts = 0;
        for i in 0..10_000 {
            dts += if i % 50 == 49 { 1000 + i } else { 20 };
            t.add(&packet(TrackKind::Audio, dts, true), 0, 0);
        }
        t.finish();
        assert_eq!(t.gap_count, 200);
        assert_eq!(t.gaps.len(), MAX_GAP_CANDIDATES);
        // The largest steps are the ones kept.
        assert!(t.gaps.iter().all(|g| g.step_ms >= 1000 + 49 + 50 * 136));
    }
}

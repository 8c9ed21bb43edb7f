//! The demultiplexer: transport packets → PAT → PMT → every video and audio elementary stream
//! → PES → packets of the media model, on an unwrapped, repaired timeline.
//!
//! - Video and audio PIDs become tracks of their kind in the PMT's order (track 0 the first
//!   listed), as the MPEG-TS writer lays several tracks out (`mux::ts`).
//! - Continuity counters (§2.4.3.3) are checked per PID; a gap (not announced by the
//!   discontinuity_indicator) drops the PES it broke and is reported. One duplicate packet is
//!   allowed, as the standard does.
//! - PTS/DTS are 33-bit: each is read as the previous DTS plus the signed difference modulo
//!   2^33, so a stream crossing the wrap (26.5 h) continues. Times are then given relative to
//!   [`TS_OFFSET_90K`] (the 1.4 s where ffmpeg's and kls-rec's MPEG-TS output starts), so a
//!   stream muxed from a zero-based source reads back at its source times.
//! - A DTS that goes backwards on its track, or jumps more than 10 s past the latest one, is a
//!   discontinuity: one stream-wide offset keeps every track monotonic and in sync, and the jump
//!   is reported ([`crate::input::timeline::Repair`], the repair of every input kind).
//! - Video access units are rebuilt from the elementary stream across PES boundaries
//!   ([`super::au`]); the last one is complete at [`TsDemuxer::end_of_stream`].

use std::collections::{HashSet, VecDeque};
use std::io::Read;

use super::au::{AuEvent, AuTime};
use super::audio::AudioStream;
use super::es::{Es, VideoTrack, restream};
use super::packet::{PacketEvent, PacketReader, TsPacket};
use super::pes::{Assembled, Pes};
use super::psi::{self, SectionBuffer};
pub(crate) use crate::container::ts::{TS_OFFSET_90K, WRAP_90K};
use crate::input::timeline::Repair;
use crate::media::{
    AudioConfig, CodecConfig, Damage, NotRecorded, Packet, Track, TrackKind, VideoConfig,
};

/// What the demultiplexer yields, in stream order.
#[derive(Clone, Debug, PartialEq)]
pub enum Demuxed {
    Packet(Packet),
    /// The configuration of video track `.0`.
    Video(u8, VideoConfig),
    /// The configuration of audio track `.0`.
    Audio(u8, AudioConfig),
    Damage(Damage),
    /// A PMT entry kls-rec does not record (data, another codec): once per PID.
    NotRecorded(NotRecorded),
}

/// Which elementary stream of the program a PES belongs to.
#[derive(Clone, Copy, Debug)]
enum Stream {
    /// The `.0`-th video stream of the PMT.
    Video(usize),
    /// The `.0`-th audio stream of the PMT.
    Audio(usize),
}

impl Stream {
    fn kind(self) -> TrackKind {
        match self {
            Stream::Video(_) => TrackKind::Video,
            Stream::Audio(_) => TrackKind::Audio,
        }
    }
}

type Source = Box<dyn Read + Send>;

pub struct TsDemuxer {
    packets: Option<PacketReader<Source>>,
    /// Bytes of earlier inputs (HLS segments), so positions keep growing.
    consumed_before: u64,
    pmt_pid: Option<u16>,
    pat: SectionBuffer,
    pmt: SectionBuffer,
    /// (stream_type, PID) pairs of the PMT in force.
    pmt_streams: Vec<(u8, u16)>,
    /// Every video PID of the PMT, in its order.
    video: Vec<Es<VideoTrack>>,
    /// Every audio PID of the PMT, in its order.
    audio: Vec<Es<AudioStream>>,
    hints: CodecConfig,
    /// Last unwrapped DTS (any track), the reference for unwrapping.
    last_raw_90k: Option<i64>,
    /// Discontinuities repaired, in 90 kHz.
    timeline: Repair,
    out: VecDeque<Demuxed>,
    reported: HashSet<String>,
}

impl TsDemuxer {
    /// A demultiplexer; `hints` are decoder configurations to use when their parameter sets
    /// are the stream's (see [`super::video`]).
    pub fn new(hints: CodecConfig) -> TsDemuxer {
        TsDemuxer {
            packets: None,
            consumed_before: 0,
            pmt_pid: None,
            pat: SectionBuffer::default(),
            pmt: SectionBuffer::default(),
            pmt_streams: Vec::new(),
            video: Vec::new(),
            audio: Vec::new(),
            hints,
            last_raw_90k: None,
            timeline: Repair::new(90_000),
            out: VecDeque::new(),
            reported: HashSet::new(),
        }
    }

    /// Continues with the next input (the next segment of an HLS run); timestamps, continuity
    /// counters and configurations carry on.
    pub fn set_input(&mut self, input: Source) {
        if let Some(p) = &self.packets {
            self.consumed_before += p.position();
        }
        self.packets = Some(PacketReader::new(input));
    }

    /// Offset within the current input.
    pub(crate) fn offset(&self) -> u64 {
        self.packets.as_ref().map_or(0, |p| p.position())
    }

    /// Bytes read over all inputs.
    pub fn position(&self) -> u64 {
        self.consumed_before + self.offset()
    }

    /// How many video and audio streams of the PMT kls-rec reads.
    pub fn has_tracks(&self) -> (usize, usize) {
        (self.video.len(), self.audio.len())
    }

    /// The next item of the current input; `None` when it is exhausted (its last PES flushed).
    pub fn next_item(&mut self) -> std::io::Result<Option<Demuxed>> {
        loop {
            if let Some(d) = self.out.pop_front() {
                return Ok(Some(d));
            }
            let Some(packets) = self.packets.as_mut() else {
                return Ok(None);
            };
            match packets.next_event()? {
                Some(PacketEvent::Damage(d)) => self.out.push_back(Demuxed::Damage(d)),
                Some(PacketEvent::Packet(p)) => self.packet(p),
                None => {
                    self.flush();
                    if self.out.is_empty() {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Completes the video access unit in progress, at the end of the last input; true when
    /// that gave items for [`TsDemuxer::next_item`].
    pub fn end_of_stream(&mut self) -> bool {
        for i in 0..self.video.len() {
            self.video[i].stream.units.finish();
            self.video_units(i);
        }
        !self.out.is_empty()
    }

    /// Completes the PES packets in progress (at the end of an input).
    fn flush(&mut self) {
        for i in 0..self.video.len() {
            if let Some(a) = self.video[i].pes.finish() {
                self.assembled(Stream::Video(i), a);
            }
            if let Some(v) = self.video.get_mut(i) {
                v.stream.units.end_of_input();
            }
            self.video_units(i);
        }
        for i in 0..self.audio.len() {
            if let Some(a) = self.audio[i].pes.finish() {
                self.assembled(Stream::Audio(i), a);
            }
        }
        // The input is done: the next call returns None.
        if let Some(p) = self.packets.as_mut() {
            self.consumed_before += p.position();
        }
        self.packets = None;
    }

    fn damage(&mut self, d: Damage) {
        self.out.push_back(Demuxed::Damage(d));
    }

    fn report_once(&mut self, key: String, offset: u64) {
        if self.reported.insert(key.clone()) {
            self.damage(Damage::Dropped {
                offset,
                what: format!("{key} (later ones are dropped without another report)"),
            });
        }
    }

    fn packet(&mut self, p: TsPacket) {
        if p.transport_error {
            self.damage(Damage::Dropped {
                offset: p.offset,
                what: format!(
                    "PID 0x{:04x} packet with transport_error_indicator set",
                    p.pid
                ),
            });
            return;
        }
        if p.pid == 0 {
            self.psi(p, true);
        } else if Some(p.pid) == self.pmt_pid {
            self.psi(p, false);
        } else if let Some(i) = self.video.iter().position(|v| v.pid == p.pid) {
            if self.continuity(Stream::Video(i), &p) {
                self.video_packet(i, &p);
            }
        } else if let Some(i) = self.audio.iter().position(|a| a.pid == p.pid)
            && self.continuity(Stream::Audio(i), &p)
        {
            let a =
                self.audio[i]
                    .pes
                    .push(&p.payload, p.payload_unit_start, p.random_access, p.offset);
            if let Some(a) = a {
                self.assembled(Stream::Audio(i), a);
            }
        }
    }

    /// A video payload; a PES it completes is followed by the first bytes of the next one,
    /// which may show that the access unit in progress is complete.
    fn video_packet(&mut self, i: usize, p: &TsPacket) {
        let Some(v) = self.video.get_mut(i) else {
            return;
        };
        let Some(a) = v
            .pes
            .push(&p.payload, p.payload_unit_start, p.random_access, p.offset)
        else {
            return;
        };
        let next = v.pes.peek_es().map(<[u8]>::to_vec);
        self.assembled(Stream::Video(i), a);
        if let (Some(next), Some(v)) = (next, self.video.get_mut(i)) {
            v.stream.units.before_pes(&next);
        }
        self.video_units(i);
    }

    /// Checks the continuity counter; false when the packet is to be skipped (a duplicate or
    /// no payload).
    fn continuity(&mut self, stream: Stream, p: &TsPacket) -> bool {
        let (pid, last, dup) = match stream {
            Stream::Video(i) => match self.video.get_mut(i) {
                Some(e) => (e.pid, &mut e.last_cc, &mut e.duplicate_seen),
                None => return false,
            },
            Stream::Audio(i) => match self.audio.get_mut(i) {
                Some(e) => (e.pid, &mut e.last_cc, &mut e.duplicate_seen),
                None => return false,
            },
        };
        if !p.has_payload {
            // §2.4.3.3: the counter does not advance without a payload.
            return false;
        }
        let cc = p.continuity_counter;
        let prev = last.replace(cc);
        let Some(prev) = prev else {
            return true;
        };
        if cc == prev && !*dup && !p.discontinuity {
            *dup = true;
            return false;
        }
        *dup = false;
        if p.discontinuity || cc == (prev + 1) & 0x0F {
            return true;
        }
        let lost = (cc.wrapping_sub(prev).wrapping_sub(1)) & 0x0F;
        let broken = match stream {
            Stream::Video(i) => self.video.get_mut(i).and_then(|e| {
                // The access unit the broken PES continued is lost with it.
                e.stream.units.lose();
                e.pes.finish()
            }),
            Stream::Audio(i) => self.audio.get_mut(i).and_then(|e| e.pes.finish()),
        };
        let what = match broken {
            Some(_) => format!("the {} PES in progress", stream.kind()),
            None => "nothing yet".to_string(),
        };
        self.damage(Damage::Dropped {
            offset: p.offset,
            what: format!(
                "{what}: PID 0x{pid:04x} continuity_counter {cc} after {prev} (at least {lost} \
                 packets lost)"
            ),
        });
        // A unit start still begins a new PES; a continuation has nothing to attach to.
        p.payload_unit_start
    }

    fn psi(&mut self, p: TsPacket, pat: bool) {
        if !p.has_payload {
            return;
        }
        let buf = if pat { &mut self.pat } else { &mut self.pmt };
        let section = match buf.push(&p.payload, p.payload_unit_start) {
            Ok(Some(s)) => s,
            Ok(None) => return,
            Err(e) => {
                return self.damage(Damage::Dropped {
                    offset: p.offset,
                    what: format!("PSI section on PID 0x{:04x}: {e}", p.pid),
                });
            }
        };
        let result = if pat {
            psi::parse_pat(&section).map(|pmt| {
                if pmt != self.pmt_pid {
                    self.pmt_pid = pmt;
                    self.pmt = SectionBuffer::default();
                }
            })
        } else {
            psi::parse_pmt(&section).map(|pmt| self.program(&pmt, p.offset))
        };
        if let Err(e) = result {
            self.damage(Damage::Dropped {
                offset: p.offset,
                what: e,
            });
        }
    }

    /// Takes every video and audio stream of the PMT (up to 255 of a kind); every other entry
    /// is reported once as not recorded. A PMT repeating the same streams changes nothing.
    fn program(&mut self, pmt: &psi::Pmt, offset: u64) {
        let listed: Vec<(u8, u16)> = pmt.streams.iter().map(|s| (s.stream_type, s.pid)).collect();
        if listed == self.pmt_streams {
            return;
        }
        self.pmt_streams = listed;
        let mut video = Vec::new();
        let mut audio = Vec::new();
        for s in &pmt.streams {
            let what = match psi::classify(pmt.format, s) {
                psi::EsKind::Video(c) if video.len() < usize::from(u8::MAX) => {
                    video.push((c, s.pid));
                    continue;
                }
                psi::EsKind::Audio(c) if audio.len() < usize::from(u8::MAX) => {
                    audio.push((c, s.pid));
                    continue;
                }
                psi::EsKind::Video(c) => format!("one video stream too many ({c:?})"),
                psi::EsKind::Audio(c) => format!("one audio stream too many ({c:?})"),
                psi::EsKind::Other { label, .. } => label.to_string(),
            };
            let what = format!(
                "PID 0x{:04x} {what} (stream_type 0x{:02x})",
                s.pid, s.stream_type
            );
            if self.reported.insert(what.clone()) {
                self.out
                    .push_back(Demuxed::NotRecorded(NotRecorded { offset, what }));
            }
        }
        // A hint is the configuration the track had in a recording (its index).
        let hints = &self.hints;
        self.video = restream(
            std::mem::take(&mut self.video),
            video,
            VideoTrack::codec,
            |c, n| VideoTrack::new(c, hints.video_track(n).cloned()),
        );
        self.audio = restream(
            std::mem::take(&mut self.audio),
            audio,
            AudioStream::codec,
            |c, n| AudioStream::new(c, hints.audio_track(n).cloned()),
        );
    }

    /// Unwraps a 33-bit timestamp against the last DTS.
    fn unwrap(&self, raw: u64) -> i64 {
        let raw = (raw as i64) & (WRAP_90K - 1);
        match self.last_raw_90k {
            None => raw,
            Some(last) => {
                let diff = (raw - last).rem_euclid(WRAP_90K);
                let diff = if diff > WRAP_90K / 2 {
                    diff - WRAP_90K
                } else {
                    diff
                };
                last.saturating_add(diff)
            }
        }
    }

    fn assembled(&mut self, stream: Stream, a: Assembled) {
        let pes = match a {
            Assembled::Pes(p) => p,
            Assembled::Bad { offset, what } => {
                return self.damage(Damage::Dropped {
                    offset,
                    what: format!("{} PES: {what}", stream.kind()),
                });
            }
        };
        match stream {
            Stream::Video(i) => self.video_pes(i, pes),
            Stream::Audio(i) => self.audio_pes(i, pes),
        }
    }

    /// A video PES: its bytes go to the access unit assembler with its unwrapped times.
    fn video_pes(&mut self, i: usize, pes: Pes) {
        let time = pes.pts.map(|pts| {
            let dts = self.unwrap(pes.dts.unwrap_or(pts));
            self.last_raw_90k = Some(dts);
            AuTime {
                pts: self.unwrap(pts),
                dts,
            }
        });
        if let Some(v) = self.video.get_mut(i) {
            v.stream.units.push(&pes.data, time, pes.offset);
        }
    }

    /// Turns the access units of video stream `i` rebuilt so far into packets.
    fn video_units(&mut self, i: usize) {
        let Some(v) = self.video.get_mut(i) else {
            return;
        };
        for e in v.stream.units.take() {
            match e {
                AuEvent::Unit { data, time, offset } => self.video_unit(i, &data, time, offset),
                AuEvent::Skipped { offset, len, what } => {
                    self.damage(Damage::Skipped { offset, len, what })
                }
                AuEvent::Dropped { offset, what } => self.damage(Damage::Dropped { offset, what }),
                AuEvent::Derived { offset, what } => {
                    if self.reported.insert(what.clone()) {
                        let what = format!("{what}; later ones are not reported");
                        self.damage(Damage::Skipped {
                            offset,
                            len: 0,
                            what,
                        });
                    }
                }
            }
        }
    }

    fn video_unit(&mut self, i: usize, annex_b: &[u8], time: AuTime, offset: u64) {
        let (Some(v), Ok(index)) = (self.video.get_mut(i), u8::try_from(i)) else {
            return;
        };
        let track = Track::video(index);
        let au = match v.stream.samples.access_unit(annex_b) {
            Ok(au) => au,
            Err(e) => return self.report_once(format!("video access unit: {e}"), offset),
        };
        if let Some(c) = au.new_config {
            self.out.push_back(Demuxed::Video(index, c));
        }
        // A unit with no media bytes (empty, or parameter sets only) is no packet, as for audio.
        if au.data.is_empty() {
            return;
        }
        let dts_90k = self.repair(track, time.dts.saturating_sub(TS_OFFSET_90K), offset);
        let cts = time.pts.saturating_sub(time.dts);
        self.out.push_back(Demuxed::Packet(Packet {
            track,
            dts_90k,
            cts_90k: i32::try_from(cts).unwrap_or(0),
            keyframe: au.keyframe,
            data: au.data,
            offset_ns: 0,
        }));
    }

    fn audio_pes(&mut self, i: usize, pes: Pes) {
        let pts = pes.pts.map(|p| {
            let v = self.unwrap(p);
            self.last_raw_90k = Some(v);
            v.saturating_sub(TS_OFFSET_90K)
        });
        let Some(a) = self.audio.get_mut(i) else {
            return;
        };
        let (frames, damage) = a.stream.pes(&pes.data, pts);
        for d in damage {
            self.damage(Damage::Skipped {
                offset: pes.offset,
                len: 0,
                what: format!("audio PES: {d}"),
            });
        }
        for f in frames {
            let Some(track) = self.audio_track(i) else {
                continue;
            };
            if let Some(c) = f.new_config {
                self.out.push_back(Demuxed::Audio(track.index, c));
            }
            if f.data.is_empty() {
                continue;
            }
            let dts_90k = self.repair(track, f.pts_90k, pes.offset);
            self.out.push_back(Demuxed::Packet(Packet {
                track,
                dts_90k,
                cts_90k: 0,
                keyframe: true,
                data: f.data,
                offset_ns: 0,
            }));
        }
    }

    /// The session track of audio stream `i`: its place in the PMT.
    fn audio_track(&self, i: usize) -> Option<Track> {
        u8::try_from(i).ok().map(Track::audio)
    }

    /// Applies the stream-wide offset and repairs discontinuities ([`Repair`]), reporting each.
    fn repair(&mut self, track: Track, dts_90k: i64, offset: u64) -> i64 {
        let (fixed, jump) = self.timeline.repair(track, dts_90k);
        if let Some(j) = jump {
            self.out.push_back(Demuxed::Damage(Damage::Discontinuity {
                track,
                offset,
                from_dts_90k: j.from,
                to_dts_90k: j.to,
            }));
        }
        fixed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_unwrap_at_33_bits() {
        let mut d = TsDemuxer::new(CodecConfig::default());
        d.last_raw_90k = Some(WRAP_90K - 10);
        assert_eq!(d.unwrap(5), WRAP_90K + 5);
        assert_eq!(d.unwrap(WRAP_90K as u64 - 20), WRAP_90K - 20);
        d.last_raw_90k = Some(3 * WRAP_90K + 7);
        assert_eq!(d.unwrap(WRAP_90K as u64 - 1), 3 * WRAP_90K - 1);
        // Only 33 bits count.
        assert_eq!(d.unwrap(u64::MAX), 3 * WRAP_90K - 1);
    }

    #[test]
    fn jumps_are_repaired_and_reported() {
        let mut d = TsDemuxer::new(CodecConfig::default());
        let v = Track::VIDEO;
        assert_eq!(d.repair(v, 0, 0), 0);
        assert_eq!(d.repair(v, 3600, 0), 3600);
        // Backwards by 10 s: continues one step on, reported.
        assert_eq!(d.repair(v, 3600 - 900_000, 188), 7200);
        assert!(matches!(
            d.out.pop_front(),
            Some(Demuxed::Damage(Damage::Discontinuity { offset: 188, .. }))
        ));
        // Later packets keep the offset.
        assert_eq!(d.repair(v, 7200 - 900_000, 376), 10_800);
        // Audio follows the same offset; a forward jump of an hour is repaired too.
        assert_eq!(d.repair(Track::AUDIO, 10_800 - 900_000, 0), 14_400);
        assert!(d.out.is_empty());
        assert_eq!(d.repair(v, 3_600 * 90_000, 0), 18_000);
        assert_eq!(d.out.len(), 1);
        // Extreme values never overflow.
        for t in [i64::MAX, i64::MIN, 0] {
            let _ = d.repair(v, t, 0);
        }
    }
}

//! MPEG-2 transport stream writer (ISO/IEC 13818-1) for HLS segments (RFC 8216 §3.2).
//!
//! Written here rather than on `mpeg2ts` 0.6, which serialises single packets only: it keeps no
//! continuity counters, does not split PES packets, and refuses timestamps past 2^33 instead of
//! wrapping them. What this module writes, as ffmpeg's `mpegts` muxer lays it out:
//!
//! ```text
//! segment = PAT (PID 0) · PMT (PID 0x1000) · PES packets in input order
//! PES     = header (PTS, DTS when it differs) · elementary stream bytes (see es)
//!           split in 188-byte packets; the first carries PCR / random_access_indicator,
//!           the last is filled with adaptation-field stuffing
//! ```
//!
//! - PIDs and stream types as ffmpeg uses them: program 1, PMT 0x1000, video 0x100 (H.264 0x1B,
//!   HEVC 0x24), audio 0x101 (AAC ADTS 0x0F, MP3 0x03, or 0x04 below 32 kHz; AC-3 0x81 and
//!   E-AC-3 0x87, the ATSC stream types, in private_stream_1 PES packets), further audio
//!   tracks on the next PIDs (0x102, …), listed in the PMT in that order: a player takes the
//!   first. Several video tracks take 0x100, 0x101, …, and the audio tracks the PIDs after
//!   them, video first in the PMT, as ffmpeg numbers its streams.
//! - Timestamps: every PTS/DTS is the file-relative time plus [`TS_OFFSET_90K`] (1.4 s, ffmpeg's
//!   default), so a negative composition offset still gives a positive PTS, then wraps at 2^33.
//!   The PCR runs [`PCR_DELAY_90K`] (0.7 s, ffmpeg's `muxdelay`) ahead of the DTS of the data
//!   it precedes, giving the decoder its buffering time.
//! - PCR on the video PID (the audio PID without video): on every keyframe, at each segment start
//!   and whenever the last is [`PCR_REFRESH_90K`] old, with a PCR-only packet before another
//!   PID's PES when needed, so with audio frames ≤ 60 ms apart the gap stays under the 100 ms
//!   §2.7.2 asks for. PCR values never decrease.
//! - Continuity counters are per PID and continue across the segments of one recording (as
//!   ffmpeg's HLS muxer does), so the concatenated segments form one valid stream.
//! - One PES per frame, audio included: ffmpeg groups audio frames into PES packets of up to
//!   2930 bytes, but then only the first frame's PTS is carried and the others are re-derived
//!   from frame durations, which does not give back jittery millisecond RTMP timestamps. Exact
//!   per-frame timing costs about 15 % in segment size for 128 kbit/s AAC at low video rates.
//! - No SDT or other tables: HLS players need only PAT and PMT, which open every segment.
//! - A segment has at least [`MIN_SEGMENT_PACKETS`] packets, null packets (PID 0x1FFF) making up
//!   the difference: ffmpeg probes the first 2048 bytes of an HLS playlist's media and scores
//!   MPEG-TS only from ten packets' worth on, so a shorter recording with two PES packets or more
//!   (one MP3 frame each, say) is taken for MPEG-PS, which its HLS demuxer refuses for a `.ts`
//!   URL ("detected format mpeg"). ffmpeg's own muxer escapes this only by grouping audio frames.

use std::io::Write;

use anyhow::{Context, Result, anyhow, bail};

use crate::codec::ids::TsGap;
use crate::container::ts::{NULL_PID, PACKET_LEN, PAT_PID, PacketHeader, TS_OFFSET_90K};
use crate::media::{CodecConfig, Packet, Track, TrackKind, to_ms};

mod es;
mod pes;
mod psi;

pub(crate) use es::{AudioEs, VideoEs};

pub(crate) const PMT_PID: u16 = 0x1000;
pub(crate) const VIDEO_PID: u16 = 0x0100;
pub(crate) const AUDIO_PID: u16 = 0x0101;
/// transport_stream_id and program_number, both 1 as in ffmpeg.
pub(crate) const TRANSPORT_STREAM_ID: u16 = 0x0001;
pub(crate) const PROGRAM_NUMBER: u16 = 0x0001;

/// The fewest transport packets in a segment (see the module doc): 2048 bytes and more.
pub(crate) const MIN_SEGMENT_PACKETS: u64 = 11;

/// How far the PCR runs ahead of the DTS it precedes: 0.7 s, ffmpeg's default `muxdelay`.
pub(crate) const PCR_DELAY_90K: i64 = 63_000;
/// A new PCR is sent once the last one is this old (40 ms of stream time).
pub(crate) const PCR_REFRESH_90K: i64 = 3_600;

/// One elementary stream of the program.
#[derive(Clone, Debug)]
struct Stream<E> {
    pid: u16,
    stream_type: u8,
    /// PES stream_id.
    stream_id: u8,
    es: E,
    /// Last continuity_counter used on the PID (15 before the first packet, so it starts at 0).
    cc: u8,
}

impl<E> Stream<E> {
    fn new(pid: u16, stream_type: u8, stream_id: u8, es: E) -> Stream<E> {
        Stream {
            pid,
            stream_type,
            stream_id,
            es,
            cc: 15,
        }
    }
}

/// Writes one program's packets as a transport stream, segment after segment.
#[derive(Debug)]
pub(crate) struct TsWriter {
    /// One stream per video track, track 0 first.
    video: Vec<Stream<VideoEs>>,
    /// One stream per audio track, track 0 first.
    audio: Vec<Stream<AudioEs>>,
    pcr_pid: u16,
    pat_cc: u8,
    pmt_cc: u8,
    /// PCR base of the last PCR sent, `None` until one is due at a segment start.
    last_pcr_90k: Option<i64>,
    /// The next PES on the PCR PID must carry a PCR (a segment just started).
    pcr_due: bool,
    /// Reused buffer for a PES payload (the elementary stream bytes of one frame).
    pes: Vec<u8>,
}

/// Why a track is not written, and what to do instead: a codec only FLV carries (the
/// recording pipeline keeps its tracks from this writer), or one fMP4 segments carry.
fn refusal(gap: TsGap, codec: &str, kind: &str) -> anyhow::Error {
    const FMP4_HINT: &str = "--hls-segments auto or fmp4 writes fMP4 segments, which carry it";
    match gap {
        TsGap::FlvOnly => anyhow!("MPEG-TS cannot carry {codec} (only FLV does)"),
        TsGap::NoStreamType => {
            anyhow!("MPEG-TS cannot carry {codec} {kind} (no stream type for it); {FMP4_HINT}")
        }
        TsGap::Fmp4Only => anyhow!(
            "MPEG-TS segments of {codec} {kind} are not written (HLS players read it in fMP4); {FMP4_HINT}"
        ),
    }
}

impl TsWriter {
    /// Reads what the streams need from the codec configuration (NAL length size, parameter
    /// sets, AudioSpecificConfig).
    pub(crate) fn new(config: &CodecConfig) -> Result<TsWriter> {
        let mut video = Vec::new();
        for ((track, v), pid) in config.video_tracks().zip(VIDEO_PID..PMT_PID) {
            let ts = v.codec.ids().ts;
            let ts = ts.map_err(|gap| refusal(gap, v.codec.name(), "video"))?;
            let es = VideoEs::new(v)
                .with_context(|| format!("reading the {track} decoder configuration"))?;
            video.push(Stream::new(pid, ts.stream_type.id, ts.stream_id, es));
        }
        let mut audio = Vec::new();
        // Audio after the video PIDs, from 0x101 on.
        let first_audio = AUDIO_PID.max(VIDEO_PID + video.len() as u16);
        for ((track, a), pid) in config.audio_tracks().zip(first_audio..PMT_PID) {
            let ts = a.codec.ids().ts;
            let ts = ts.map_err(|gap| refusal(gap, a.codec.name(), "audio"))?;
            let es =
                AudioEs::new(a).with_context(|| format!("reading the {track} configuration"))?;
            let stream_type = ts.stream_type.written(a.sample_rate);
            audio.push(Stream::new(pid, stream_type, ts.stream_id, es));
        }
        let Some(pcr_pid) = video
            .iter()
            .map(|s| s.pid)
            .chain(audio.iter().map(|s| s.pid))
            .next()
        else {
            bail!(
                "an MPEG-TS program needs an audio or a video track; the configuration has neither"
            );
        };
        Ok(TsWriter {
            video,
            audio,
            pcr_pid,
            pat_cc: 15,
            pmt_cc: 15,
            last_pcr_90k: None,
            pcr_due: true,
            pes: Vec::new(),
        })
    }

    /// Starts a segment: PAT and PMT, and a PCR with the next PES on the PCR PID.
    pub(crate) fn start_segment(&mut self, out: &mut impl Write) -> Result<()> {
        let streams: Vec<psi::PmtStream> = self
            .video
            .iter()
            .map(|s| psi::PmtStream {
                stream_type: s.stream_type,
                pid: s.pid,
            })
            .chain(self.audio.iter().map(|s| psi::PmtStream {
                stream_type: s.stream_type,
                pid: s.pid,
            }))
            .collect();
        self.pat_cc = (self.pat_cc + 1) & 0x0F;
        out.write_all(&psi::section_packet(
            PAT_PID,
            self.pat_cc,
            &psi::pat_section(),
        ))?;
        self.pmt_cc = (self.pmt_cc + 1) & 0x0F;
        out.write_all(&psi::section_packet(
            PMT_PID,
            self.pmt_cc,
            &psi::pmt_section(self.pcr_pid, &streams),
        ))?;
        self.pcr_due = true;
        Ok(())
    }

    /// Ends a segment of which `len` bytes are written: pads a short one with null packets up to
    /// [`MIN_SEGMENT_PACKETS`].
    pub(crate) fn end_segment(&mut self, len: u64, out: &mut impl Write) -> Result<()> {
        let mut null = [0xFF; PACKET_LEN];
        // sync byte, PID 0x1FFF, payload only (continuity counter 0: ignored for null packets).
        let header = PacketHeader {
            pid: NULL_PID,
            unit_start: false,
            adaptation_field: false,
            payload: true,
            continuity_counter: 0,
        };
        null[..4].copy_from_slice(&header.bytes());
        let have = len / PACKET_LEN as u64;
        for _ in have..MIN_SEGMENT_PACKETS {
            out.write_all(&null)?;
        }
        Ok(())
    }

    /// Writes one packet (file-relative timestamps) as a PES. A packet of a track the
    /// configuration lacks is an error.
    pub(crate) fn write_packet(&mut self, packet: &Packet, out: &mut impl Write) -> Result<()> {
        // Wrapping: the 33-bit fields wrap anyway, and no timestamp may panic the writer.
        let dts_90k = packet.dts_90k.wrapping_add(TS_OFFSET_90K);
        let pts_90k = dts_90k.wrapping_add(i64::from(packet.cts_90k));
        let at = || {
            format!(
                "{} packet at DTS {} ms",
                packet.track,
                to_ms(packet.dts_90k)
            )
        };
        let mut es = std::mem::take(&mut self.pes);
        es.clear();
        // The elementary stream bytes first, the PES header is prepended once their length is known.
        let (pid, stream_id, bounded) = match packet.track.kind {
            TrackKind::Video => {
                let s = self
                    .video
                    .get(usize::from(packet.track.index))
                    .with_context(|| format!("{}: the file has no such track", at()))?;
                s.es.write_access_unit(&packet.data, packet.keyframe, &mut es)
                    .with_context(at)?;
                (s.pid, s.stream_id, false)
            }
            TrackKind::Audio => {
                let s = self
                    .audio
                    .get(usize::from(packet.track.index))
                    .with_context(|| format!("{}: the file has no such track", at()))?;
                s.es.write_frame(&packet.data, &mut es).with_context(at)?;
                (s.pid, s.stream_id, true)
            }
        };
        let mut head = Vec::with_capacity(pes::MAX_HEADER_LEN);
        pes::pes_header(&mut head, stream_id, pts_90k, dts_90k, es.len(), bounded)
            .with_context(at)?;

        let pcr_now = dts_90k.wrapping_sub(PCR_DELAY_90K);
        let stale = self.pcr_due
            || self
                .last_pcr_90k
                .is_none_or(|last| pcr_now - last >= PCR_REFRESH_90K);
        let mut first = pes::FirstPacket {
            pcr_base_90k: None,
            random_access: packet.keyframe,
        };
        if pid == self.pcr_pid {
            if stale || packet.keyframe && packet.track == Track::VIDEO {
                first.pcr_base_90k = Some(self.next_pcr(pcr_now));
            }
        } else if stale {
            let pcr = self.next_pcr(pcr_now);
            let cc = self.pcr_stream_cc();
            out.write_all(&pes::pcr_only_packet(self.pcr_pid, cc, pcr))?;
        }
        let i = usize::from(packet.track.index);
        let cc = match packet.track.kind {
            TrackKind::Video => self.video.get_mut(i).map(|s| &mut s.cc),
            TrackKind::Audio => self.audio.get_mut(i).map(|s| &mut s.cc),
        }
        .with_context(at)?;
        pes::write_pes(out, pid, cc, [&head, &es], first).with_context(at)?;
        self.pes = es;
        Ok(())
    }

    /// A PCR no earlier than the last one: interleaving may put a packet with an earlier DTS
    /// after a later one, and the PCR must not step back.
    fn next_pcr(&mut self, pcr_now: i64) -> i64 {
        let pcr = self.last_pcr_90k.map_or(pcr_now, |last| last.max(pcr_now));
        self.last_pcr_90k = Some(pcr);
        self.pcr_due = false;
        pcr
    }

    fn pcr_stream_cc(&self) -> u8 {
        let video = self.video.first().map(|s| (s.pid, s.cc));
        let audio = self.audio.first().map(|s| (s.pid, s.cc));
        video
            .into_iter()
            .chain(audio)
            .find_map(|(pid, cc)| (pid == self.pcr_pid).then_some(cc))
            .unwrap_or(15)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::ts::{STREAM_TYPE_AAC, STREAM_TYPE_H264, STREAM_TYPE_MPEG2_AUDIO};
    use crate::media::{AudioCodec, AudioConfig, VideoCodec, VideoConfig};

    /// avcC with one SPS and one PPS (contents opaque to the writer), 4-byte NAL lengths.
    const AVCC: [u8; 17] = [
        1, 0x64, 0, 0x1E, 0xFF, 0xE1, 0, 4, 0x67, 0x64, 0, 0x1E, 1, 0, 2, 0x68, 0xEE,
    ];

    fn config(video: bool, audio: Option<AudioCodec>) -> CodecConfig {
        CodecConfig {
            more_video: Vec::new(),
            video: video.then(|| VideoConfig {
                flv_track: None,
                codec: VideoCodec::H264,
                record: AVCC.to_vec(),
                width: 0,
                height: 0,
                flv_signal: Default::default(),
            }),
            audio: audio.map(|codec| AudioConfig {
                codec,
                specific: if codec == AudioCodec::Aac {
                    vec![0x12, 0x10]
                } else {
                    vec![]
                },
                sample_rate: if codec == AudioCodec::Aac {
                    44_100
                } else {
                    22_050
                },
                channels: 2,
                flv_sound_byte: 0,
                flv_track: None,
            }),
            video_built: None,
            more_audio: Vec::new(),
        }
    }

    use crate::testutil::fixtures::packet;

    const SLICE: [u8; 6] = [0, 0, 0, 2, 0x65, 0x88];

    /// PIDs and adaptation-field PCR flags of the written packets.
    fn pcr_packets(ts: &[u8]) -> Vec<(u16, bool)> {
        ts.chunks(PACKET_LEN)
            .map(|p| {
                let pid = u16::from_be_bytes([p[1] & 0x1F, p[2]]);
                let pcr = p[3] & 0x20 != 0 && p[4] > 0 && p[5] & 0x10 != 0;
                (pid, pcr)
            })
            .collect()
    }

    #[test]
    fn sparse_video_gets_pcr_only_packets_between_audio_frames() {
        let mut w = TsWriter::new(&config(true, Some(AudioCodec::Aac))).unwrap();
        let mut out = Vec::new();
        w.start_segment(&mut out).unwrap();
        w.write_packet(&packet(TrackKind::Video, 0, true, &SLICE), &mut out)
            .unwrap();
        // 1 fps video: audio every 23 ms carries the clock in between.
        for i in 1..10 {
            w.write_packet(&packet(TrackKind::Audio, i * 23, true, &[1, 2]), &mut out)
                .unwrap();
        }
        let pk = pcr_packets(&out);
        assert_eq!(
            &pk[..3],
            &[(PAT_PID, false), (PMT_PID, false), (VIDEO_PID, true)]
        );
        let pcr_only: Vec<usize> = (0..pk.len())
            .filter(|&i| pk[i] == (VIDEO_PID, true) && i > 2)
            .collect();
        // At 46, 92, 138, 184 ms: each time the last PCR is 40 ms old.
        assert_eq!(pcr_only.len(), 4);
        assert!(pk.iter().all(|&(pid, pcr)| !pcr || pid == VIDEO_PID));
    }

    #[test]
    fn stream_types_follow_ffmpeg() {
        let w = TsWriter::new(&config(false, Some(AudioCodec::Mp3))).unwrap();
        assert_eq!(w.audio[0].stream_type, STREAM_TYPE_MPEG2_AUDIO);
        assert_eq!(w.pcr_pid, AUDIO_PID);
        let w = TsWriter::new(&config(true, Some(AudioCodec::Aac))).unwrap();
        assert_eq!(w.video[0].stream_type, STREAM_TYPE_H264);
        assert_eq!(w.audio[0].stream_type, STREAM_TYPE_AAC);
        assert!(TsWriter::new(&config(false, None)).is_err());
    }

    #[test]
    fn bad_packets_are_errors_naming_the_packet() {
        let mut w = TsWriter::new(&config(true, None)).unwrap();
        let mut out = Vec::new();
        let e = w
            .write_packet(&packet(TrackKind::Audio, 5, true, &[1]), &mut out)
            .unwrap_err();
        assert!(
            format!("{e:#}").contains("audio packet at DTS 5 ms"),
            "{e:#}"
        );
        let e = w
            .write_packet(
                &packet(TrackKind::Video, 7, true, &[0, 0, 1, 0, 0x65]),
                &mut out,
            )
            .unwrap_err();
        assert!(format!("{e:#}").contains("NALUnitLength"), "{e:#}");
        assert!(out.is_empty());
    }

    #[test]
    fn extreme_timestamps_wrap_instead_of_panicking() {
        let mut w = TsWriter::new(&config(true, Some(AudioCodec::Aac))).unwrap();
        let mut out = Vec::new();
        for dts_90k in [
            i64::MAX - 5,
            i64::MIN,
            -1,
            crate::container::ts::WRAP_90K * 3 + 7,
        ] {
            let mut p = packet(TrackKind::Video, 0, true, &SLICE);
            p.dts_90k = dts_90k;
            p.cts_90k = i32::MAX;
            w.write_packet(&p, &mut out).unwrap();
            p.track = crate::media::Track::AUDIO;
            p.data = vec![1];
            w.write_packet(&p, &mut out).unwrap();
        }
        assert_eq!(out.len() % PACKET_LEN, 0);
    }

    #[test]
    fn arbitrary_payloads_never_panic() {
        let mut w = TsWriter::new(&config(true, Some(AudioCodec::Aac))).unwrap();
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut out = Vec::new();
        for i in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 600) as usize;
            let data: Vec<u8> = (0..len).map(|k| (seed >> (k % 57)) as u8).collect();
            let track = if seed & 1 == 0 {
                TrackKind::Video
            } else {
                TrackKind::Audio
            };
            let mut p = packet(track, i, seed & 2 == 0, &data);
            p.cts_90k = (seed >> 40) as i32 % 9000 - 4500;
            let _ = w.write_packet(&p, &mut out);
        }
        assert_eq!(out.len() % PACKET_LEN, 0);
    }
}

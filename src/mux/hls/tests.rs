//! End-to-end checks of the HLS writer on the committed fixtures: our own transport stream
//! reader (framing, PAT/PMT, continuity, PCR, payloads) and ffprobe/ffmpeg (timestamps,
//! keyframes, decodability).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use super::*;
use crate::codec;
use crate::container::ts::TS_OFFSET_90K;
use crate::media::{CodecConfig, TrackKind};
use crate::mux::ts::{AUDIO_PID, VIDEO_PID};
use crate::mux::{FileOpen, Format, MuxOptions};
use crate::testutil::fixtures::{
    SHOW_PUSHES, SHOW_START_MS, START_MS, first_session, mux_sessions, splice_after,
};
use crate::testutil::{have_ffprobe, probe_packets, scratch, testdata};

mod flv_walk;
mod fmp4;
mod ts_demux;

use flv_walk::Flv;

/// Writes one recording file from sessions of packets; returns what `finish` reports.
fn record(
    dir: &Path,
    config: &CodecConfig,
    segment_90k: i64,
    sessions: &[(SessionStart, &[Packet])],
) -> Produced {
    record_with(dir, config, &ts_options(segment_90k), sessions)
}

fn ts_options(segment_90k: i64) -> MuxOptions {
    MuxOptions {
        hls_segment_90k: segment_90k,
        ..MuxOptions::default()
    }
}

/// Reads fixture `name` and records it as one session from `START_MS` into a scratch directory
/// of its own: the fixture, the directory and what `finish` reports.
fn record_fixture(name: &str, options: &MuxOptions) -> (Flv, PathBuf, Produced) {
    static RECORDED: AtomicUsize = AtomicUsize::new(0);
    let flv = flv_walk::read(&testdata(name));
    let dir = scratch(&format!("hls-fixture-{}", RECORDED.fetch_add(1, Relaxed)));
    let sessions = [(first_session(START_MS), &flv.packets[..])];
    let produced = record_with(&dir, &flv.config, options, &sessions);
    (flv, dir, produced)
}

/// [`record`] with every mux option given.
fn record_with(
    dir: &Path,
    config: &CodecConfig,
    options: &MuxOptions,
    sessions: &[(SessionStart, &[Packet])],
) -> Produced {
    let open = |f: &FileOpen<'_>| crate::mux::open(Format::Hls, f).unwrap();
    mux_sessions(open, (dir, "show"), config, options, sessions, "show-rec")
}

fn segments_of(produced: &Produced) -> Vec<Vec<u8>> {
    produced
        .parts
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

/// Checks every packet of `flv` (shifted by `file_dts_90k`) against the demuxed stream: timing
/// shifted by the TS offset only, keyframes flagged, payloads equal once the added bytes are
/// removed. `pes` are the demuxed PES of one track, in order.
fn check_track(flv: &Flv, track: TrackKind, file_dts_90k: i64, pes: &[&ts_demux::Pes]) {
    let src: Vec<&Packet> = flv
        .packets
        .iter()
        .filter(|p| p.track.kind == track)
        .collect();
    assert_eq!(src.len(), pes.len(), "{track} packet count");
    for (i, (s, o)) in src.iter().zip(pes).enumerate() {
        assert_eq!(
            o.dts_90k,
            s.dts_90k + file_dts_90k + TS_OFFSET_90K,
            "{track} {i} dts"
        );
        assert_eq!(
            o.pts_90k,
            s.pts_90k() + file_dts_90k + TS_OFFSET_90K,
            "{track} {i} pts"
        );
        assert_eq!(o.random_access, s.keyframe, "{track} {i} keyframe");
        match track {
            TrackKind::Audio => {
                assert_eq!(&o.data[..2], &[0xFF, 0xF1], "ADTS syncword, MPEG-4, no CRC");
                let frame_len = (usize::from(o.data[3] & 3) << 11)
                    | (usize::from(o.data[4]) << 3)
                    | usize::from(o.data[5] >> 5);
                assert_eq!(frame_len, o.data.len(), "aac_frame_length");
                assert_eq!(&o.data[7..], &s.data[..], "audio {i} payload");
            }
            TrackKind::Video => {
                let mut out = ts_demux::annexb_nals(&o.data);
                assert_eq!(out.remove(0), [0x09, 0xF0], "video {i}: AUD first");
                let src_nals: Vec<Vec<u8>> = codec::nal_units(&s.data, flv.nal_length_size)
                    .map(|n| n.unwrap().to_vec())
                    .collect();
                let in_band = src_nals.iter().any(|n| n[0] & 0x1F == 7);
                if s.keyframe && !in_band {
                    // The record's SPS and PPS, as the avcC holds them.
                    let avc = codec::h264::parse_avcc(&flv.config.video.as_ref().unwrap().record)
                        .unwrap();
                    let sets: Vec<Vec<u8>> = avc.sps.into_iter().chain(avc.pps).collect();
                    let inserted: Vec<Vec<u8>> = out.drain(..sets.len()).collect();
                    assert_eq!(
                        inserted, sets,
                        "video {i}: parameter sets before the keyframe"
                    );
                }
                assert_eq!(out, src_nals, "video {i} NAL units");
            }
        }
    }
}

/// The demuxed PES of one PID, in order.
fn pes_of(d: &ts_demux::Demuxed, pid: u16) -> Vec<&ts_demux::Pes> {
    d.pes.iter().filter(|p| p.pid == pid).collect()
}

/// ffprobe sees the same per-stream timing and keyframes as the source, shifted by one constant;
/// ffmpeg decodes the playlist without a message.
fn ffprobe_agrees(playlist: &Path, sources: &[&Packet]) {
    if !have_ffprobe() {
        return;
    }
    let probed = probe_packets(playlist);
    for (kind, track) in [("video", TrackKind::Video), ("audio", TrackKind::Audio)] {
        let got: Vec<_> = probed.iter().filter(|p| p.codec_type == kind).collect();
        let want: Vec<_> = sources.iter().filter(|p| p.track.kind == track).collect();
        assert_eq!(got.len(), want.len(), "ffprobe {kind} packet count");
        let Some((g0, w0)) = got.first().zip(want.first()) else {
            continue;
        };
        let shift = g0.dts_ms.unwrap() - w0.dts_90k / 90;
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.dts_ms.unwrap() - w.dts_90k / 90, shift, "{kind} dts");
            assert_eq!(g.pts_ms.unwrap() - w.pts_90k() / 90, shift, "{kind} pts");
            assert_eq!(g.keyframe, w.keyframe, "{kind} keyframe flag");
        }
    }
    crate::testutil::assert_decodes_cleanly(playlist);
}

fn playlist_of(produced: &Produced) -> m3u8_rs::MediaPlaylist {
    let text = std::fs::read(&produced.path).unwrap();
    m3u8_rs::parse_media_playlist_res(&text).unwrap()
}

#[test]
fn studio_b_frames_are_carried_packet_exact() {
    let (flv, dir, produced) = record_fixture("studio-1764072000.flv", &ts_options(10 * 90_000));
    assert_eq!(produced.path, dir.join("show-rec.m3u8"));
    assert_eq!(produced.parts.len(), 3);
    assert_eq!(produced.parts[0], dir.join("show-1764072000-0.ts"));
    let segments = segments_of(&produced);
    let total: u64 = segments.iter().map(|s| s.len() as u64).sum();
    assert_eq!(produced.total_size, produced.size + total);
    assert!(produced.written);

    let d = ts_demux::demux(&segments);
    assert_eq!(d.pcr_pid, VIDEO_PID);
    assert_eq!(d.streams, [(0x1B, VIDEO_PID), (0x0F, AUDIO_PID)]);
    check_track(&flv, TrackKind::Video, 0, &pes_of(&d, VIDEO_PID));
    check_track(&flv, TrackKind::Audio, 0, &pes_of(&d, AUDIO_PID));
    // Each segment opens with a keyframe carrying a PCR; PCRs are at most 100 ms apart.
    for seg in 0..segments.len() {
        let first = pes_of(&d, VIDEO_PID)
            .into_iter()
            .find(|p| p.segment == seg)
            .unwrap();
        assert!(first.random_access, "segment {seg} starts with a keyframe");
    }
    for w in d.pcrs.windows(2) {
        assert!(w[1].1 - w[0].1 <= 9_000, "PCR gap {} → {}", w[0].1, w[1].1);
    }
    assert_eq!(d.pcrs[0].1, TS_OFFSET_90K - crate::mux::ts::PCR_DELAY_90K);

    let pl = playlist_of(&produced);
    assert_eq!(pl.segments.len(), 3);
    // The last segment runs to the end of the last audio frame, a little past 30 s.
    assert_eq!(pl.segments[2].duration, 10.08);
    assert_eq!(pl.target_duration, 11);
    assert!(pl.segments.iter().all(|s| !s.discontinuity));
    assert_eq!(pl.segments[0].uri, "show-1764072000-0.ts");
    let durations: Vec<f32> = pl.segments.iter().map(|s| s.duration).collect();
    assert_eq!(&durations[..2], &[10.0, 10.0]);
    let pdt: Vec<i64> = pl
        .segments
        .iter()
        .map(|s| s.program_date_time.unwrap().timestamp_millis())
        .collect();
    assert_eq!(
        pdt,
        [1_764_072_000_000, 1_764_072_010_000, 1_764_072_020_000]
    );
    let text = std::fs::read_to_string(&produced.path).unwrap();
    assert!(text.contains("#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n"));

    ffprobe_agrees(&produced.path, &flv.packets.iter().collect::<Vec<_>>());
}

/// A fixture of one track: its stream alone in the PMT, the PCR on it, its packets carried
/// exact.
#[test]
fn one_track_fixtures_carry_their_track_alone() {
    for (name, segment_s, kind, stream_type, pid) in [
        ("radio-1764072000.flv", 4, TrackKind::Audio, 0x0F, AUDIO_PID),
        (
            "silent-1764072000.flv",
            5,
            TrackKind::Video,
            0x1B,
            VIDEO_PID,
        ),
    ] {
        let (flv, _, produced) = record_fixture(name, &ts_options(segment_s * 90_000));
        let kinds: Vec<TrackKind> = flv.config.tracks().map(|t| t.kind).collect();
        assert_eq!(kinds, [kind], "{name}");
        let d = ts_demux::demux(&segments_of(&produced));
        assert_eq!(d.pcr_pid, pid, "{name}");
        assert_eq!(d.streams, [(stream_type, pid)], "{name}");
        check_track(&flv, kind, 0, &pes_of(&d, pid));
        ffprobe_agrees(&produced.path, &flv.packets.iter().collect::<Vec<_>>());
    }
}

#[test]
fn radio_audio_only_cuts_at_any_packet() {
    let (_, _, produced) = record_fixture("radio-1764072000.flv", &ts_options(4 * 90_000));
    let pl = playlist_of(&produced);
    assert_eq!(pl.segments.len(), 5);
    for s in &pl.segments[..4] {
        // Cut at the first AAC frame at or after 4 s: within one frame (~23 ms).
        assert!((4.0..4.03).contains(&s.duration), "{}", s.duration);
    }
}

/// The two committed pushes of `show` as one file's sessions, the second spliced right after
/// the first one's last packet (+40 ms) on the file timeline.
struct TwoPushes {
    a: Flv,
    b: Flv,
    b_packets: Vec<Packet>,
    b_start: SessionStart,
}

fn two_pushes() -> TwoPushes {
    let [a, b] = SHOW_PUSHES.map(|p| flv_walk::read(&testdata(p)));
    let (b_start, b_packets) = splice_after(&a.packets, &b.packets, SHOW_START_MS + 70_000);
    TwoPushes {
        a,
        b,
        b_packets,
        b_start,
    }
}

impl TwoPushes {
    fn sessions(&self) -> [(SessionStart, &[Packet]); 2] {
        [
            (first_session(SHOW_START_MS), &self.a.packets[..]),
            (self.b_start.clone(), &self.b_packets[..]),
        ]
    }
}

#[test]
fn spliced_session_gets_one_discontinuity_and_its_wall_clock() {
    let pushes = two_pushes();
    let (a, b, b_packets) = (&pushes.a, &pushes.b, &pushes.b_packets);
    let b_start_90k = pushes.b_start.file_dts_90k;
    let sessions = pushes.sessions();
    let dir = scratch("hls-splice");
    let produced = record(&dir, &a.config, 4 * 90_000, &sessions);
    let text = std::fs::read_to_string(&produced.path).unwrap();
    assert_eq!(text.matches("#EXT-X-DISCONTINUITY\n").count(), 1);
    let pl = playlist_of(&produced);
    let at = pl.segments.iter().position(|s| s.discontinuity).unwrap();
    let pdt = |i: usize| pl.segments[i].program_date_time.unwrap().timestamp_millis();
    assert_eq!(pdt(0), 1_764_075_600_000);
    assert_eq!(pdt(1), 1_764_075_604_000);
    assert_eq!(pdt(at), 1_764_075_670_000);
    assert_eq!(pdt(at + 1), 1_764_075_674_000);
    // The spliced session's first segment starts where the first session's media ended.
    let before: f32 = pl.segments[..at].iter().map(|s| s.duration).sum();
    assert!((before - b_start_90k as f32 / 90_000.0).abs() < 0.001);

    let d = ts_demux::demux(&segments_of(&produced));
    let video = pes_of(&d, VIDEO_PID);
    let audio = pes_of(&d, AUDIO_PID);
    let a_video = a
        .packets
        .iter()
        .filter(|p| p.track.kind == TrackKind::Video)
        .count();
    let a_audio = a
        .packets
        .iter()
        .filter(|p| p.track.kind == TrackKind::Audio)
        .count();
    check_track(a, TrackKind::Video, 0, &video[..a_video]);
    check_track(a, TrackKind::Audio, 0, &audio[..a_audio]);
    check_track(b, TrackKind::Video, b_start_90k, &video[a_video..]);
    check_track(b, TrackKind::Audio, b_start_90k, &audio[a_audio..]);
    let all: Vec<&Packet> = a.packets.iter().chain(b_packets).collect();
    ffprobe_agrees(&produced.path, &all);
}

#[test]
fn output_is_deterministic_and_reruns_are_idempotent() {
    let flv = flv_walk::read(&testdata("push/show-1764075980.flv"));
    let sessions = [(first_session(1_764_075_980_000), &flv.packets[..])];
    let one = scratch("hls-det-1");
    let two = scratch("hls-det-2");
    let p1 = record(&one, &flv.config, 4 * 90_000, &sessions);
    let p2 = record(&two, &flv.config, 4 * 90_000, &sessions);
    assert_eq!(p1.md5, p2.md5);
    assert_eq!(segments_of(&p1), segments_of(&p2));
    let again = record(&one, &flv.config, 4 * 90_000, &sessions);
    assert!(!again.written);
    assert_eq!(again.md5, p1.md5);
    // Only the playlist and its segments: no temporary file left.
    assert_eq!(std::fs::read_dir(&one).unwrap().count(), 1 + p1.parts.len());
}

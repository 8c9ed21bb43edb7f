//! fMP4 HLS segments checked packet-exact by ffprobe (timestamps, key flags, payload MD5s),
//! and the playlist's `EXT-X-MAP`, version and discontinuities.

use md5::Digest;

use super::*;
use crate::mux::hls::SegmentChoice;

fn fmp4_options(segment_90k: i64) -> MuxOptions {
    MuxOptions {
        hls_segment_90k: segment_90k,
        hls_segments: SegmentChoice::Fmp4,
    }
}

/// ffprobe's packets of `playlist` equal `sources` per track: one constant shift of DTS and PTS,
/// the same key flags, sizes and payload MD5s; ffmpeg decodes it without a message.
fn ffprobe_agrees_exactly(playlist: &Path, sources: &[&Packet]) {
    if !have_ffprobe() {
        return;
    }
    ffprobe_agrees(playlist, sources);
    let probed = probe_packets(playlist);
    for (kind, track) in [("video", TrackKind::Video), ("audio", TrackKind::Audio)] {
        let got: Vec<_> = probed.iter().filter(|p| p.codec_type == kind).collect();
        let want: Vec<_> = sources.iter().filter(|p| p.track.kind == track).collect();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            let md5 = crate::sink::local::hex(&md5::Md5::digest(&w.data));
            assert_eq!(g.size, w.data.len() as u64, "{kind} {i} size");
            assert_eq!(g.hash, format!("MD5:{md5}"), "{kind} {i} payload");
        }
    }
}

#[test]
fn h264_aac_fmp4_segments_are_packet_exact() {
    let (flv, dir, produced) = record_fixture("studio-1764072000.flv", &fmp4_options(10 * 90_000));
    // The init segment first, then the media segments.
    assert_eq!(produced.parts[0], dir.join("show-1764072000-init.mp4"));
    assert_eq!(produced.parts[1], dir.join("show-1764072000-0.m4s"));
    assert_eq!(produced.parts.len(), 4);
    let total: u64 = segments_of(&produced).iter().map(|s| s.len() as u64).sum();
    assert_eq!(produced.total_size, produced.size + total);
    let text = std::fs::read_to_string(&produced.path).unwrap();
    assert!(text.starts_with("#EXTM3U\n#EXT-X-VERSION:6\n"), "{text}");
    assert_eq!(
        text.matches("#EXT-X-MAP:URI=\"show-1764072000-init.mp4\"\n")
            .count(),
        1
    );
    let pl = playlist_of(&produced);
    assert_eq!(pl.segments.len(), 3);
    assert_eq!(pl.segments[2].duration, 10.08);
    let sources: Vec<&Packet> = flv.packets.iter().collect();
    ffprobe_agrees_exactly(&produced.path, &sources);
}

#[test]
fn hevc_fmp4_segments_are_packet_exact() {
    let (flv, _, produced) = record_fixture("hevc/cdn-1764072000.flv", &fmp4_options(2 * 90_000));
    assert!(produced.parts.len() > 2, "{:?}", produced.parts);
    assert!(produced.parts[0].ends_with("show-1764072000-init.mp4"));
    // The init segment carries the source's hvcC bytes.
    let init = std::fs::read(&produced.parts[0]).unwrap();
    let record = &flv.config.video.as_ref().unwrap().record;
    assert!(init.windows(record.len()).any(|w| w == &record[..]));
    let sources: Vec<&Packet> = flv.packets.iter().collect();
    ffprobe_agrees_exactly(&produced.path, &sources);
}

#[test]
fn h264_stays_ts_under_auto() {
    let flv = flv_walk::read(&testdata("studio-1764072000.flv"));
    assert_eq!(
        SegmentChoice::Auto.resolve(&flv.config),
        crate::mux::hls::SegmentFormat::Ts
    );
    let hevc = flv_walk::read(&testdata("hevc/cdn-1764072000.flv")).config;
    assert_eq!(
        SegmentChoice::Ts.resolve(&hevc),
        crate::mux::hls::SegmentFormat::Ts
    );
    assert_eq!(
        SegmentChoice::Fmp4.resolve(&flv.config),
        crate::mux::hls::SegmentFormat::Fmp4
    );
}

#[test]
fn fmp4_splice_has_one_discontinuity_and_one_map() {
    let pushes = two_pushes();
    let (a, b_packets) = (&pushes.a, &pushes.b_packets);
    let sessions = pushes.sessions();
    let dir = scratch("hls-fmp4-splice");
    let produced = record_with(&dir, &a.config, &fmp4_options(4 * 90_000), &sessions);
    let text = std::fs::read_to_string(&produced.path).unwrap();
    assert_eq!(text.matches("#EXT-X-DISCONTINUITY\n").count(), 1, "{text}");
    assert_eq!(text.matches("#EXT-X-MAP:").count(), 1, "{text}");
    let sources: Vec<&Packet> = a.packets.iter().chain(b_packets).collect();
    ffprobe_agrees_exactly(&produced.path, &sources);
}

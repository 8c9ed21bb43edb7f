//! Enhanced RTMP v2 as a push sends it, read and written back tag for tag: a second video track
//! in OneTrack Multitrack tags under its track id, and ModEx TimestampOffsetNano on video and
//! audio tags (FFmpeg 8 writes no ModEx, so the tags are built here).

use super::tests::mux;
use super::*;
use crate::input::flv::TagKind;
use crate::media::*;
use crate::testutil::{flv_tags, read_flv, scratch};

const AVCC: [u8; 5] = [1, 0x64, 0, 0x0D, 0xFF];
const AVCC_1: [u8; 5] = [1, 0x42, 0, 0x0A, 0xFF];
const ASC: [u8; 2] = [0x12, 0x10];
const IDR: [u8; 6] = [0, 0, 0, 2, 0x65, 0x88];
const SLICE: [u8; 6] = [0, 0, 0, 2, 0x41, 0x9A];

/// An FLV file of these tags (type, timestamp, data).
fn flv(tags: &[(u8, u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = tag::file_header(true, true).to_vec();
    for (tag_type, ts_ms, data) in tags {
        tag::write_tag(&mut out, *tag_type, *ts_ms, &[], data).unwrap();
    }
    out
}

/// The push's tags: track 0 of H.264 in legacy tags, track 1 in OneTrack Multitrack tags under
/// id 1, E-RTMP AAC audio; a ModEx of 999 999 ns before track 1's keyframe, of 500 ns before
/// an audio frame.
fn push() -> Vec<(u8, u32, Vec<u8>)> {
    let v = tag::TAG_VIDEO;
    let a = tag::TAG_AUDIO;
    vec![
        (v, 0, [&[0x17, 0, 0, 0, 0][..], &AVCC].concat()),
        (v, 0, [&[0x96, 0x00][..], b"avc1", &[1], &AVCC_1].concat()),
        (a, 0, [&[0x90][..], b"mp4a", &ASC].concat()),
        (v, 0, [&[0x17, 1, 0, 0, 0][..], &IDR].concat()),
        (
            v,
            0,
            [
                &[0x97, 2, 0x0F, 0x42, 0x3F, 0x06, 0x01][..],
                b"avc1",
                &[1, 0, 0, 0],
                &IDR,
            ]
            .concat(),
        ),
        (
            a,
            10,
            [&[0x97, 2, 0, 0x01, 0xF4, 0x01][..], b"mp4a", &[0x21]].concat(),
        ),
        (v, 40, [&[0x27, 1, 0, 0, 0][..], &SLICE].concat()),
        (
            v,
            40,
            [&[0xA6, 0x01][..], b"avc1", &[1, 0, 0, 0], &SLICE].concat(),
        ),
    ]
}

#[test]
fn multitrack_video_and_mod_ex_are_written_as_received() {
    let dir = scratch("flv-writer-multitrack-video");
    let input = dir.join("push.flv");
    let tags = push();
    std::fs::write(&input, flv(&tags)).unwrap();
    let (config, packets) = read_flv(&input);
    std::fs::remove_file(&input).unwrap();

    // Two video tracks, the second with its id; the ModEx offsets on their packets.
    let tracks: Vec<_> = config
        .video_tracks()
        .map(|(t, v)| (t, v.flv_track))
        .collect();
    assert_eq!(tracks, [(Track::VIDEO, None), (Track::video(1), Some(1))]);
    assert_eq!(config.more_video[0].record, AVCC_1);
    let seen: Vec<_> = packets.iter().map(|p| (p.track, p.offset_ns)).collect();
    assert_eq!(
        seen,
        [
            (Track::VIDEO, 0),
            (Track::video(1), 999_999),
            (Track::AUDIO, 500),
            (Track::VIDEO, 0),
            (Track::video(1), 0),
        ]
    );

    let produced = mux(&dir, &config, &packets);
    let (_, out) = flv_tags(&std::fs::read(&produced.path).unwrap());
    assert_eq!(out[0].kind, TagKind::Script);
    let written: Vec<_> = out[1..]
        .iter()
        .map(|t| (t.timestamp_ms, t.data.clone()))
        .collect();
    let mut expected: Vec<_> = tags.into_iter().map(|(_, ts, d)| (ts, d)).collect();
    // An end of sequence for each video track, each in its track's form.
    expected.push((40, vec![0x17, 2, 0, 0, 0]));
    expected.push((40, [&[0x96, 0x02][..], b"avc1", &[1]].concat()));
    assert_eq!(written, expected);
}

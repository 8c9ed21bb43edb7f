//! The rules on the reference's worked examples and their edges.

use super::*;

const H: i64 = 3600 * 1000;
const M: i64 = 60 * 1000;

/// H.264 + AAC, the picture `width` wide (a different width is a different configuration).
fn av(width: u32) -> CodecConfig {
    let mut config = crate::testutil::fixtures::h264_aac();
    if let Some(v) = config.video.as_mut() {
        v.record.push(width as u8);
        v.width = width;
    }
    config
}

/// An engine that cuts files at `slice_ms`, the other settings the defaults.
fn sliced(slice_ms: i64) -> Engine {
    Engine::new(Settings {
        slice_ms,
        ..Settings::default()
    })
}

/// An engine that appends a push starting within `splice_window_ms` of the last one's end.
fn splicing_within(splice_window_ms: i64) -> Engine {
    Engine::new(Settings {
        splice_window_ms,
        ..Settings::default()
    })
}

fn audio_only() -> CodecConfig {
    CodecConfig {
        video: None,
        ..av(320)
    }
}

/// Feeds a push of `len_ms` with 1 fps video (a keyframe every `gop_ms`) and audio every
/// 500 ms, starting at session DTS `dts0_ms`. Returns the placements' files in order.
fn push(e: &mut Engine, wall_ms: i64, len_ms: i64, gop_ms: i64, cfg: &CodecConfig) -> Vec<u32> {
    let dts0 = 5_000;
    e.begin_session(wall_ms, cfg);
    let mut files = Vec::new();
    let mut t = 0;
    while t < len_ms {
        if cfg.video.is_some()
            && t % 1000 == 0
            && let Placement::Write { file, .. } =
                e.packet(MediaTrack::VIDEO, (dts0 + t) * 90, t % gop_ms == 0)
        {
            files.push(file);
        }
        if let Placement::Write { file, .. } = e.packet(MediaTrack::AUDIO, (dts0 + t) * 90, true) {
            files.push(file);
        }
        t += 500;
    }
    e.end_session();
    files
}

fn closes(e: &mut Engine) -> Vec<(Reason, i64, i64, i64)> {
    e.drain_decisions()
        .filter_map(|d| match d {
            Decision::Close {
                reason,
                wall_start_ms,
                wall_end_ms,
                len_90k,
                ..
            } => Some((reason, wall_start_ms, wall_end_ms, to_ms(len_90k))),
            _ => None,
        })
        .collect()
}

fn close_reasons(e: &mut Engine) -> Vec<Reason> {
    closes(e).into_iter().map(|c| c.0).collect()
}

fn opens(decisions: &[Decision]) -> Vec<Reason> {
    decisions
        .iter()
        .filter_map(|d| match d {
            Decision::Open { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect()
}

#[test]
fn six_hour_push_with_two_hour_slices_gives_three_files() {
    let mut e = sliced(2 * H);
    let t0 = 1_585_829_187_000;
    push(&mut e, t0, 6 * H, 2000, &av(320));
    e.finish();
    let c = closes(&mut e);
    assert_eq!(c.len(), 3, "{c:?}");
    assert_eq!(c[0], (Reason::Slice, t0, t0 + 2 * H, 2 * H));
    assert_eq!(c[1], (Reason::Slice, t0 + 2 * H, t0 + 4 * H, 2 * H));
    assert_eq!(c[2].0, Reason::EndOfInput);
    assert_eq!(c[2].1, t0 + 4 * H);
    assert_eq!(c[2].2, t0 + 6 * H);
}

#[test]
fn eleven_hour_push_with_ten_hour_period_is_one_file_then_a_new_one_after_resume() {
    let mut e = Engine::new(Settings {
        slice_ms: 24 * H,
        period_ms: Some(10 * H),
        ..Settings::default()
    });
    let t0 = 1_600_000_000_000;
    let first = push(&mut e, t0, 11 * H, 2000, &av(320));
    assert!(
        first.iter().all(|&f| f == 0),
        "a continuous push is never cut by the period"
    );
    // Resume after one minute, well inside the splice window.
    let second = push(&mut e, t0 + 11 * H + M, 10 * M, 2000, &av(320));
    assert!(second.iter().all(|&f| f == 1));
    e.finish();
    let c = closes(&mut e);
    assert_eq!(c.len(), 2);
    assert_eq!(c[0].0, Reason::PeriodExceeded);
    assert_eq!(c[0].3, 11 * H);
    assert_eq!(c[1].0, Reason::EndOfInput);
}

#[test]
fn splice_window_three_minutes_appends_after_two_not_after_four() {
    for (gap, spliced) in [
        (2 * M, true),
        (4 * M, false),
        (3 * M, true),
        (3 * M + 1, false),
    ] {
        let mut e = Engine::new(Settings::default());
        let t0 = 1_700_000_000_000;
        push(&mut e, t0, 10 * M, 2000, &av(320));
        let later = push(&mut e, t0 + 10 * M + gap, 5 * M, 2000, &av(320));
        e.finish();
        let decisions: Vec<Decision> = e.drain_decisions().collect();
        let appended = decisions
            .iter()
            .any(|d| matches!(d, Decision::Append { gap_ms, .. } if *gap_ms == gap));
        assert_eq!(appended, spliced, "gap {gap}: {decisions:#?}");
        assert_eq!(later[0], if spliced { 0 } else { 1 });
        if !spliced {
            assert_eq!(opens(&decisions), [Reason::FirstPush, Reason::GapExceeded]);
        }
    }
}

#[test]
fn appended_session_continues_the_timeline_without_the_gap() {
    let mut e = Engine::new(Settings::default());
    let t0 = 1_700_000_000_000;
    push(&mut e, t0, 10_000, 2000, &av(320));
    e.begin_session(t0 + 70_000, &av(320));
    // The second push's own DTS starts anywhere; in the file it follows the first's end.
    let Placement::Write { file_dts_90k, .. } = e.packet(MediaTrack::VIDEO, 123_456, true) else {
        panic!("keyframe placed");
    };
    // First push: last video at 9 s (+1 s), last audio at 9.5 s (+0.5 s) → ends at 10 s.
    assert_eq!(to_ms(file_dts_90k), 10_000);
    e.end_session();
    e.finish();
    let c = closes(&mut e);
    // Name spans wall clock from the first push's start to the second's end.
    assert_eq!(c, [(Reason::EndOfInput, t0, t0 + 70_000, 10_000)]);
}

#[test]
fn gap_is_measured_from_the_end_of_the_previous_push() {
    let mut e = splicing_within(60_000);
    let t0 = 1_700_000_000_000;
    push(&mut e, t0, 10_000, 2000, &av(320));
    // Starts 70 s after the first began: the gap is 60 s, exactly the window.
    push(&mut e, t0 + 70_000, 10_000, 2000, &av(320));
    e.finish();
    let d: Vec<Decision> = e.drain_decisions().collect();
    assert!(
        d.iter()
            .any(|d| matches!(d, Decision::Append { gap_ms: 60_000, .. })),
        "{d:#?}"
    );
}

/// A second push after a first of 10 s that it cannot append to: a new file, for the reason
/// given.
#[test]
fn a_second_push_that_cannot_append_opens_a_new_file() {
    // (case, engine, the second push's wall clock start, length and picture width, reason)
    let cases = [
        (
            "a zero splice window never splices",
            splicing_within(0),
            10_000,
            10_000,
            320,
            Reason::GapExceeded,
        ),
        (
            // The first ends before its next keyframe could cut it.
            "a resume into a file at the slice length",
            sliced(10_000),
            20_000,
            4_000,
            320,
            Reason::SliceExceededAtResume,
        ),
        (
            "a codec change at resume",
            Engine::new(Settings::default()),
            20_000,
            10_000,
            640,
            Reason::CodecChange,
        ),
    ];
    for (case, mut e, wall_ms, len_ms, width, reason) in cases {
        push(&mut e, 0, 10_000, 2000, &av(320));
        push(&mut e, wall_ms, len_ms, 2000, &av(width));
        e.finish();
        let reasons = close_reasons(&mut e);
        assert_eq!(reasons, [reason, Reason::EndOfInput], "{case}");
    }
}

#[test]
fn audio_only_slices_on_any_packet() {
    let mut e = sliced(10_000);
    push(&mut e, 0, 30_000, 2000, &audio_only());
    e.finish();
    let c = closes(&mut e);
    assert_eq!(c.len(), 3);
    assert!(
        c[..2].iter().all(|c| c.0 == Reason::Slice && c.3 == 10_000),
        "{c:?}"
    );
}

#[test]
fn slice_waits_for_the_next_keyframe() {
    let mut e = sliced(3_000);
    // Keyframes every 4 s: the 3 s slice is reached at 3 s, the cut happens at 4 s.
    push(&mut e, 0, 12_000, 4000, &av(320));
    e.finish();
    let c = closes(&mut e);
    assert_eq!(
        c.iter().map(|c| c.3).collect::<Vec<_>>(),
        [4_000, 4_000, 4_000]
    );
}

#[test]
fn slice_reached_inside_a_session_that_later_resumes() {
    let mut e = sliced(10_000);
    // 14 s push: cut at 10 s, the second file holds 4 s and is held at the end.
    push(&mut e, 0, 14_000, 2000, &av(320));
    // Resume 30 s later: the held 4 s file is short enough, so the resume appends to it.
    let files = push(&mut e, 44_000, 4_000, 2000, &av(320));
    assert!(files.iter().all(|&f| f == 1));
    e.finish();
    let c = closes(&mut e);
    assert_eq!(
        c.iter().map(|c| (c.0, c.3)).collect::<Vec<_>>(),
        [(Reason::Slice, 10_000), (Reason::EndOfInput, 8_000)]
    );
}

#[test]
fn codec_change_inside_a_session_cuts_and_waits_for_a_keyframe() {
    let mut e = Engine::new(Settings::default());
    e.begin_session(0, &av(320));
    for i in 0..10 {
        e.packet(MediaTrack::VIDEO, i * 90_000, i % 2 == 0);
    }
    e.config_change(&av(640));
    assert_eq!(
        e.packet(MediaTrack::VIDEO, 10 * 90_000, false),
        Placement::DropBeforeKeyframe
    );
    assert_eq!(
        e.packet(MediaTrack::VIDEO, 11 * 90_000, true),
        Placement::Write {
            file: 1,
            file_dts_90k: 0,
            raised_90k: 0
        }
    );
    e.finish();
    let d: Vec<Decision> = e.drain_decisions().collect();
    assert_eq!(opens(&d), [Reason::FirstPush, Reason::CodecChange]);
}

/// An audio track that first appears late, its first frames stamped before video already
/// written: the new file begins where the closed one ended, never before it.
#[test]
fn a_late_track_stamped_before_the_cut_is_dropped_and_files_do_not_overlap() {
    let video_only = CodecConfig {
        audio: None,
        ..av(320)
    };
    let mut e = Engine::new(Settings::default());
    e.begin_session(1_000_000, &video_only);
    for i in 0..=100 {
        e.packet(MediaTrack::VIDEO, i * 3_600, i % 50 == 0);
    }
    // The closed file's media ends one frame after its last packet, at 4.04 s.
    e.config_change(&av(320));
    assert_eq!(
        e.packet(MediaTrack::AUDIO, 45_000, true),
        Placement::DropBeforeCut
    );
    assert_eq!(
        e.packet(MediaTrack::AUDIO, 101 * 3_600 - 1, true),
        Placement::DropBeforeCut
    );
    assert_eq!(
        e.packet(MediaTrack::AUDIO, 101 * 3_600, true),
        Placement::Write {
            file: 1,
            file_dts_90k: 0,
            raised_90k: 0
        }
    );
    // A packet before the cut stays dropped once the new file is open.
    assert_eq!(
        e.packet(MediaTrack::AUDIO, 90_000, true),
        Placement::DropBeforeCut
    );
    e.finish();
    let c = closes(&mut e);
    assert_eq!(
        c,
        [
            (Reason::CodecChange, 1_000_000, 1_004_040, 4_040),
            (Reason::EndOfInput, 1_004_040, 1_004_040, 0),
        ]
    );
}

#[test]
fn file_starts_with_a_keyframe() {
    let mut e = Engine::new(Settings::default());
    e.begin_session(0, &av(320));
    assert_eq!(
        e.packet(MediaTrack::VIDEO, 0, false),
        Placement::DropBeforeKeyframe
    );
    // Audio before the first keyframe is kept.
    assert!(matches!(
        e.packet(MediaTrack::AUDIO, 90, true),
        Placement::Write { .. }
    ));
    assert!(matches!(
        e.packet(MediaTrack::VIDEO, 3600, true),
        Placement::Write { .. }
    ));
}

#[test]
fn reasons_print_as_documented() {
    let all = [
        (Reason::FirstPush, "first-push"),
        (Reason::Slice, "slice"),
        (Reason::Spliced, "spliced"),
        (Reason::GapExceeded, "gap-exceeded"),
        (Reason::PeriodExceeded, "period-exceeded"),
        (Reason::SliceExceededAtResume, "slice-exceeded-at-resume"),
        (Reason::CodecChange, "codec-change"),
        (Reason::EndOfInput, "end-of-input"),
    ];
    for (r, s) in all {
        assert_eq!(r.to_string(), s);
    }
}

/// One session of 25 fps video and 23 ms audio frames, the audio starting `audio_after_ms` after
/// the video; returns the file DTS (ms) of its first video and first audio packet.
fn av_session(e: &mut Engine, dts0_ms: i64, audio_after_ms: i64, len_ms: i64) -> (i64, i64) {
    let starts = TrackStarts {
        video_90k: Some(dts0_ms * 90),
        audio_90k: Some((dts0_ms + audio_after_ms) * 90),
    };
    e.begin_session_at(0, &av(320), starts);
    let (mut v, mut a) = (0, audio_after_ms);
    let mut first = (None, None);
    while v < len_ms || a < len_ms {
        let (track, t) = if v <= a {
            (MediaTrack::VIDEO, v)
        } else {
            (MediaTrack::AUDIO, a)
        };
        let Placement::Write { file_dts_90k, .. } =
            e.packet(track, (dts0_ms + t) * 90, t % 1000 == 0)
        else {
            panic!("placed");
        };
        match track.kind {
            TrackKind::Video => {
                first.0.get_or_insert(to_ms(file_dts_90k));
                v += 40;
            }
            TrackKind::Audio => {
                first.1.get_or_insert(to_ms(file_dts_90k));
                a += 23;
            }
        }
    }
    e.end_session();
    (first.0.unwrap(), first.1.unwrap())
}

#[test]
fn an_appended_slice_continues_the_video_exactly_though_its_audio_ran_past_it() {
    let mut e = Engine::new(Settings::default());
    // 10 s of video (last frame 9.96 s + 40 ms); audio from 0 to 9.982 s + 23 ms = 10.005 s.
    av_session(&mut e, 0, 0, 10_000);
    // The next slice begins with its keyframe; its audio 5 ms later, continuing the first's.
    let (video, audio) = av_session(&mut e, 77_000, 5, 4_000);
    assert_eq!((video, audio), (10_000, 10_005));
}

#[test]
fn pushes_whose_tracks_end_apart_join_after_every_track_ends() {
    let mut e = Engine::new(Settings::default());
    // Audio runs 0.2 s past the video (video 0..4 s, audio 0..4.2 s).
    let starts = TrackStarts {
        video_90k: Some(0),
        audio_90k: Some(0),
    };
    e.begin_session_at(0, &av(320), starts);
    for i in 0..100 {
        e.packet(MediaTrack::VIDEO, i * 40 * 90, i % 25 == 0);
    }
    for i in 0..=182 {
        e.packet(MediaTrack::AUDIO, i * 23 * 90, true);
    }
    e.end_session();
    // The next push starts both tracks together: the video waits for the audio's end.
    let (video, audio) = av_session(&mut e, 0, 0, 2_000);
    assert_eq!((video, audio), (182 * 23 + 23, 182 * 23 + 23));
}

#[test]
fn a_packet_before_its_files_first_is_raised_to_it_and_says_by_how_much() {
    let mut e = Engine::new(Settings::default());
    e.begin_session(0, &av(320));
    let write = |file_dts_90k, raised_90k| Placement::Write {
        file: 0,
        file_dts_90k,
        raised_90k,
    };
    assert_eq!(e.packet(MediaTrack::VIDEO, 9_000, true), write(0, 0));
    // Audio decoded 0.1 s before the keyframe, but read after it.
    assert_eq!(e.packet(MediaTrack::AUDIO, 0, true), write(0, 9_000));
    assert_eq!(
        e.packet(MediaTrack::AUDIO, 9_000 + 2_070, true),
        write(2_070, 0)
    );
}

/// A push with a second video track: files are cut at keyframes of the first only, and each
/// video track's first packet in a file is a keyframe of its own.
#[test]
fn a_second_video_track_waits_for_its_own_keyframe() {
    let mut config = av(320);
    config.more_video.push(config.video.clone().unwrap());
    let mut e = sliced(10_000);
    e.begin_session(0, &config);
    let second = MediaTrack::video(1);
    let file = |p| match p {
        Placement::Write { file, .. } => Some(file),
        Placement::DropBeforeKeyframe | Placement::DropBeforeCut => None,
    };
    // Track 1's inter frames wait for its own keyframe, before track 0's and after it.
    assert_eq!(file(e.packet(MediaTrack::VIDEO, 0, false)), None);
    assert_eq!(file(e.packet(second, 0, false)), None);
    assert_eq!(file(e.packet(MediaTrack::VIDEO, 3_600, true)), Some(0));
    assert_eq!(file(e.packet(second, 3_600, false)), None);
    assert_eq!(file(e.packet(second, 7_200, true)), Some(0));
    // Past the slice length, track 1's keyframe cuts nothing; track 0's does, and track 1 waits
    // again in the new file.
    let late = 11 * 90_000;
    assert_eq!(file(e.packet(second, late, true)), Some(0));
    assert_eq!(
        file(e.packet(MediaTrack::VIDEO, late + 3_600, true)),
        Some(1)
    );
    assert_eq!(file(e.packet(second, late + 7_200, false)), None);
    assert_eq!(file(e.packet(second, late + 10_800, true)), Some(1));
}
